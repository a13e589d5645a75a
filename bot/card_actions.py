"""Card buttons (Universal Actions, `Action.Execute`): check the command table, run the
dialog, answer with the refreshed card. A refusal or bad payload answers in one sentence and
changes nothing; pressing the same button twice does nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession

from bot import commands
from bot.access import NotThisTenant, audit, context_of, pressed_marac, refusal
from bot.conversation import tenant_of
from bot.meeting_actions import MEETING_BUTTONS
from bot.plan_actions import PLAN_BUTTONS
from bot.press import InvokeAnswer, Press, card_answer, message_answer
from bot.referral_views import referral_form, triage_view
from bot.subject_access_export import SUBJECT_ACCESS_BUTTONS
from cards.notice import not_this_tenant, unknown_button
from cards.referral import referral_summary_card
from dialogs import triage
from dialogs.clock import Clock
from dialogs.dash import BY_KEY, Answer
from dialogs.ids import row_id
from dialogs.referrals import ReferralError, read_form, submit, submitted_from
from dialogs.scheduling import local_today
from dialogs.triage import TriageError
from storage.database import Store, lock_marac
from storage.models import Agency, Marac

log = logging.getLogger(__name__)


def pressed(activity: Activity) -> tuple[commands.Command, dict[str, Any]] | None:
    """The button of an adaptiveCard/action invoke and its data, if it is an Action.Execute
    of a button the bot knows (handle_card_action opens a unit of work for it); else None."""
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("action")
    if activity.name != "adaptiveCard/action" or not isinstance(action, dict) or (
            action.get("type") != "Action.Execute"):
        return None
    verb, data = action.get("verb"), action.get("data")
    button = commands.find_action(verb) if isinstance(verb, str) else None
    return None if button is None or not isinstance(data, dict) else (button, data)


async def handle_card_action(activity: Activity, action: dict[str, Any], store: Store,
                             clock: Clock, tenants: frozenset[str] | None = None
                             ) -> tuple[InvokeAnswer, list[tuple[str, Activity]], list[Activity]]:
    """The answer to the presser, the shared cards to update for everyone, and new messages
    for the presser's conversation.

    With `tenants` (the allow-list), the tenant is checked in the press's one unit of work: a
    tenant the bot does not serve is told so, and that unit of work is rolled back."""
    verb = action.get("verb")
    data = action.get("data")
    button = commands.find_action(verb) if isinstance(verb, str) else None
    if button is None or not isinstance(data, dict):
        return message_answer(unknown_button()), [], []
    try:
        async with store.unit_of_work() as session:
            context = await context_of(session, activity, tenants=tenants,
                                       named=await pressed_marac(session, activity, data))
            refused = refusal(button, context)
            subject = str(data.get("case") or data.get("case_number")
                          or data.get("referral_id") or "")
            await audit(session, context, activity, button.name, clock.now(), subject=subject,
                        refused=refused)
            if refused is not None:
                return message_answer(refused), [], []
            press = Press(session, context, data, activity.reply_to_id or "", clock, activity)
            answer = await BUTTONS[button.name](press)
    except NotThisTenant:
        log.info("refused an activity from tenant %s", tenant_of(activity))
        return message_answer(not_this_tenant()), [], []
    return answer, press.updates, press.posts


async def _count(press: Press) -> InvokeAnswer:
    answers = [press.data.get(key) for key in BY_KEY]
    yes = sum(1 for answer in answers if answer == Answer.YES.value)
    return card_answer(await referral_form(press.session, press.marac_id, press.person_id,
                                           press.clock.now(), press.data, yes))


async def _submit(press: Press) -> InvokeAnswer:
    session, now = press.session, press.clock.now()
    # Submits queue up per MARAC, so a double-click finds the first submission's referral.
    marac = await lock_marac(session, press.marac_id)
    card_key = f"{press.activity.conversation.id}:{press.message_id}" if press.message_id else None
    if card_key and (done := await submitted_from(session, card_key)):
        return card_answer(referral_summary_card(done, await _agency_name(session, done)))
    nested = await session.begin_nested()
    try:
        form = read_form(press.data, local_today(marac, now))
        submission = await submit(session, marac, form, press.person_id, now,
                                  source_message_id=card_key)
    except ReferralError as error:
        await nested.rollback()
        return card_answer(await referral_form(session, marac.id, press.person_id, now,
                                               press.data, problem=str(error)))
    await nested.commit()
    referral = submission.referral
    return card_answer(referral_summary_card(referral, await _agency_name(session, referral)))


async def _agency_name(session: AsyncSession, referral: Any) -> str:
    return (await session.get_one(Agency, referral.referring_agency_id)).name


def _referral_id(press: Press) -> int:
    referral_id = row_id(press.data.get("referral_id"))
    if referral_id is None:
        raise TriageError("That button does not name a referral.")
    return referral_id


def _note(press: Press) -> str:
    value = press.data.get(f"note_{_referral_id(press)}", "")
    return value.strip()[:500] if isinstance(value, str) else ""


async def _triage(press: Press, decide: Callable[[Press, int], Awaitable[str]]
                  ) -> InvokeAnswer:
    nested = await press.session.begin_nested()
    try:
        note = await decide(press, _referral_id(press))
    except TriageError as error:
        await nested.rollback()
        note = str(error)
    else:
        await nested.commit()
    return card_answer(await triage_view(press.session, press.marac_id, note))


async def _accept(press: Press, referral_id: int) -> str:
    outcome = await triage.accept(press.session, press.marac_id, referral_id, press.person_id,
                                  press.clock.now())
    placement = outcome.placement
    if placement is None:
        return "That referral was already accepted."
    marac = await press.session.get_one(Marac, press.marac_id)
    when = placement.meeting.starts_at.astimezone(ZoneInfo(marac.timezone))
    listed = (f"Accepted: {placement.case.victim_first_name} is listed as "
              f"{placement.case.number} for the meeting on {when:%A %d %B at %H:%M}.")
    if placement.breaches_target:
        listed += (f" No meeting within {marac.latest_working_days} working days had a free "
                   "slot, so this case breaches the 14-working-day target.")
    return ("Already accepted: " + listed.removeprefix("Accepted: ")
            if outcome.already_decided else listed)


async def _decline(press: Press, referral_id: int) -> str:
    outcome = await triage.decline(press.session, press.marac_id, referral_id, press.person_id,
                                   _note(press), press.clock.now())
    return f"Declined referral {outcome.referral.victim_reference}: {outcome.referral.triage_note}"


async def _more(press: Press, referral_id: int) -> str:
    outcome = await triage.needs_information(press.session, press.marac_id, referral_id,
                                             press.person_id, _note(press), press.clock.now())
    return f"Asked for more information on {outcome.referral.victim_reference}."


async def _same(press: Press, referral_id: int) -> str:
    outcome = await triage.confirm_duplicate(press.session, press.marac_id, referral_id,
                                             press.person_id, press.clock.now())
    return f"Linked {outcome.referral.victim_reference} to the referral it repeats."


async def _separate(press: Press, referral_id: int) -> str:
    outcome = await triage.split_duplicate(press.session, press.marac_id, referral_id,
                                           press.person_id, press.clock.now())
    return f"Kept {outcome.referral.victim_reference} as a separate referral for triage."


def _triaging(decide: Callable[[Press, int], Awaitable[str]]
              ) -> Callable[[Press], Awaitable[InvokeAnswer]]:
    async def run(press: Press) -> InvokeAnswer:
        return await _triage(press, decide)
    return run


BUTTONS: dict[str, Callable[[Press], Awaitable[InvokeAnswer]]] = {
    **MEETING_BUTTONS,
    **PLAN_BUTTONS,
    **SUBJECT_ACCESS_BUTTONS,
    "referral.count": _count,
    "referral.submit": _submit,
    "triage.accept": _triaging(_accept),
    "triage.decline": _triaging(_decline),
    "triage.more": _triaging(_more),
    "triage.same": _triaging(_same),
    "triage.separate": _triaging(_separate),
}
