"""Placing an accepted referral: the first meeting 7 to 14 working days after receipt with a
free slot, or else the earliest meeting that has one, flagged as breaching the 14-working-day
target (002)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.working_days import Nation, WorkingCalendar
from storage.models import (
    ActionOrigin,
    Agency,
    Case,
    CaseStatus,
    Marac,
    Meeting,
    PlannedAction,
    Referral,
)

# How far past the window to look for a free slot before giving up: a year of meetings.
SEARCH_DAYS = 366


class SchedulingError(ValueError):
    pass


@dataclass(frozen=True)
class Placement:
    case: Case
    meeting: Meeting
    breaches_target: bool
    window: tuple[date, date]


def calendar_of(marac: Marac) -> WorkingCalendar:
    return calendar_in(marac.bank_holidays)


def calendar_in(bank_holidays: str) -> WorkingCalendar:
    """The working days of the nation whose bank holidays a MARAC keeps (Marac.bank_holidays)."""
    return WorkingCalendar(Nation(bank_holidays))


def local_today(marac: Marac, now: datetime) -> date:
    return day_in(marac.timezone, now)


def day_in(timezone: str, now: datetime) -> date:
    """The date `now` falls on in the MARAC's time zone."""
    return now.astimezone(ZoneInfo(timezone)).date()


async def place(session: AsyncSession, marac: Marac, referral: Referral, now: datetime
                ) -> Placement:
    calendar = calendar_of(marac)
    window = calendar.window(referral.received_on, marac.earliest_working_days,
                             marac.latest_working_days)
    target = calendar.add(referral.received_on, marac.target_working_days)
    for day in meeting_days(marac, calendar, window[0]):
        if starts_at_on(marac, day) <= now:
            continue
        meeting = await _meeting_on(session, marac, day)
        if await _cases_in(session, meeting) >= marac.slots_per_meeting:
            continue
        case = await _list(session, marac, meeting, referral, breaches=day > target)
        return Placement(case, meeting, day > target, window)
    raise SchedulingError("No meeting in the coming year has a free slot.")


async def move_to_next_meeting(session: AsyncSession, marac: Marac, case: Case,
                               meeting: Meeting) -> Meeting:
    """A deferred case goes to the next meeting with a free slot, listed afresh."""
    calendar = calendar_of(marac)
    after = meeting.starts_at.astimezone(ZoneInfo(marac.timezone)).date() + timedelta(days=1)
    for day in meeting_days(marac, calendar, after):
        later = await _meeting_on(session, marac, day)
        if await _cases_in(session, later) < marac.slots_per_meeting:
            last_slot = await session.scalar(
                select(func.max(Case.slot)).where(Case.meeting_id == later.id)) or 0
            case.meeting_id, case.slot = later.id, last_slot + 1
            case.status, case.opened_at, case.closed_at = CaseStatus.LISTED, None, None
            case.paused_seconds = case.extra_seconds = 0
            case.warned_at = case.overrun_at = None
            return later
    raise SchedulingError("No meeting in the coming year has a free slot.")


def meeting_days(marac: Marac, calendar: WorkingCalendar, start: date) -> Iterator[date]:
    """The MARAC's meeting days from `start`: its weekday, when that is a working day."""
    offset = (marac.meeting_weekday - start.weekday()) % 7
    day = start + timedelta(days=offset)
    while day <= start + timedelta(days=SEARCH_DAYS):
        if calendar.is_working_day(day):
            yield day
        day += timedelta(days=7)


def starts_at_on(marac: Marac, day: date) -> datetime:
    return datetime.combine(day, marac.meeting_time, tzinfo=ZoneInfo(marac.timezone))


async def _meeting_on(session: AsyncSession, marac: Marac, day: date) -> Meeting:
    zone = ZoneInfo(marac.timezone)
    starts_at = starts_at_on(marac, day)
    day_start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    meeting = await session.scalar(
        select(Meeting).where(Meeting.marac_id == marac.id, Meeting.starts_at >= day_start,
                              Meeting.starts_at < day_start + timedelta(days=1))
    )
    if meeting is None:
        meeting = Meeting(marac_id=marac.id, starts_at=starts_at)
        session.add(meeting)
        await session.flush()
    return meeting


async def _cases_in(session: AsyncSession, meeting: Meeting) -> int:
    return await session.scalar(
        select(func.count()).select_from(Case).where(Case.meeting_id == meeting.id)) or 0


async def _list(session: AsyncSession, marac: Marac, meeting: Meeting, referral: Referral,
                breaches: bool) -> Case:
    last_slot = await session.scalar(
        select(func.max(Case.slot)).where(Case.meeting_id == meeting.id)) or 0
    case = Case(
        number=await _next_number(session, marac, meeting.starts_at.year),
        meeting_id=meeting.id, slot=last_slot + 1,
        victim_first_name=referral.victim_first_name, referral_id=referral.id,
        closed_panel=referral.honour_based_violence, breaches_target=breaches,
    )
    session.add(case)
    await session.flush()
    await _prepopulate(session, marac, case, referral)
    return case


async def _next_number(session: AsyncSession, marac: Marac, year: int) -> str:
    """The MARAC's next case number of the year; numbers are unique across MARACs, so a
    prefix another MARAC also uses carries on from the highest taken."""
    prefix = f"{marac.case_prefix}-{year}-"
    taken = (await session.scalars(
        select(Case.number).where(Case.number.startswith(prefix)))).all()
    highest = max((int(n.removeprefix(prefix)) for n in taken
                   if n.removeprefix(prefix).isdigit()), default=0)
    return f"{prefix}{highest + 1:03d}"


async def _prepopulate(session: AsyncSession, marac: Marac, case: Case, referral: Referral
                       ) -> None:
    """The plan starts from the referral (002): the core agencies' first steps, and for a
    repeat victim the earlier plan's actions, embedded for information."""
    agencies = {a.name: a.id for a in (await session.scalars(
        select(Agency).where(Agency.marac_id == marac.id))).all()}
    starters = [
        ("IDVA Service", "victim", "Contact the victim to talk through the risks and a safety "
                                   "plan, and bring the victim's voice to the meeting."),
        ("Police", "victim", "Flag the victim's address for an urgent response."),
    ]
    if referral.children_in_household:
        starters.append(("Children's Social Care", "children",
                         "Check whether the children are known and share any safeguarding "
                         "concerns."))
    for agency, for_whom, text in starters:
        session.add(PlannedAction(case_id=case.id, origin=ActionOrigin.PREPOPULATED,
                                  owning_agency_id=agencies.get(agency), for_whom=for_whom,
                                  description=text))
    if referral.repeat_of_id is not None:
        await _embed_earlier_plan(session, case, referral.repeat_of_id)


async def _embed_earlier_plan(session: AsyncSession, case: Case, earlier_referral_id: int
                              ) -> None:
    earlier = (await session.scalars(
        select(PlannedAction).join(Case, Case.id == PlannedAction.case_id)
        .where(Case.referral_id == earlier_referral_id,
               PlannedAction.origin != ActionOrigin.EARLIER_PLAN)
        .order_by(PlannedAction.id)  # in the order they were agreed
    )).all()
    for action in earlier:
        session.add(PlannedAction(case_id=case.id, origin=ActionOrigin.EARLIER_PLAN,
                                  owning_agency_id=action.owning_agency_id,
                                  for_whom=action.for_whom, description=action.description))
