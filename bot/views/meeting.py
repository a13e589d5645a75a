"""The meeting's cards, filled from the store: each card's data in as few statements as it
takes, selecting the columns the card shows (first names, numbers) rather than whole rows."""

from __future__ import annotations

from datetime import datetime

from adaptive_cards.card import AdaptiveCard
from sqlalchemy import BindParameter, bindparam, exists, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cards.meeting import Present, attendance_card, case_card
from dialogs import case_work
from dialogs import meeting as run
from dialogs.apologies import ApologyLine
from dialogs.case_work import CaseRecord, SharedCase
from storage.database import core
from storage.models import (
    Agency,
    AgencyInformation,
    Apology,
    Attendance,
    AttendanceRole,
    Case,
    Marac,
    Meeting,
    MeetingArrival,
    Person,
)

_MEETING: BindParameter[int] = bindparam("meeting")
_HERE = union(select(Attendance.person_id).where(Attendance.meeting_id == _MEETING),
              select(MeetingArrival.person_id).where(MeetingArrival.meeting_id == _MEETING)
              ).subquery("here")
# Who confirmed (with their agency) and who joined the call unconfirmed, in one statement.
_PEOPLE = (
    select(Person.first_name, Attendance.role, Attendance.confirmed_at,
           Agency.name.label("agency"), MeetingArrival.joined_at,
           MeetingArrival.id.label("arrival_id"))
    .select_from(_HERE).join(Person, Person.id == _HERE.c.person_id)
    .outerjoin(Attendance, (Attendance.person_id == Person.id)
               & (Attendance.meeting_id == _MEETING))
    .outerjoin(Agency, Agency.id == Attendance.agency_id)
    .outerjoin(MeetingArrival, (MeetingArrival.person_id == Person.id)
               & (MeetingArrival.meeting_id == _MEETING)))
_DEPUTY = aliased(Person)
# The MARAC's agencies, core or not, with each one's apologies for the meeting (its deputy's
# first name, and whether it sent information on any of the meeting's cases).
_AGENCIES = (
    select(Agency.name, Agency.is_core, Apology.id.label("apology_id"),
           _DEPUTY.first_name.label("deputy"),
           exists().where(AgencyInformation.agency_id == Agency.id,
                          AgencyInformation.case_id == Case.id,
                          Case.meeting_id == _MEETING).label("sent"))
    .select_from(Agency)
    .outerjoin(Apology, (Apology.agency_id == Agency.id) & (Apology.meeting_id == _MEETING))
    .outerjoin(_DEPUTY, _DEPUTY.id == Apology.deputy_person_id)
    .where(Agency.marac_id == bindparam("marac")).order_by(Agency.id, Apology.id))
_NUMBERS = (select(Case.number).where(Case.meeting_id == _MEETING)
            .order_by(Case.closed_panel, Case.slot))


async def attendance_view(session: AsyncSession, marac: Marac, meeting: Meeting,
                          numbers: list[str] | None = None) -> AdaptiveCard:
    """`numbers`: the agenda's case numbers, when the press has read them already."""
    people = (await core(session, _PEOPLE, {"meeting": meeting.id})).all()
    confirmed = sorted((row for row in people if row.role is not None),
                       key=lambda row: row.confirmed_at)
    joined = [row.first_name for row in sorted(
        (row for row in people if row.role is None), key=lambda row: (row.joined_at,
                                                                       row.arrival_id))]
    agencies = (await core(session, _AGENCIES, {"meeting": meeting.id,
                                                  "marac": marac.id})).all()
    names = list(dict.fromkeys(row.name for row in agencies))
    apologies = [ApologyLine(row.name, row.deputy, bool(row.sent))
                 for row in agencies if row.apology_id is not None]
    represented = {row.agency for row in confirmed if row.agency is not None
                   and row.role is AttendanceRole.AGENCY_REPRESENTATIVE}
    # An agency that sent apologies and its information is accounted for, not missing.
    accounted = represented | {line.agency for line in apologies if line.information_sent}
    core_agencies = list(dict.fromkeys(row.name for row in agencies if row.is_core))
    return attendance_card(
        marac.name,
        [Present(row.first_name, row.agency, row.role.value) for row in confirmed],
        [name for name in core_agencies if name not in accounted],
        names,
        numbers if numbers is not None else list(
            (await core(session, _NUMBERS, {"meeting": meeting.id})).scalars().all()),
        joined,
        [(line.agency, line.text) for line in apologies],
    )


async def case_card_view(session: AsyncSession, marac: Marac | run.SlotRules,
                         meeting: Meeting | run.MeetingToAdvance,
                         case: Case | run.CaseToAdvance,
                         now: datetime, record: CaseRecord | None = None) -> AdaptiveCard:
    """With `record` (what the press has read of the case already), or a case `next` has
    just opened (its card's figures read with it), no statement at all."""
    if isinstance(case, run.CaseToAdvance) and case.card is not None:
        names, (shared, actions, before) = case.card.agencies, (
            case.card.shared, case.card.agreed, case.card.before_meeting)
    elif record is None:
        names, (shared, actions, before) = await case_work.card_counts(session, case, marac.id)
    else:
        names, (shared, actions, before) = record.agency_names, record.counts()
    return case_card(SharedCase.of(case), run.slot_of(marac, meeting, case, now),
                     (shared, actions), names, before)
