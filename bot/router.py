"""From a typed message to one reply: parse, identify the actor, check the command table,
then run the command. The role check lives here and only here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from botbuilder.schema import Activity
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands
from bot.commands import Place
from bot.conversation import command_text, kind_of, seen, tenant_of
from bot.replies import card_reply, text_reply
from cards import notice
from cards.agenda import agenda_card
from cards.help import help_card
from dialogs.actor import Actor, identify
from dialogs.agenda import next_agenda
from dialogs.clock import Clock
from dialogs.installation import marac_of_conversation
from storage.database import Store
from storage.models import RoleGrant


@dataclass(frozen=True)
class Request:
    """One command, with everything a command needs to answer it."""

    session: AsyncSession
    actor: Actor
    marac_id: int | None
    place: Place
    arguments: str
    clock: Clock


CommandHandler = Callable[[Request], Awaitable[Activity]]


async def handle_message(activity: Activity, store: Store, clock: Clock) -> Activity | None:
    typed = commands.parse(command_text(activity))
    if not typed.name:
        return None
    place = Place.of(kind_of(activity))
    async with store.unit_of_work() as session:
        marac_id = await marac_of_conversation(session, seen(activity))
        actor = await identify(
            session,
            tenant_id=tenant_of(activity) or "",
            aad_object_id=activity.from_property.aad_object_id or "",
            display_name=activity.from_property.name or "",
            marac_id=marac_id,
            anywhere=place is Place.PERSONAL,
        )
        refusal = _refusal(typed.name, actor, place)
        if refusal is not None:
            return text_reply(refusal)
        request = Request(session, actor, marac_id, place, typed.arguments, clock)
        return await HANDLERS[typed.name](request)


def _refusal(name: str, actor: Actor, place: Place) -> str | None:
    command = commands.find(name)
    if command is None:
        suggestion = commands.closest(name, commands.available(actor.roles, place))
        return notice.unknown_command(name, suggestion)
    if place not in command.places:
        return notice.not_here(name, sorted(p.value for p in command.places))
    if not command.allows(actor.roles):
        return notice.not_allowed(name, sorted(r.label for r in command.roles or ()))
    return None


async def _help(request: Request) -> Activity:
    listed = commands.available(request.actor.roles, request.place)
    roles = sorted(role.label for role in request.actor.roles)
    return card_reply(help_card([(c.usage, c.summary) for c in listed], roles,
                                request.place.value))


async def _agenda(request: Request) -> Activity:
    marac_id = request.marac_id or await _first_marac_of(request)
    if marac_id is None:
        return text_reply(notice.not_set_up())
    agenda = await next_agenda(request.session, marac_id, request.clock.now())
    return card_reply(agenda_card(agenda))


async def _first_marac_of(request: Request) -> int | None:
    """In personal chat, the MARAC the person serves (the first, if they serve several)."""
    if request.place is not Place.PERSONAL or request.actor.person_id is None:
        return None
    return await request.session.scalar(
        select(RoleGrant.marac_id)
        .where(RoleGrant.person_id == request.actor.person_id)
        .order_by(RoleGrant.marac_id)
        .limit(1)
    )


HANDLERS: dict[str, CommandHandler] = {"help": _help, "agenda": _agenda}
