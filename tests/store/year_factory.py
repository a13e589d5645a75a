"""A year of the demo MARAC run through the project's own dialogs, for the report's tests:
referrals each week (some below the criteria, some declined at triage, repeats, one burst that
fills the meetings), triage (some accepted too late), weekly meetings (attendance with an
agency absent three running and one sending apologies with information, deferrals), plans
disseminated on time, late, and withheld from an agency without a sharing agreement, and
actions done, not possible, open and overdue.

Beside the store, a ledger records what was done, so the test counts each figure itself."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from bot.proactive import outbox
from dialogs import meeting as run
from dialogs import triage
from dialogs.acknowledgement import Verb, answer
from dialogs.case_work import add_action, add_information
from dialogs.referrals import AGE_BANDS, EQUALITY
from storage.database import Store
from storage.models import (
    Agency,
    AttendanceRole,
    Case,
    Meeting,
    MeetingStatus,
    Person,
    PlannedAction,
)
from tests.store.meeting_factory import CHANNEL, defer, next_case
from tests.store.plan_factory import action_fields, end_meeting, follow_up_of, tick
from tests.store.referral_factory import card_payload, refer, seeded, update_marac

LONDON = ZoneInfo("Europe/London")
FIRST_MONDAY = date(2025, 1, 6)
WEEKS = 52
BURST_WEEK = 30  # 26 more referrals than usual: the meetings fill up
LATE_TRIAGE_WEEKS = (3, 11, 17, 25, 39)  # clear of the burst and of Christmas
IDVA_ABSENT = (10, 11, 12)  # meeting indexes: three running
POPULATION = 250_000
NAMES = ("Ann", "Bea", "Cat", "Dee", "Eve", "Fay", "Gil", "Hana", "Ivy", "Jo")


@dataclass
class Heard:
    number: str
    reference: str
    received: date
    agency: str
    repeat: bool
    equality: dict[str, str]
    late_triage: bool = False
    deferred: bool = False
    heard_on: date | None = None
    ended_at: datetime | None = None
    delivered_at: datetime | None = None
    police_action: str = ""  # done, cannot, open, overdue
    probation_action: bool = False


@dataclass
class Ledger:
    referrals: Counter[str] = field(default_factory=Counter)
    declined: Counter[tuple[str, str]] = field(default_factory=Counter)
    cases: dict[str, Heard] = field(default_factory=dict)
    meetings: list[date] = field(default_factory=list)
    attended: Counter[tuple[date, str]] = field(default_factory=Counter)
    apologies: set[tuple[date, str]] = field(default_factory=set)
    k: int = 0  # referrals made, to vary the equality fields


@dataclass(frozen=True)
class Year:
    marac_id: int
    people: dict[str, int]
    agencies: dict[str, int]
    ledger: Ledger


def equality_fields(k: int) -> dict[str, str]:
    fields = {
        "victim_age_band": AGE_BANDS[k % len(AGE_BANDS)],
        "victim_gender": "Male" if k % 5 == 4 else "Female",
        "victim_ethnicity": ("Mixed" if k % 37 == 0
                             else EQUALITY["victim_ethnicity"][1][k % 5 if k % 5 != 3 else 0]),
        "victim_disability": "Yes" if k % 3 == 0 else "No",
        "victim_sexual_orientation": ("Lesbian, gay or bisexual" if k % 29 == 0
                                      else "Heterosexual" if k % 2 == 0 else ""),
    }
    if k % 11 == 0:
        fields["victim_gender"] = ""  # not recorded
    return {key: value for key, value in fields.items() if value}


async def build_year(store: Store, clock: Any) -> Year:
    clock.set(datetime(2025, 1, 2, 12, tzinfo=UTC))
    marac_id = await seeded(store, clock)
    async with store.unit_of_work() as session:  # the demo's own meeting is not this year's
        demo_meetings = select(Meeting.id).where(Meeting.marac_id == marac_id)
        await session.execute(delete(Case).where(Case.meeting_id.in_(demo_meetings)))
        await session.execute(delete(Meeting).where(Meeting.marac_id == marac_id))
        people = {p.first_name: p.id for p in (await session.scalars(select(Person))).all()}
        agencies = {a.name: a.id for a in (await session.scalars(
            select(Agency).where(Agency.marac_id == marac_id))).all()}
    await update_marac(store, marac_id, adult_population=POPULATION)
    year = Year(marac_id, people, agencies, Ledger())
    late: dict[int, list[tuple[int, Heard]]] = {}  # week -> referrals to accept on its Friday
    for week in range(WEEKS + 3):
        monday = FIRST_MONDAY + timedelta(weeks=week)
        if week < WEEKS:
            await _referrals_of_week(store, clock, year, week, monday, late)
        await _meeting(store, clock, year, monday + timedelta(days=2))
        clock.set(datetime.combine(monday + timedelta(days=4), time(18), tzinfo=UTC))
        for referral_id, heard in late.pop(week, []):
            await _accept(store, clock, year, referral_id, heard, late_triage=True)
    return year


async def _referrals_of_week(store: Store, clock: Any, year: Year, week: int, monday: date,
                             late: dict[int, list[tuple[int, Heard]]]) -> None:
    clock.set(datetime.combine(monday, time(8), tzinfo=UTC))
    ledger = year.ledger
    heard = [("Police", None)] + [("IDVA Service", None)] * (week % 2)
    heard += [("Police", None)] * (26 if week == BURST_WEEK else 0)
    if week % 6 == 5:  # a victim heard in the last weeks, referred again
        earlier = [h for h in ledger.cases.values() if h.heard_on and not h.repeat][-1]
        heard.append(("IDVA Service", earlier))
    for n, (agency, earlier) in enumerate(heard):
        ledger.k += 1
        equality = equality_fields(ledger.k)
        reference = earlier.reference if earlier else f"R-{week:02d}-{n:02d}"
        referral = await refer(store, clock, year.marac_id, card_payload(
            14, victim_first_name=NAMES[ledger.k % len(NAMES)], victim_reference=reference,
            referring_agency=agency, incident_date=(monday - timedelta(days=1)).isoformat(),
            received_on=monday.isoformat(), **equality))
        ledger.referrals[agency] += 1
        case = Heard("", reference, monday, agency, earlier is not None, equality)
        if n == 1 and week in LATE_TRIAGE_WEEKS:
            late.setdefault(week + 2, []).append((referral.id, case))
        else:
            await _accept(store, clock, year, referral.id, case)
    for agency, yes, risk, when in (("Housing", 3, "standard", week % 4 == 0),
                                    ("Housing", 11, "medium", week % 8 == 2)):
        if when:
            ledger.k += 1
            await refer(store, clock, year.marac_id, card_payload(
                yes, victim_first_name="Kim", victim_reference=f"D-{week:02d}-{risk}",
                referring_agency=agency, received_on=monday.isoformat(),
                incident_date=monday.isoformat()))
            ledger.referrals[agency] += 1
            ledger.declined[("below the high-risk criteria", risk)] += 1
    if week % 10 == 7:
        referral = await refer(store, clock, year.marac_id, card_payload(
            15, victim_first_name="Lou", victim_reference=f"T-{week:02d}",
            referring_agency="Health", received_on=monday.isoformat(),
            incident_date=monday.isoformat()))
        async with store.unit_of_work() as session:
            await triage.decline(session, year.marac_id, referral.id, year.people["Priya"],
                                 "Already heard elsewhere this month.", clock.now())
        ledger.referrals["Health"] += 1
        ledger.declined[("declined at triage", "high")] += 1


async def _accept(store: Store, clock: Any, year: Year, referral_id: int, heard: Heard,
                  late_triage: bool = False) -> None:
    async with store.unit_of_work() as session:
        outcome = await triage.accept(session, year.marac_id, referral_id,
                                      year.people["Priya"], clock.now())
    assert outcome.placement is not None
    heard.number, heard.late_triage = outcome.placement.case.number, late_triage
    year.ledger.cases[heard.number] = heard


async def _meeting(store: Store, clock: Any, year: Year, day: date) -> None:
    starts_at = datetime.combine(day, time(9, 30), tzinfo=LONDON)
    async with store.unit_of_work() as session:
        meeting = await session.scalar(select(Meeting).where(
            Meeting.marac_id == year.marac_id, Meeting.starts_at == starts_at))
        if meeting is None or meeting.status is not MeetingStatus.SCHEDULED:
            return
        listed = len((await session.scalars(select(Case.id).where(
            Case.meeting_id == meeting.id))).all())
    ledger = year.ledger
    index = len(ledger.meetings)
    ledger.meetings.append(day)
    clock.set(starts_at)
    async with store.unit_of_work() as session:
        await run.start(session, year.marac_id, CHANNEL, year.people["Chris"], clock.now())
    attending = [("Chris", None, AttendanceRole.CHAIR), ("Priya", "Police", None)]
    if index not in IDVA_ABSENT:
        attending.append(("Imogen", "IDVA Service", None))
    csc_there = index % 2 == 0
    if csc_there:
        attending.append(("Sam", "Children's Social Care", None))
    for name, agency, role in attending:
        async with store.unit_of_work() as session:
            meeting = await session.get_one(Meeting, meeting.id)
            person = await session.get_one(Person, year.people[name])
            await run.confirm_attendance(
                session, meeting, person, role or AttendanceRole.AGENCY_REPRESENTATIVE,
                year.agencies[agency] if agency else None, clock.now())
        if agency:
            ledger.attended[(day, agency)] += 1
    heard_here: list[Heard] = []
    _, opened = await next_case(store, clock)
    deferred_one = index % 9 == 4 and listed > 1  # another case is heard that day
    while opened is not None:
        case = ledger.cases[opened]
        if deferred_one:
            deferred_one = False
            await defer(store, clock, "Police research not back.")
            case.deferred = True
            _, opened = await next_case(store, clock)
            continue
        await _plan(store, clock, year, opened, case, csc_there or heard_here != [])
        if not csc_there and not heard_here:
            ledger.apologies.add((day, "Children's Social Care"))
        heard_here.append(case)
        clock.set(clock.now() + timedelta(minutes=20))
        _, opened = await next_case(store, clock)
    ended_at = await end_meeting(store, clock)
    await tick(store, clock)
    late = index % 6 == 5
    clock.set(ended_at + timedelta(hours=50 if late else 1))
    await tick(store, clock)
    async with store.unit_of_work() as session:
        for message in await outbox.claim_due(session, clock.now(), limit=10_000):
            outbox.settle(message, clock.now(), None)
    for case in heard_here:
        case.heard_on, case.ended_at, case.delivered_at = day, ended_at, clock.now()
        await _answer(store, clock, year, case)


async def _plan(store: Store, clock: Any, year: Year, number: str, heard: Heard,
                csc_there: bool) -> None:
    """The open case's plan: a Police action (its fate chosen by the case's order), every
    fifth case one for Probation (no sharing agreement: its plan is withheld), and, with
    Children's Social Care away, its information sent in with why no action of its own."""
    order = sum(1 for h in year.ledger.cases.values() if h.police_action)
    heard.police_action = ("done", "cannot", "open", "overdue")[order % 4]
    heard.probation_action = order % 5 == 0
    today = clock.now().date()
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        due = today + timedelta(days=400 if heard.police_action == "open" else 7)
        await add_action(session, case, action_fields("Police", "Priya", due),
                         year.agencies, year.people["Priya"], today, f"{number}-police")
        if heard.probation_action:
            await add_action(session, case, action_fields("Probation", "Pat", today + timedelta(
                days=7)), year.agencies, year.people["Priya"], today, f"{number}-probation")
        if not csc_there:
            await add_information(session, case, year.agencies["Children's Social Care"],
                                  "Known to the service in 2024.", False, year.people["Sam"],
                                  clock.now(), no_action_reason="No children in the home.")


async def _answer(store: Store, clock: Any, year: Year, heard: Heard) -> None:
    verb = {"done": Verb.DONE, "cannot": Verb.CANNOT}.get(heard.police_action)
    if verb is None:
        return
    async with store.unit_of_work() as session:
        action_id = await session.scalar(select(PlannedAction.id).where(
            PlannedAction.source_key == f"{heard.number}-police"))
    assert action_id is not None
    follow_up = await follow_up_of(store, action_id)
    async with store.unit_of_work() as session:
        await answer(session, follow_up, year.people["Priya"], verb,
                     "Victim rehoused out of area." if verb is Verb.CANNOT else "Done.",
                     clock.now())

