"""From a typed message to one reply: parse, check the command table, run the command."""

from __future__ import annotations

import logging

from botbuilder.schema import Activity

from bot import commands
from bot.access import NotThisTenant, audit, context_of, refusal
from bot.circulation import publish_case_list
from bot.commands import Place
from bot.conversation import command_text, tenant_of
from bot.meeting import MEETING_HANDLERS
from bot.people import PEOPLE_HANDLERS
from bot.plan_actions import PLAN_HANDLERS
from bot.posts import Post
from bot.referral_views import referral_form, triage_view
from bot.registration import REGISTRATION_HANDLERS
from bot.replies import card_reply, text_reply
from bot.request import CommandHandler, Request
from cards import notice
from cards.agenda import agenda_card
from cards.help import help_card
from dialogs.agenda import next_agenda
from dialogs.clock import Clock
from dialogs.replay import first_delivery
from storage.database import Store
from storage.models import Role

log = logging.getLogger(__name__)


def is_command(activity: Activity) -> bool:
    """A typed message that names a command (handle_message opens a unit of work for it)."""
    return bool(commands.parse(command_text(activity)).name)


async def handle_message(activity: Activity, store: Store, clock: Clock,
                         tenants: frozenset[str] | None = None) -> list[Post]:
    """With `tenants` (the allow-list), the tenant is checked in the command's one unit of
    work: a tenant the bot does not serve is told so, and that unit of work is rolled back."""
    typed = commands.parse(command_text(activity))
    if not typed.name:
        return []
    try:
        return await _run_command(activity, typed, store, clock, tenants)
    except NotThisTenant:
        log.info("refused an activity from tenant %s", tenant_of(activity))
        return [Post(text_reply(notice.not_this_tenant()))]


async def _run_command(activity: Activity, typed: commands.ParsedCommand, store: Store,
                       clock: Clock, tenants: frozenset[str] | None) -> list[Post]:
    async with store.unit_of_work() as session:
        if activity.id and not await first_delivery(session, activity.conversation.id,
                                                     activity.id, clock.now()):
            if tenants is not None:  # a replay is answered as the first delivery was
                await context_of(session, activity, tenants=tenants)
            return []  # Teams delivered it again: it was answered the first time
        command = commands.find(typed.name)
        context = await context_of(session, activity, command, tenants=tenants)
        if command is None:
            listed = commands.available(context.actor.roles, context.place)
            return [Post(text_reply(notice.unknown_command(
                typed.name, commands.closest(typed.name, listed))))]
        refused = refusal(command, context)
        subject = _subject(typed.arguments)
        await audit(session, context, activity, command.name, clock.now(), subject=subject,
                    refused=refused)
        if refused is not None:
            return [Post(text_reply(refused))]
        request = Request(session, context, typed.arguments, clock, activity)
        reply = await HANDLERS[command.name](request)
    return reply if isinstance(reply, list) else [Post(reply)]


def _subject(arguments: str) -> str:
    """A case number named in the command, for the audit trail; nothing else is kept."""
    first = arguments.split(maxsplit=1)[0] if arguments.strip() else ""
    return first if first.count("-") == 2 and first[-1:].isdigit() else ""


async def _help(request: Request) -> Activity:
    context = request.context
    listed = commands.available(context.actor.roles, context.place)
    roles = sorted(role.label for role in context.actor.roles)
    return card_reply(help_card([(c.usage, c.summary) for c in listed], roles,
                                context.place.value), "Help")


async def _agenda(request: Request) -> Activity:
    agenda = await next_agenda(request.session, request.marac_id, request.clock.now())
    entitled = request.context.actor.roles - {Role.OBSERVER}  # observers get no case papers
    return card_reply(agenda_card(
        agenda, detailed=request.context.place is Place.PERSONAL and bool(entitled)), "Agenda")


async def _refer(request: Request) -> Activity:
    return card_reply(await referral_form(request.session, request.marac_id,
                                          request.context.actor.person_id, request.clock.now()),
                      "Referral form")


async def _triage(request: Request) -> Activity:
    return card_reply(await triage_view(request.session, request.marac_id), "Triage")


async def _import(request: Request) -> Activity:
    return text_reply("Send me the police feed as a CSV file in this chat and I will import "
                      "it; the first line must name the columns.")


async def _publish(request: Request) -> Activity:
    if request.arguments.strip().lower() != "agenda":
        return text_reply("Type **publish agenda** to circulate the next meeting's case list.")
    now = request.clock.now()
    published = await publish_case_list(request.session, request.marac_id, now)
    if published is None:
        return text_reply("There is no meeting coming up to circulate a case list for.")
    return text_reply(f"The case list of {len(published.entries)} cases is on its way to "
                      f"{len(published.recipients)} people.")


HANDLERS: dict[str, CommandHandler] = {
    "help": _help, "agenda": _agenda, "refer": _refer, "triage": _triage, "import": _import,
    "publish": _publish, **MEETING_HANDLERS, **PEOPLE_HANDLERS,
    **PLAN_HANDLERS, **REGISTRATION_HANDLERS,
}
