"""Before the meeting: the case list goes to the agencies' representatives 4 working days
ahead, and 1 working day ahead each agency that has sent nothing for a case is reminded
(002). Both are due at 09:00 local time and are claimed once per meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from dialogs.people import people_with
from dialogs.scheduling import calendar_in
from storage.models import (
    Agency,
    AgencyInformation,
    Case,
    Marac,
    Meeting,
    Person,
    Role,
)

DUE_AT = time(9, 0)
CASE_LIST_READERS = (Role.AGENCY_REPRESENTATIVE, Role.CHAIR, Role.COORDINATOR)


@dataclass(frozen=True)
class CaseListEntry:
    number: str
    first_name: str
    reasons: tuple[str, ...]
    closed_panel: bool
    repeat: bool


@dataclass(frozen=True)
class CaseList:
    marac: Marac
    meeting: Meeting
    entries: tuple[CaseListEntry, ...]
    recipients: tuple[int, ...]  # person ids


@dataclass(frozen=True)
class Reminder:
    marac: Marac
    meeting: Meeting
    agency: str
    case_numbers: tuple[str, ...]
    recipients: tuple[int, ...]


def case_list_due_at(marac: Marac, meeting: Meeting) -> datetime:
    return _working_days_before(marac.timezone, marac.bank_holidays, meeting.starts_at,
                                marac.case_list_lead_working_days)


def reminders_due_at(marac: Marac, meeting: Meeting) -> datetime:
    return _working_days_before(marac.timezone, marac.bank_holidays, meeting.starts_at,
                                marac.agency_deadline_working_days)


def _working_days_before(timezone: str, bank_holidays: str, starts_at: datetime, days: int
                         ) -> datetime:
    zone = ZoneInfo(timezone)
    day = calendar_in(bank_holidays).before(starts_at.astimezone(zone).date(), days)
    return datetime.combine(day, DUE_AT, tzinfo=zone)


async def claim_due_case_lists(session: AsyncSession, now: datetime) -> list[CaseList]:
    """Case lists now due, each marked as sent so that no one sends it twice."""
    due = []
    for meeting, marac in await _due(session, now, Meeting.case_list_sent_at,
                                     Marac.case_list_lead_working_days):
        due.append(await circulate(session, marac, meeting, now))
    return due


async def circulate(session: AsyncSession, marac: Marac, meeting: Meeting, now: datetime
                    ) -> CaseList:
    """The case list of one meeting, marked sent (also for `publish agenda` on demand)."""
    meeting.case_list_sent_at = now
    return await case_list_of(session, marac, meeting,
                              await people_with(session, marac.id, CASE_LIST_READERS))


async def case_list_of(session: AsyncSession, marac: Marac, meeting: Meeting,
                       recipients: tuple[int, ...]) -> CaseList:
    """The meeting's case list for these people (a deputy named in apologies, too)."""
    cases = await _cases(session, meeting)
    entries = tuple(CaseListEntry(
        c.number, c.victim_first_name,
        tuple(c.referral.qualifying_reasons) if c.referral else (),
        c.closed_panel, bool(c.referral and c.referral.repeat_of_id),
    ) for c in cases)
    return CaseList(marac, meeting, entries, await _signed_only(session, recipients))


async def _signed_only(session: AsyncSession, readers: tuple[int, ...]) -> tuple[int, ...]:
    """The case list names victims: like the plan, it goes to no one whose agency has not
    signed the information sharing agreement."""
    unsigned = set((await session.scalars(
        select(Person.id).join(Agency, Agency.id == Person.agency_id)
        .where(Person.id.in_(readers), Agency.signed_sharing_agreement.is_(False)))).all())
    return tuple(p for p in readers if p not in unsigned)


async def claim_due_reminders(session: AsyncSession, now: datetime) -> list[Reminder]:
    reminders = []
    for meeting, marac in await _due(session, now, Meeting.reminders_sent_at,
                                     Marac.agency_deadline_working_days):
        meeting.reminders_sent_at = now
        reminders += await _missing_information(session, marac, meeting)
    return reminders


async def _missing_information(session: AsyncSession, marac: Marac, meeting: Meeting
                               ) -> list[Reminder]:
    cases = await _cases(session, meeting)
    sent = set((await session.execute(
        select(AgencyInformation.case_id, AgencyInformation.agency_id)
        .where(AgencyInformation.case_id.in_([c.id for c in cases])))).tuples().all())
    reminders = []
    for agency in (await session.scalars(
            select(Agency).where(Agency.marac_id == marac.id).order_by(Agency.id))).all():
        missing = tuple(c.number for c in cases if (c.id, agency.id) not in sent)
        people = await people_with(session, marac.id, (Role.AGENCY_REPRESENTATIVE,), agency.id)
        if missing and people:
            reminders.append(Reminder(marac, meeting, agency.name, missing, people))
    return reminders


async def _due(session: AsyncSession, now: datetime,
               sent_column: InstrumentedAttribute[datetime | None],
               lead_days: InstrumentedAttribute[int]) -> list[tuple[Meeting, Marac]]:
    """Meetings to come whose message (`sent_column`, unset) is due `lead_days` working days
    ahead, each locked (SKIP LOCKED: one replica claims it) and read afresh. The meetings
    not yet due are read as a few columns and not locked: a tick holds up no press or
    command on them, however many MARACs it serves."""
    upcoming = (await session.execute(
        select(Meeting.id, Meeting.starts_at, Marac.timezone, Marac.bank_holidays,
               lead_days.label("days")).join(Marac, Marac.id == Meeting.marac_id)
        .where(Meeting.starts_at > now, sent_column.is_(None)))).all()
    due = [row.id for row in upcoming if _working_days_before(
        row.timezone, row.bank_holidays, row.starts_at, row.days) <= now]
    if not due:
        return []
    rows = await session.execute(
        select(Meeting, Marac).join(Marac, Marac.id == Meeting.marac_id)
        .where(Meeting.id.in_(due), sent_column.is_(None))
        .order_by(Meeting.starts_at).with_for_update(of=Meeting, skip_locked=True)
        .execution_options(populate_existing=True))
    return [(meeting, marac) for meeting, marac in rows.tuples().all()]


async def _cases(session: AsyncSession, meeting: Meeting) -> list[Case]:
    cases = (await session.scalars(
        select(Case).where(Case.meeting_id == meeting.id)
        .options(selectinload(Case.referral))
        .order_by(Case.closed_panel, Case.slot))).all()
    return list(cases)
