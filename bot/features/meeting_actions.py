"""Buttons on the meeting's cards: attendance, declarations, and the case card's own
(information, actions, the victim's contact, the full view for those entitled to it)."""

from __future__ import annotations

import hashlib
import json

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
from dialogs import case_work, closed_panel
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


async def _meeting(press: Press) -> tuple[Meeting, Marac]:
    meeting = await run.must_be_under_way(press.session, press.arrival.place, press.marac_id)
    return meeting, await press.session.get_one(Marac, meeting.marac_id)


async def _person(press: Press) -> Person:
    if press.context.actor.person_id is None:
        raise MeetingError("You are not one of this MARAC's people.")
    return await press.session.get_one(Person, press.context.actor.person_id)


async def _case(press: Press, meeting: Meeting) -> Case:
    number = press.data.get("case") or press.data.get("case_number")
    case = await press.session.scalar(select(Case).where(
        Case.meeting_id == meeting.id, Case.number == str(number)))
    if case is None:
        raise MeetingError("That case is not on this meeting's agenda.")
    return case


@button("attendance.confirm", "Confirm attendance.", roles=EVERY_ROLE,
        places=MEETING_PLACES)
async def _confirm(press: Press) -> InvokeAnswer:
    meeting, marac = await _meeting(press)
    person = await _person(press)
    role = _attendance_role(press)
    agency_id = await _attending_agency(press, person, role, marac)
    await run.confirm_attendance(press.session, meeting, person, role, agency_id,
                                 press.clock.now())
    card = await attendance_view(press.session, marac, meeting)
    if meeting.attendance_message_id:
        press.updates.append((meeting.attendance_message_id, card_reply(card, "Attendance")))
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


async def _attending_agency(press: Press, person: Person, role: AttendanceRole, marac: Marac
                            ) -> int | None:
    if role is not AttendanceRole.AGENCY_REPRESENTATIVE:
        return None
    if person.agency_id is not None:  # your agency is the one on record, not the card's
        return person.agency_id
    agency = await press.session.scalar(select(Agency.id).where(
        Agency.marac_id == marac.id, Agency.name == str(press.data.get("agency", ""))))
    if agency is None:
        raise MeetingError("Choose the agency you represent.")
    return agency


@button("attendance.declare", "Declare knowing someone in a case.", roles=EVERY_ROLE,
        places=MEETING_PLACES)
async def _declare(press: Press) -> InvokeAnswer:
    meeting, marac = await _meeting(press)
    person = await _person(press)
    case = await _case(press, meeting)
    now = press.clock.now()
    if await case_work.declare_knowing(press.session, case, person.id, now):
        managers = await people_with(press.session, marac.id, (Role.OPERATIONS_MANAGER,))
        note = text_reply(f"{person.first_name} has declared knowing someone in {case.number} "
                          f"at today's {marac.name}. Please decide how to proceed.",
                          f"Declaration to decide: {case.number}")
        for manager in managers:
            outbox.enqueue(press.session, note, "declaration", now, person_id=manager)
        await _refresh_case_card(press, marac, meeting, case)
    return message_answer("Your declaration is recorded and the operations manager has been "
                          "told privately.")


@button("case.view", "Show a case in full (to those entitled).", roles=EVERY_ROLE,
        places=MEETING_PLACES)
async def _view(press: Press) -> InvokeAnswer:
    meeting, marac = await _meeting(press)
    case = await _case(press, meeting)
    now = press.clock.now()
    if not _entitled(press, case):
        return card_answer(await case_card_view(press.session, marac, meeting, case, now))
    details = await case_work.view(press.session, case, marac.id)
    return card_answer(case_details_card(details, run.slot_of(marac, meeting, case, now)))


def _entitled(press: Press, case: Case) -> bool:
    """Observers get no case papers; a closed panel is seen by the chair and those admitted."""
    roles = press.context.actor.roles
    if case.closed_panel:
        return closed_panel.may_see(case, roles, press.context.actor.person_id)
    return gets_case_papers(roles)


async def _case_to_add_to(press: Press, meeting: Meeting) -> Case:
    """The case, if the closed panel lets this person add to it."""
    case = await _case(press, meeting)
    if not closed_panel.may_see(case, press.context.actor.roles, press.context.actor.person_id):
        raise MeetingError(closed_panel.refusal(case))
    return case


@button("case.information", "Share an agency's information.", roles=REPRESENTATIVES,
        places=MEETING_PLACES)
async def _information(press: Press) -> InvokeAnswer:
    meeting, marac = await _meeting(press)
    person = await _person(press)
    case = await _case_to_add_to(press, meeting)
    if person.agency_id is None:
        raise MeetingError("You are not recorded as representing an agency.")
    text, reason = press.data.get("information"), press.data.get("no_action_reason")
    await case_work.add_information(
        press.session, case, person.agency_id, text if isinstance(text, str) else "",
        str(press.data.get("not_involved", "false")).lower() == "true", person.id,
        press.clock.now(), reason if isinstance(reason, str) else "")
    return await _after_change(press, marac, meeting, case)


@button("case.action", "Add an action.", roles=PLANNERS,
        places=MEETING_PLACES)
async def _action(press: Press) -> InvokeAnswer:
    meeting, marac = await _meeting(press)
    case = await _case_to_add_to(press, meeting)
    agencies = {a.name: a.id for a in (await press.session.scalars(
        select(Agency).where(Agency.marac_id == marac.id))).all()}
    await case_work.may_agree_for(press.session, case, press.context.actor.roles,
                                  press.context.actor.person_id, press.data, agencies)
    await case_work.add_action(press.session, case, press.data, agencies,
                               press.context.actor.person_id,
                               local_today(marac, press.clock.now()), _press_key(press))
    return await _after_change(press, marac, meeting, case)


def _press_key(press: Press) -> str:
    """The same card and the same inputs make the same key: a repeat adds nothing."""
    inputs = json.dumps(press.data, sort_keys=True, default=str)
    return f"{press.message_id}:{hashlib.sha256(inputs.encode()).hexdigest()}"


@button("case.contact", "Name who updates the victim.", roles=CHAIRS,
        places=MEETING_PLACES)
async def _contact(press: Press) -> InvokeAnswer:
    meeting, marac = await _meeting(press)
    case = await _case_to_add_to(press, meeting)
    name = press.data.get("victim_contact")
    case_work.set_victim_contact(case, name if isinstance(name, str) else "")
    return await _after_change(press, marac, meeting, case)


async def _after_change(press: Press, marac: Marac, meeting: Meeting, case: Case
                        ) -> InvokeAnswer:
    await press.session.flush()
    await _refresh_case_card(press, marac, meeting, case)
    details = await case_work.view(press.session, case, marac.id)
    return card_answer(case_details_card(details, run.slot_of(marac, meeting, case,
                                                              press.clock.now())))


async def _refresh_case_card(press: Press, marac: Marac, meeting: Meeting, case: Case) -> None:
    if case.card_message_id:
        card = await case_card_view(press.session, marac, meeting, case, press.clock.now())
        press.updates.append((case.card_message_id, card_reply(card, f"Case {case.number}")))
