"""The MARAC's figures for a period (002 §2, the SafeLives data return): cases heard, repeats,
referrals, timeliness, attendance, dissemination, actions and the equality profile. Each is
counted by the database (GROUP BY), so a year of a busy MARAC is a few small result sets; only
working days are counted here, since they need the bank-holiday calendar.

A case is in the period when the meeting that heard it is; referrals when they were received.
Equality counts under SMALL_NUMBER are never given (None), so no one is identifiable."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.attendance_record import PERSISTENT
from dialogs.referrals import AGE_BANDS, EQUALITY
from dialogs.refusal import Refusal
from dialogs.scheduling import calendar_of, local_today
from storage.models import (
    ActionFollowUp,
    ActionOrigin,
    ActionStatus,
    Agency,
    AgencyInformation,
    Attendance,
    AttendanceRole,
    Case,
    CaseStatus,
    DeliveryKind,
    Dissemination,
    MailMessage,
    Marac,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    PlanDelivery,
    PlannedAction,
    Referral,
    ReferralStatus,
)

SMALL_NUMBER = 5  # equality counts below this are suppressed
PER_POPULATION = 10_000
TARGET_PERCENT = 100  # heard within 14 working days; plans out within 48 hours (002)
DEADLINE_HOURS = 48
NOT_RECORDED = "Not recorded"
BELOW_CRITERIA = "below the high-risk criteria"
AT_TRIAGE = "declined at triage"
NO_SLOT, DEFERRED, TRIAGE = "no slot", "deferred", "referral waiting in triage"


class ReportError(Refusal):
    """A period that cannot be read; str() is the one sentence the user sees."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.first:%d %b %Y} to {self.last:%d %b %Y}"


def quarter_before(today: date) -> Period:
    """The last whole quarter: what a steering group reviews."""
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last = start - timedelta(days=1)
    return Period(date(last.year, 3 * ((last.month - 1) // 3) + 1, 1), last)


def read_period(text: str, today: date) -> Period:
    """`2026-Q3`, `2026`, `2026-09`, or `2026-07-01 2026-09-30`; empty: the last quarter."""
    words = text.replace("..", " ").replace(" to ", " ").split()
    try:
        if not words:
            return quarter_before(today)
        if len(words) == 2:
            period = Period(date.fromisoformat(words[0]), date.fromisoformat(words[1]))
        elif m := re.fullmatch(r"(\d{4})-?[Qq]([1-4])", words[0]):
            year, quarter = int(m[1]), int(m[2])
            first = date(year, 3 * quarter - 2, 1)
            period = Period(first, _month_end(date(year, 3 * quarter, 1)))
        elif m := re.fullmatch(r"(\d{4})-(\d{2})", words[0]):
            first = date(int(m[1]), int(m[2]), 1)
            period = Period(first, _month_end(first))
        elif re.fullmatch(r"\d{4}", words[0]):
            period = Period(date(int(words[0]), 1, 1), date(int(words[0]), 12, 31))
        else:
            raise ValueError(text)
    except ValueError as error:
        raise ReportError("Give the period as a quarter (2026-Q3), a year (2026), a month "
                          "(2026-09) or two dates (2026-07-01 2026-09-30).") from error
    if period.last < period.first:
        raise ReportError("The period ends before it starts.")
    return period


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class Timeliness:
    heard: int  # cases heard that came by referral
    within: int  # heard within the target working days of receipt
    breaches: dict[str, int]  # cause -> cases
    median_working_days: float | None
    by_month: tuple[tuple[str, int, int], ...]  # (YYYY-MM, within, heard)


@dataclass(frozen=True)
class AgencyAttendance:
    agency: str
    core: bool
    attended: int
    apologies: int  # not there, but sent information
    absent: int


@dataclass(frozen=True)
class Disseminated:
    plans: int
    on_time: int  # every entitled agency had it within 48 hours of the meeting's end
    median_hours: float | None
    plans_withheld: int  # plans withheld from at least one agency
    withheld: tuple[tuple[str, int], ...]  # agency -> plans withheld from it


@dataclass(frozen=True)
class AgencyActions:
    agency: str
    agreed: int
    completed: int
    cannot: int
    overdue: int


@dataclass(frozen=True)
class EqualityCount:
    field: str  # e.g. "Gender"
    category: str
    count: int | None  # None: under SMALL_NUMBER, suppressed


@dataclass(frozen=True)
class Report:
    marac: str
    period: Period
    as_of: date
    target_working_days: int
    cases_heard: int
    adult_population: int | None
    repeats: int
    referrals: tuple[tuple[str, int], ...]  # referring agency -> referrals received
    police_referrals: int
    declined: tuple[tuple[str, str, int], ...]  # (reason, risk level, referrals)
    timeliness: Timeliness
    meetings_held: int
    attendance: tuple[AgencyAttendance, ...]
    persistently_absent: tuple[str, ...]  # core agencies absent PERSISTENT meetings running
    dissemination: Disseminated
    actions: tuple[AgencyActions, ...]
    equality: tuple[EqualityCount, ...]
    children: int  # in the households of the cases heard
    profile: tuple[tuple[str, int | None], ...]  # SafeLives' diversity indicators, suppressed

    @property
    def per_population(self) -> float | None:
        if not self.adult_population:
            return None
        return self.cases_heard * PER_POPULATION / self.adult_population

    @property
    def referral_count(self) -> int:
        return sum(n for _, n in self.referrals)


def percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100 * part / whole


def suppressed(count: int) -> int | None:
    return count if count == 0 or count >= SMALL_NUMBER else None


async def build(session: AsyncSession, marac_id: int, period: Period, now: datetime) -> Report:
    marac = await session.get_one(Marac, marac_id)
    zone = ZoneInfo(marac.timezone)
    start = datetime.combine(period.first, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(period.last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    in_period = and_(Meeting.marac_id == marac_id, Meeting.starts_at >= start,
                     Meeting.starts_at < end)
    heard = (select(Case.id).join(Meeting, Meeting.id == Case.meeting_id)
             .where(in_period, Case.status == CaseStatus.CLOSED))
    today = local_today(marac, now)
    referrals, police = await _referrals(session, marac_id, period)
    meetings, attendance, absent = await _attendance(session, marac_id, in_period)
    return Report(
        marac=marac.name, period=period, as_of=today,
        target_working_days=marac.target_working_days,
        cases_heard=await _count(session, heard), adult_population=marac.adult_population,
        repeats=await _count(session, heard.join(Referral, Referral.id == Case.referral_id)
                             .where(Referral.repeat_of_id.is_not(None))),
        referrals=referrals, police_referrals=police,
        declined=await _declined(session, marac_id, period),
        timeliness=await _timeliness(session, marac, heard),
        meetings_held=meetings, attendance=attendance, persistently_absent=absent,
        dissemination=await _dissemination(session, heard),
        actions=await _actions(session, marac_id, heard, today),
        equality=await _equality(session, heard),
        children=await session.scalar(
            select(func.coalesce(func.sum(Referral.children_in_household), 0))
            .select_from(Case).join(Referral, Referral.id == Case.referral_id)
            .where(Case.id.in_(heard))) or 0,
        profile=await _profile(session, heard),
    )


async def _count(session: AsyncSession, query: Select[tuple[int]]) -> int:
    return await session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _received(marac_id: int, period: Period) -> ColumnElement[bool]:
    return and_(Referral.marac_id == marac_id, Referral.received_on >= period.first,
                Referral.received_on <= period.last, Referral.status != ReferralStatus.MERGED)


async def _referrals(session: AsyncSession, marac_id: int, period: Period
                     ) -> tuple[tuple[tuple[str, int], ...], int]:
    """Referrals received by referring agency (a duplicate merged into another is not one)."""
    rows = (await session.execute(
        select(Agency.name, func.count()).join(Referral, Referral.referring_agency_id == Agency.id)
        .where(_received(marac_id, period)).group_by(Agency.name)
        .order_by(func.count().desc(), Agency.name))).tuples().all()
    return tuple(rows), sum(n for name, n in rows if is_police(name))


def is_police(agency: str) -> bool:
    return "police" in agency.casefold()


async def _declined(session: AsyncSession, marac_id: int, period: Period
                    ) -> tuple[tuple[str, str, int], ...]:
    """A referral below the criteria is declined as it comes in; a high-risk one only by
    triage (its reason is free text, encrypted, so it is counted as a triage decision)."""
    rows = (await session.execute(
        select(Referral.risk_level, func.count()).where(
            _received(marac_id, period), Referral.status == ReferralStatus.DECLINED)
        .group_by(Referral.risk_level).order_by(Referral.risk_level))).tuples().all()
    return tuple((AT_TRIAGE if risk == "high" else BELOW_CRITERIA, risk, n) for risk, n in rows)


async def _timeliness(session: AsyncSession, marac: Marac, heard: Select[tuple[int]]
                      ) -> Timeliness:
    """Working days from receipt to the hearing, per case heard (the calendar is here)."""
    zone = ZoneInfo(marac.timezone)
    calendar = calendar_of(marac)
    rows = (await session.execute(
        select(Referral.received_on, Meeting.starts_at, Referral.updated_at,
               Case.deferred_from_meeting_id.is_not(None))
        .select_from(Case).join(Meeting, Meeting.id == Case.meeting_id)
        .join(Referral, Referral.id == Case.referral_id)
        .where(Case.id.in_(heard)))).tuples().all()
    breaches: dict[str, int] = defaultdict(int)
    days: list[int] = []
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for received, starts_at, accepted_at, deferred in rows:
        day = starts_at.astimezone(zone).date()
        taken = calendar.between(received, day)
        days.append(taken)
        month = months[f"{day:%Y-%m}"]
        month[1] += 1
        if taken <= marac.target_working_days:
            month[0] += 1
        elif deferred:
            breaches[DEFERRED] += 1
        elif _triaged_too_late(marac, received, accepted_at):
            breaches[TRIAGE] += 1
        else:
            breaches[NO_SLOT] += 1
    within = sum(1 for d in days if d <= marac.target_working_days)
    return Timeliness(len(days), within, dict(breaches),
                      float(median(days)) if days else None,
                      tuple((m, w, n) for m, (w, n) in sorted(months.items())))


def _triaged_too_late(marac: Marac, received: date, accepted_at: datetime) -> bool:
    """Accepted after the last meeting that could have heard it in time had started."""
    return accepted_at >= last_meeting_in_time(marac, received)


def last_meeting_in_time(marac: Marac, received: date) -> datetime:
    calendar = calendar_of(marac)
    day = calendar.add(received, marac.target_working_days)
    while day.weekday() != marac.meeting_weekday or not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, marac.meeting_time, tzinfo=ZoneInfo(marac.timezone))


async def _attendance(session: AsyncSession, marac_id: int, in_period: ColumnElement[bool]
                      ) -> tuple[int, tuple[AgencyAttendance, ...], tuple[str, ...]]:
    held = (await session.scalars(select(Meeting.id).where(
        in_period, Meeting.status == MeetingStatus.ENDED).order_by(Meeting.starts_at))).all()
    held_ids = select(Meeting.id).where(in_period, Meeting.status == MeetingStatus.ENDED)
    present = set((await session.execute(
        select(Attendance.meeting_id, Attendance.agency_id).distinct().where(
            Attendance.meeting_id.in_(held_ids), Attendance.agency_id.is_not(None),
            Attendance.role == AttendanceRole.AGENCY_REPRESENTATIVE))).tuples().all())
    informed = set((await session.execute(
        select(Case.meeting_id, AgencyInformation.agency_id).distinct()
        .join(AgencyInformation, AgencyInformation.case_id == Case.id)
        .where(Case.meeting_id.in_(held_ids)))).tuples().all())
    agencies = (await session.execute(select(Agency.id, Agency.name, Agency.is_core).where(
        Agency.marac_id == marac_id).order_by(Agency.name))).tuples().all()
    rows, absent = [], []
    for agency_id, name, core in agencies:
        there = [(m, agency_id) in present for m in held]
        apologies = sum(1 for m, was in zip(held, there, strict=True)
                        if not was and (m, agency_id) in informed)
        rows.append(AgencyAttendance(name, core, sum(there), apologies,
                                     len(held) - sum(there) - apologies))
        if core and _longest_absence(there) >= PERSISTENT:
            absent.append(name)
    return len(held), tuple(rows), tuple(absent)


def _longest_absence(there: list[bool]) -> int:
    longest = run = 0
    for was in there:
        run = 0 if was else run + 1
        longest = max(longest, run)
    return longest


async def _dissemination(session: AsyncSession, heard: Select[tuple[int]]) -> Disseminated:
    """Per plan: agencies entitled (not withheld), how many had it, when the last one did."""
    withheld = case((PlanDelivery.kind == DeliveryKind.WITHHELD, 1), else_=0)
    per_agency = (
        select(PlanDelivery.dissemination_id.label("dissemination_id"),
               PlanDelivery.agency_id.label("agency_id"),
               func.max(withheld).label("withheld"),
               func.min(func.coalesce(OutboxMessage.delivered_at, MailMessage.delivered_at))
               .label("delivered_at"))
        .join(Dissemination, and_(Dissemination.id == PlanDelivery.dissemination_id,
                                  Dissemination.plan_version_id == PlanDelivery.plan_version_id))
        .outerjoin(OutboxMessage, OutboxMessage.id == PlanDelivery.outbox_id)
        .outerjoin(MailMessage, MailMessage.id == PlanDelivery.mail_id)
        .where(Dissemination.case_id.in_(heard))
        .group_by(PlanDelivery.dissemination_id, PlanDelivery.agency_id)).subquery()
    plans = (await session.execute(
        select(Meeting.ended_at, Dissemination.deadline_at,
               func.count(per_agency.c.agency_id)
               - func.coalesce(func.sum(per_agency.c.withheld), 0),
               func.count(per_agency.c.delivered_at), func.max(per_agency.c.delivered_at),
               func.sum(per_agency.c.withheld))
        .select_from(Dissemination)
        .join(Meeting, Meeting.id == Dissemination.meeting_id)
        .outerjoin(per_agency, per_agency.c.dissemination_id == Dissemination.id)
        .where(Dissemination.case_id.in_(heard))
        .group_by(Dissemination.id, Meeting.ended_at, Dissemination.deadline_at))
    ).tuples().all()
    on_time, hours, with_withheld = 0, [], 0
    for ended_at, deadline_at, entitled, reached, last, held_back in plans:
        with_withheld += 1 if held_back else 0
        if reached < (entitled or 0) or ended_at is None:
            continue
        if last is None or deadline_at is None or last <= deadline_at:
            on_time += 1
        if last is not None:
            hours.append(max((last - ended_at).total_seconds(), 0) / 3600)
    by_agency = (await session.execute(
        select(Agency.name, func.count(distinct(PlanDelivery.dissemination_id)))
        .join(PlanDelivery, PlanDelivery.agency_id == Agency.id)
        .join(Dissemination, and_(Dissemination.id == PlanDelivery.dissemination_id,
                                  Dissemination.plan_version_id == PlanDelivery.plan_version_id))
        .where(Dissemination.case_id.in_(heard), PlanDelivery.kind == DeliveryKind.WITHHELD)
        .group_by(Agency.name).order_by(Agency.name))).tuples().all()
    return Disseminated(len(plans), on_time, float(median(hours)) if hours else None,
                        with_withheld, tuple(by_agency))


async def _actions(session: AsyncSession, marac_id: int, heard: Select[tuple[int]],
                   today: date) -> tuple[AgencyActions, ...]:
    closed = (ActionStatus.DONE, ActionStatus.CANNOT_COMPLETE)
    status = ActionFollowUp.status
    overdue = and_(PlannedAction.due_on < today,
                   or_(status.is_(None), status.not_in(closed)))
    rows = (await session.execute(
        select(Agency.name, func.count(),
               func.sum(case((status == ActionStatus.DONE, 1), else_=0)),
               func.sum(case((status == ActionStatus.CANNOT_COMPLETE, 1), else_=0)),
               func.sum(case((overdue, 1), else_=0)))
        .select_from(PlannedAction)
        .join(Agency, Agency.id == PlannedAction.owning_agency_id)
        .outerjoin(ActionFollowUp, ActionFollowUp.action_id == PlannedAction.id)
        .where(PlannedAction.case_id.in_(heard), PlannedAction.origin == ActionOrigin.MEETING)
        .group_by(Agency.name).order_by(Agency.name))).tuples().all()
    return tuple(AgencyActions(name, n, done or 0, cannot or 0, late or 0)
                 for name, n, done, cannot, late in rows)


LABELS = {"victim_gender": "Gender", "victim_ethnicity": "Ethnicity",
          "victim_disability": "Disability", "victim_sexual_orientation": "Sexual orientation"}
EQUALITY_FIELDS = (("Age", "victim_age_band", AGE_BANDS),
                   *((LABELS[key], key, choices) for key, (_, choices) in EQUALITY.items()))


async def _equality(session: AsyncSession, heard: Select[tuple[int]]
                    ) -> tuple[EqualityCount, ...]:
    """Victims of the cases heard, by each field of the SafeLives equality profile."""
    counts = []
    for label, key, categories in EQUALITY_FIELDS:
        column = getattr(Referral, key)
        found = dict((await session.execute(
            select(column, func.count()).select_from(Case)
            .join(Referral, Referral.id == Case.referral_id)
            .where(Case.id.in_(heard)).group_by(column))).tuples().all())
        for category in (*categories, None):
            counts.append(EqualityCount(label, category or NOT_RECORDED,
                                        suppressed(found.get(category, 0))))
    return tuple(counts)


# SafeLives' diversity indicators of the cases heard, each a sum over the equality profile.
PROFILE = (
    ("BAME victims", and_(Referral.victim_ethnicity.is_not(None),
                          Referral.victim_ethnicity != "White")),
    ("LGBT victims", Referral.victim_sexual_orientation == "Lesbian, gay or bisexual"),
    ("Victims with a disability", Referral.victim_disability == "Yes"),
    ("Male victims", Referral.victim_gender == "Male"),
    ("Victims aged 16-17", Referral.victim_age_band == "16-17"),
)


async def _profile(session: AsyncSession, heard: Select[tuple[int]]
                   ) -> tuple[tuple[str, int | None], ...]:
    row = (await session.execute(
        select(*(func.coalesce(func.sum(case((holds, 1), else_=0)), 0) for _, holds in PROFILE))
        .select_from(Case).join(Referral, Referral.id == Case.referral_id)
        .where(Case.id.in_(heard)))).one()
    return tuple((label, suppressed(n)) for (label, _), n in zip(PROFILE, row, strict=True))


async def set_population(session: AsyncSession, marac_name: str, adults: int) -> str:
    """`marac population`: the adults (16+) in the MARAC's area; 0 removes it."""
    marac = await session.scalar(select(Marac).where(Marac.name == marac_name))
    if marac is None:
        raise ValueError(f"There is no MARAC named {marac_name!r}.")
    if not 0 <= adults <= 100_000_000:
        raise ValueError("Give the adult population as a whole number, or 0 to remove it.")
    marac.adult_population = adults or None
    if not adults:
        return f"{marac.name} has no adult population now: cases heard are not given per 10,000."
    return f"{marac.name}'s cases heard are given per 10,000 of its {adults:,} adults."
