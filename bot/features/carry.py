"""The chair's **Carry into this plan** on a repeat hearing's full case view: an unfinished
action of the last plan becomes an action of this meeting, with the due date given on the
card (dialogs.carry). Answers with the case view again, the action now among this plan's."""

from __future__ import annotations

from sqlalchemy import select

from bot.turns.press import InvokeAnswer, Press, card_answer
from bot.turns.registry import CHAIRS, MEETING_PLACES, button
from cards.meeting import case_details_card
from dialogs import case_work, closed_panel
from dialogs import meeting as run
from dialogs.carry import carry
from dialogs.ids import row_id
from dialogs.meeting import MeetingError
from dialogs.scheduling import local_today
from storage.models import Case, Marac


@button("case.carry", "Carry an unfinished action of the last plan into this one.",
        roles=CHAIRS, places=MEETING_PLACES)
async def _carry(press: Press) -> InvokeAnswer:
    meeting = await run.must_be_under_way(press.session, press.arrival.place, press.marac_id)
    marac = await press.session.get_one(Marac, meeting.marac_id)
    case = await press.session.scalar(select(Case).where(
        Case.meeting_id == meeting.id, Case.number == str(press.data.get("case"))))
    if case is None:
        raise MeetingError("That case is not on this meeting's agenda.")
    if not closed_panel.may_see(case, press.context.actor.roles, press.context.actor.person_id):
        raise MeetingError(closed_panel.refusal(case))
    earlier = row_id(press.data.get("earlier"))
    if earlier is None:
        raise MeetingError("That button does not name an action of the last plan.")
    due = press.data.get("carry_due")
    now = press.clock.now()
    await carry(press.session, case, earlier, due if isinstance(due, str) else "",
                press.context.actor.roles, press.context.actor.person_id,
                local_today(marac, now))
    details = await case_work.view(press.session, case, marac.id)
    return card_answer(case_details_card(details, run.slot_of(marac, meeting, case, now)))
