"""Buttons on the meeting's cards: attendance, declarations, and the case card's own
(information, actions, the victim's contact, the full view for those entitled to it)."""

from __future__ import annotations

import hashlib
import json

from adaptive_cards.card import AdaptiveCard
from sqlalchemy import select

from bot.proactive import outbox
from bot.turns.press import InvokeAnswer, Press, card_answer, message_answer
from bot.turns.registry import (
    CHAIRS,
    EVERY_ROLE,
    MEETING_PLACES,
    PLANNERS,
    REPRESENTATIVES,
    button,
)
from bot.turns.replies import card_reply, text_reply
from bot.views.meeting import attendance_view, case_card_view
from cards.meeting import case_details_card
from dialogs import case_work, closed_panel, earlier_plan
from dialogs import meeting as run
from dialogs.actor import gets_case_papers
from dialogs.meeting import MeetingError
from dialogs.people import people_with
from dialogs.scheduling import local_today
from storage.models import (
    Agency,
    AttendanceRole,
    Case,
    Marac,
    Meeting,
    Person,
    Role,
)


async def _person(press: Press) -> Person:
    if press.context.actor.person_id is None:
        raise MeetingError("You are not one of this MARAC's people.")
    return await press.session.get_one(Person, press.context.actor.person_id)


async def _case_at(press: Press, lock: str | None = None) -> run.CaseAtMeeting:
    """The case the card names, at the meeting under way here; `lock` as
    dialogs.meeting.case_at_meeting."""
    number = press.data.get("case") or press.data.get("case_number")
    return await run.case_at_meeting(press.session, press.arrival.place, press.marac_id,
                                     str(number), press.context.actor.person_id, lock=lock)


@button("attendance.confirm", "Confirm attendance.", roles=EVERY_ROLE,
        places=MEETING_PLACES, checks_first=True)
async def _confirm(press: Press) -> InvokeAnswer:
    here = await run.meeting_here(press.session, press.arrival.place, press.marac_id,
                                  press.context.actor.person_id)
    person_id = press.context.actor.person_id
    if person_id is None:
        raise MeetingError("You are not one of this MARAC's people.")
    role = _attendance_role(press)
    agency_id = await _attending_agency(press, here.presser_agency, role, here.marac)
    changed = await run.confirm_attendance_once(press.session, here.meeting.id, person_id,
                                                role, agency_id, press.clock.now())
    card = await attendance_view(press.session, here.marac, here.meeting, here.numbers)
    if changed and here.meeting.attendance_message_id:
        press.updates.append((here.meeting.attendance_message_id,
                              card_reply(card, "Attendance")))
    return card_answer(card)


def _attendance_role(press: Press) -> AttendanceRole:
    try:
        role = AttendanceRole(str(press.data.get("role", "")))
    except ValueError as error:
        raise MeetingError("Choose whether you attend as agency representative, chair or "
                           "observer.") from error
    roles = press.context.actor.roles
    if role is AttendanceRole.CHAIR and Role.CHAIR not in roles:
        raise MeetingError("Only the MARAC's chair can attend as chair.")
    if role is AttendanceRole.AGENCY_REPRESENTATIVE and Role.AGENCY_REPRESENTATIVE not in roles:
        raise MeetingError("You are not an agency representative of this MARAC; attend as "
                           "an observer.")
    return role


async def _attending_agency(press: Press, on_record: int | None, role: AttendanceRole,
                            marac: Marac) -> int | None:
    if role is not AttendanceRole.AGENCY_REPRESENTATIVE:
        return None
    if on_record is not None:  # your agency is the one on record, not the card's
        return on_record
    agency = await press.session.scalar(select(Agency.id).where(
        Agency.marac_id == marac.id, Agency.name == str(press.data.get("agency", ""))))
    if agency is None:
        raise MeetingError("Choose the agency you represent.")
    return agency


@button("attendance.declare", "Declare knowing someone in a case.", roles=EVERY_ROLE,
        places=MEETING_PLACES)
async def _declare(press: Press) -> InvokeAnswer:
    meeting, marac, case, _, _ = await _case_at(press, "change")
    person = await _person(press)
    now = press.clock.now()
    if await case_work.declare_knowing(press.session, case, person.id, now):
        managers = await people_with(press.session, marac.id, (Role.OPERATIONS_MANAGER,))
        note = text_reply(f"{person.first_name} has declared knowing someone in {case.number} "
                          f"at today's {marac.name}. Please decide how to proceed.",
                          f"Declaration to decide: {case.number}")
        for manager in managers:
            outbox.enqueue(press.session, note, "declaration", now, person_id=manager)
        await _refresh_case_card(press, marac, meeting, case, None)
    return message_answer("Your declaration is recorded and the operations manager has been "
                          "told privately.")


@button("case.view", "Show a case in full (to those entitled).", roles=EVERY_ROLE,
        places=MEETING_PLACES)
async def _view(press: Press) -> InvokeAnswer:
    found = await _case_at(press)
    now = press.clock.now()
    if not _entitled(press, found.case):
        return card_answer(await case_card_view(press.session, found.marac, found.meeting,
                                                found.case, now))
    record = await case_work.case_record(press.session, found.case, found.marac.id)
    return card_answer(await _details(press, found, record))


def _entitled(press: Press, case: Case) -> bool:
    """Observers get no case papers; a closed panel is seen by the chair and those admitted."""
    roles = press.context.actor.roles
    if case.closed_panel:
        return closed_panel.may_see(case, roles, press.context.actor.person_id)
    return gets_case_papers(roles)


def _may_add_to(press: Press, case: Case) -> None:
    """If the closed panel lets this person add to the case."""
    if not closed_panel.may_see(case, press.context.actor.roles, press.context.actor.person_id):
        raise MeetingError(closed_panel.refusal(case))


@button("case.information", "Share an agency's information.", roles=REPRESENTATIVES,
        places=MEETING_PLACES)
async def _information(press: Press) -> InvokeAnswer:
    # Locked for change: one agency's information is one record, replaced by a second press.
    found = await _case_at(press, "change")
    _may_add_to(press, found.case)
    if found.presser_agency is None:
        raise MeetingError("You are not recorded as representing an agency.")
    text, reason = press.data.get("information"), press.data.get("no_action_reason")
    await case_work.add_information(
        press.session, found.case, found.presser_agency, text if isinstance(text, str) else "",
        str(press.data.get("not_involved", "false")).lower() == "true",
        press.context.actor.person_id, press.clock.now(),
        reason if isinstance(reason, str) else "")
    await press.session.flush()
    return await _after_change(press, found, True)


@button("case.action", "Add an action.", roles=PLANNERS,
        places=MEETING_PLACES, checks_first=True)
async def _action(press: Press) -> InvokeAnswer:
    # Locked for share: actions are added side by side, each once by its key's constraint.
    found = await _case_at(press, "add")
    _may_add_to(press, found.case)
    record = await case_work.case_record(press.session, found.case, found.marac.id)
    actor = press.context.actor
    case_work.may_agree(found.case, actor.roles, found.presser_agency, press.data, record)
    values = case_work.action_values(found.case, press.data, record.agency_ids,
                                     actor.person_id, local_today(found.marac,
                                                                  press.clock.now()),
                                     _press_key(press))
    added = await case_work.add_action_once(press.session, record, values)
    return await _after_change(press, found, added, record)


def _press_key(press: Press) -> str:
    """The same card and the same inputs make the same key: a repeat adds nothing."""
    inputs = json.dumps(press.data, sort_keys=True, default=str)
    return f"{press.message_id}:{hashlib.sha256(inputs.encode()).hexdigest()}"


@button("case.contact", "Name who updates the victim.", roles=CHAIRS,
        places=MEETING_PLACES, checks_first=True)
async def _contact(press: Press) -> InvokeAnswer:
    found = await _case_at(press, "change")
    _may_add_to(press, found.case)
    name = press.data.get("victim_contact")
    case_work.set_victim_contact(found.case, name if isinstance(name, str) else "")
    return await _after_change(press, found, True)


async def _after_change(press: Press, found: run.CaseAtMeeting, changed: bool,
                        record: case_work.CaseRecord | None = None) -> InvokeAnswer:
    """The full case for the presser; the shared case card refreshed only when the press
    changed something (a repeated press waits behind no card update)."""
    record = record or await case_work.case_record(press.session, found.case, found.marac.id)
    if changed:
        await _refresh_case_card(press, found.marac, found.meeting, found.case, record)
    return card_answer(await _details(press, found, record))


async def _details(press: Press, found: run.CaseAtMeeting, record: case_work.CaseRecord
                   ) -> AdaptiveCard:
    earlier = await earlier_plan.outcomes(press.session, found.referral)
    return case_details_card(record.view(found.case, found.referral, earlier),
                             run.slot_of(found.marac, found.meeting, found.case,
                                         press.clock.now()))


async def _refresh_case_card(press: Press, marac: Marac, meeting: Meeting, case: Case,
                             record: case_work.CaseRecord | None) -> None:
    if case.card_message_id:
        card = await case_card_view(press.session, marac, meeting, case, press.clock.now(),
                                    record)
        press.updates.append((case.card_message_id, card_reply(card, f"Case {case.number}")))
