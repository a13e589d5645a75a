"""The report over a year of a busy MARAC (issue 18: 50 cases a week, under a second on
PostgreSQL). The year is written straight into the store, in bulk, as the dialogs would have
left it: 52 weekly meetings held, each case with its referral (some repeats, some heard late,
some deferred), the agencies' attendance and information, two actions each with their
follow-up, and each plan's dissemination to five agencies (one withheld) with its delivered
messages; and declined referrals beside. Then `dialogs.report.build` is timed.

`python -m bench.report_year [--per-week 50] [--runs 5]` makes its own PostgreSQL database,
prints the figures as JSON and drops the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from bench.databases import POSTGRES_ADMIN, database
from dialogs import report
from dialogs.demo import DEMO_AGENCIES
from storage.crypto import blind_index
from storage.database import Store
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
    Marac,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Person,
    PlanDelivery,
    PlannedAction,
    PlanVersion,
    Referral,
    ReferralSource,
    ReferralStatus,
)

LONDON = ZoneInfo("Europe/London")
FIRST_MEETING = date(2025, 1, 8)  # a Wednesday
WEEKS = 52
YEAR = report.Period(date(2025, 1, 1), date(2025, 12, 31))


async def _ids(session: Any, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    result = await session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True),
                                   rows)
    return list(result.all())


async def seed_year(store: Store, per_week: int) -> int:
    """A year of one MARAC; its id."""
    async with store.unit_of_work() as session:
        marac = Marac(name="Bench report MARAC", area="Bench", tenant_id="bench-tenant",
                      case_prefix="BR", slots_per_meeting=per_week, adult_population=900_000)
        agencies = [Agency(marac=marac, name=name, is_core=core, signed_sharing_agreement=signed)
                    for name, core, signed in DEMO_AGENCIES]
        session.add_all([marac, *agencies])
        await session.flush()
        people = [Person(tenant_id="bench-tenant", aad_object_id=f"bench-{a.id}",
                         first_name=f"Rep{a.id}", agency_id=a.id) for a in agencies]
        session.add_all(people)
        await session.flush()
        for week in range(WEEKS):
            await _week(session, marac, agencies, people, week, per_week)
        marac_id = marac.id
    if store.engine.dialect.name == "postgresql":
        # Fresh statistics, as autovacuum keeps them on a store filled over a year; without
        # them the planner takes these bulk-loaded tables for empty.
        async with store.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    return marac_id


async def _week(session: Any, marac: Marac, agencies: list[Agency], people: list[Person],
                week: int, per_week: int) -> None:
    day = FIRST_MEETING + timedelta(weeks=week)
    starts_at = datetime.combine(day, marac.meeting_time, tzinfo=LONDON)
    ended_at = starts_at + timedelta(hours=6)
    meeting = Meeting(marac_id=marac.id, starts_at=starts_at, status=MeetingStatus.ENDED,
                      started_at=starts_at, ended_at=ended_at)
    session.add(meeting)
    await session.flush()
    await _ids(session, Attendance, [
        {"meeting_id": meeting.id, "person_id": p.id, "agency_id": p.agency_id,
         "role": AttendanceRole.AGENCY_REPRESENTATIVE, "confirmed_at": starts_at}
        for n, p in enumerate(people) if (week + n) % 4])  # each agency misses one in four
    received = day - timedelta(days=9 + 7 * (week % 5 == 0))  # every fifth week heard late
    referrals = await _ids(session, Referral, [_referral(marac, agencies, week, n, received,
                                                         ReferralStatus.ACCEPTED)
                                               for n in range(per_week)])
    await _ids(session, Referral, [_referral(marac, agencies, week, per_week + n, received,
                                             ReferralStatus.DECLINED)
                                   for n in range(per_week // 10)])
    cases = await _ids(session, Case, [
        {"number": f"BR-{week:02d}-{n:03d}", "meeting_id": meeting.id, "slot": n + 1,
         "victim_first_name": "Victim", "referral_id": referral,
         "status": CaseStatus.CLOSED, "closed_at": ended_at,
         "deferred_from_meeting_id": meeting.id if n % 25 == 0 else None}
        for n, referral in enumerate(referrals)])
    await _ids(session, AgencyInformation, [
        {"case_id": case, "agency_id": agencies[3].id, "text": "Seen at A&E.",
         "sent_at": starts_at} for case in cases])
    await _plans(session, agencies, people, meeting.id, cases, ended_at)


def _referral(marac: Marac, agencies: list[Agency], week: int, n: int, received: date,
              status: ReferralStatus) -> dict[str, Any]:
    reference = f"V-{(week * 1000 + n) % 40_000}"
    return {
        "marac_id": marac.id, "source": ReferralSource.CARD, "victim_first_name": "Victim",
        "victim_reference": reference, "victim_index": blind_index(reference),
        "victim_age_band": ("18-24", "25-34", "35-44", "16-17")[n % 4],
        "victim_gender": ("Female", "Female", "Male", None)[n % 4],
        "victim_ethnicity": ("White", "Asian or Asian British", None)[n % 3],
        "victim_disability": ("No", "Yes")[n % 2], "children_in_household": n % 3,
        "perpetrator_first_name": "Perp", "referring_agency_id": agencies[n % 3].id,
        "referrer_name": "Referrer", "incident_date": received, "received_on": received,
        "area": "Bench", "dash_yes_count": 15 if status is ReferralStatus.ACCEPTED else 5,
        "risk_level": "high" if status is ReferralStatus.ACCEPTED else "standard",
        "decision_explanation": "", "status": status,
        "created_at": datetime.combine(received, datetime.min.time(), tzinfo=UTC),
        "updated_at": datetime.combine(received, datetime.min.time(), tzinfo=UTC),
    }


async def _plans(session: Any, agencies: list[Agency], people: list[Person], meeting_id: int,
                 cases: list[int], ended_at: datetime) -> None:
    versions = await _ids(session, PlanVersion, [
        {"case_id": case, "version": 1, "created_at": ended_at, "change": "Agreed.",
         "reason": "The meeting.", "content": {}} for case in cases])
    disseminations = await _ids(session, Dissemination, [
        {"case_id": case, "meeting_id": meeting_id, "plan_version_id": version,
         "queued_at": ended_at, "deadline_at": ended_at + timedelta(hours=48)}
        for case, version in zip(cases, versions, strict=True)])
    sent = [(d, v, n, a, p) for n, (d, v) in enumerate(zip(disseminations, versions,
                                                           strict=True))
            for a, p in zip(agencies[:5], people[:5], strict=True)]
    late = timedelta(hours=60)
    messages = await _ids(session, OutboxMessage, [
        {"person_id": p.id, "activity": {}, "purpose": "plan", "created_at": ended_at,
         "next_attempt_at": ended_at,
         "delivered_at": ended_at + (late if n % 20 == 0 else timedelta(hours=1))}
        for _, _, n, _, p in sent])
    await _ids(session, PlanDelivery, [
        {"dissemination_id": d, "plan_version_id": v, "agency_id": a.id, "why": "core agency",
         "kind": DeliveryKind.TEAMS, "person_id": p.id, "outbox_id": m}
        for (d, v, _, a, p), m in zip(sent, messages, strict=True)]
        + [{"dissemination_id": d, "plan_version_id": v, "agency_id": agencies[5].id,
            "why": "given an action", "kind": DeliveryKind.WITHHELD}
           for d, v in zip(disseminations, versions, strict=True)])
    actions = await _ids(session, PlannedAction, [
        {"case_id": case, "origin": ActionOrigin.MEETING, "owning_agency_id": agencies[k].id,
         "for_whom": "victim", "description": "Safety plan.",
         "due_on": ended_at.date() + timedelta(days=14)} for case in cases for k in (0, 1)])
    statuses = (ActionStatus.DONE, ActionStatus.OPEN, ActionStatus.CANNOT_COMPLETE,
                ActionStatus.ACKNOWLEDGED)
    await _ids(session, ActionFollowUp, [
        {"action_id": action, "case_id": cases[n // 2], "status": statuses[n % 4],
         "card_sent_at": ended_at} for n, action in enumerate(actions)])


async def time_report(url: str, per_week: int, runs: int) -> dict[str, Any]:
    store = Store.from_url(url)
    try:
        started = time.perf_counter()
        marac_id = await seed_year(store, per_week)
        seeded = time.perf_counter() - started
        now = datetime(2026, 2, 1, 12, tzinfo=UTC)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            async with store.unit_of_work() as session:
                figures = await report.build(session, marac_id, YEAR, now)
            timings.append(time.perf_counter() - started)
    finally:
        await store.close()
    return {"per_week": per_week, "cases_heard": figures.cases_heard,
            "referrals": figures.referral_count, "seed_s": round(seeded, 1),
            "first_ms": round(timings[0] * 1000, 1),
            "median_ms": round(median(timings) * 1000, 1),
            "max_ms": round(max(timings) * 1000, 1), "runs": runs}


async def run(kind: str = "postgresql", per_week: int = 50, runs: int = 5,
              admin_url: str = POSTGRES_ADMIN) -> dict[str, Any]:
    async with database(kind, admin_url) as url:
        return {"database": kind, **await time_report(url, per_week, runs)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report_year", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--per-week", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default=POSTGRES_ADMIN)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.database, args.per_week, args.runs, args.postgres)),
                     indent=2))


if __name__ == "__main__":
    main()
