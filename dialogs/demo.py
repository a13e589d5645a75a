"""A demo MARAC to try the bot on: its agencies, people in every role, a meeting with cases;
and its neighbour, Westbrook, to transfer a case to.

The people match the users of the Playground's MARAC team (infra/playground/marac.yml), so
that `marac dev` shows each role at work. Every name here is invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Case, Marac, Meeting, Person, Role, RoleGrant

LONDON = ZoneInfo("Europe/London")
DEMO_TENANT = "6a1f0c2e-5d0b-4c55-9a3e-7f3c4b2d9e10"
DEMO_TEAM = "19:riverside-marac@thread.tacv2"
DEMO_MARAC = "Riverside MARAC"

# name, is core, has signed the information sharing agreement
DEMO_AGENCIES = (
    ("Police", True, True),
    ("IDVA Service", True, True),
    ("Children's Social Care", True, True),
    ("Health", False, True),
    ("Housing", False, True),
    ("Probation", False, False),
)


@dataclass(frozen=True)
class DemoPerson:
    aad_object_id: str
    full_name: str
    agency: str | None
    roles: tuple[Role, ...]
    teams_user_id: str | None = None  # the Playground's id for them, where it has them


DEMO_PEOPLE = (
    DemoPerson("0d3a1c00-0000-4000-8000-000000000001", "Cara Okafor", None,
               (Role.COORDINATOR,), "user-id-0"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000002", "Chris Hale", None,
               (Role.CHAIR,), "user-id-1"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000003", "Olu Mensah", None,
               (Role.OPERATIONS_MANAGER,), "user-id-2"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000004", "Priya Shah", "Police",
               (Role.AGENCY_REPRESENTATIVE, Role.TRIAGE_MEMBER), "user-id-3"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000005", "Imogen Reid", "IDVA Service",
               (Role.AGENCY_REPRESENTATIVE, Role.TRIAGE_MEMBER), "user-id-4"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000006", "Sam Carter", "Children's Social Care",
               (Role.AGENCY_REPRESENTATIVE,)),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000007", "Owen Baker", None,
               (Role.OBSERVER,), "user-id-5"),
)

DEMO_VICTIMS = ("Amy", "Bethan", "Chloe", "Dina")

# A second MARAC, the neighbouring area's, for transfers between MARACs (002 §11): its own
# team and people (infra/playground/westbrook.yml), the same agencies, no meeting yet. Its
# names sort after Riverside's, so that a query for any one MARAC still finds Riverside first.
WESTBROOK_TEAM = "19:westbrook-marac@thread.tacv2"
WESTBROOK_MARAC = "Westbrook MARAC"
WESTBROOK_PEOPLE = (
    DemoPerson("0d3a1c00-0000-4000-8000-000000000011", "Ellis Grant", None,
               (Role.COORDINATOR, Role.TRIAGE_MEMBER), "user-id-10"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000012", "Jordan Pike", None,
               (Role.CHAIR,), "user-id-11"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000013", "Nadia Osei", None,
               (Role.OPERATIONS_MANAGER,), "user-id-12"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000014", "Tom Reyes", "Police",
               (Role.AGENCY_REPRESENTATIVE,), "user-id-13"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000015", "Leah Moss", "IDVA Service",
               (Role.AGENCY_REPRESENTATIVE,), "user-id-14"),
    DemoPerson("0d3a1c00-0000-4000-8000-000000000016", "Ravi Nair", "Children's Social Care",
               (Role.AGENCY_REPRESENTATIVE,), "user-id-15"),
)


def next_meeting_time(now: datetime) -> datetime:
    """Wednesday 09:30 in London, at least two days away: the Thurrock cadence (002)."""
    day = now.astimezone(LONDON).date() + timedelta(days=2)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 30), tzinfo=LONDON)


async def seed_demo(session: AsyncSession, now: datetime, slot_seconds: int = 20 * 60,
                    warning_seconds: int = 5 * 60) -> bool:
    """Seed the demo MARAC; False when it is already there (seeding twice changes nothing)."""
    if await session.scalar(select(Marac.id).where(Marac.name == DEMO_MARAC)) is not None:
        return False
    marac = await _marac(session, Marac(
        name=DEMO_MARAC, area="Riverside", tenant_id=DEMO_TENANT, team_id=DEMO_TEAM,
        case_prefix="RIV", slot_seconds=slot_seconds, warning_seconds=warning_seconds),
        DEMO_PEOPLE)
    meeting = Meeting(marac=marac, starts_at=next_meeting_time(now))
    meeting.cases = [
        Case(number=f"RIV-{now.year}-{slot:03d}", slot=slot, victim_first_name=name)
        for slot, name in enumerate(DEMO_VICTIMS, start=1)
    ]
    session.add(meeting)
    await _marac(session, Marac(
        name=WESTBROOK_MARAC, area="Westbrook", tenant_id=DEMO_TENANT, team_id=WESTBROOK_TEAM,
        case_prefix="WES", slot_seconds=slot_seconds, warning_seconds=warning_seconds),
        WESTBROOK_PEOPLE)
    return True


async def _marac(session: AsyncSession, marac: Marac, people: tuple[DemoPerson, ...]) -> Marac:
    """The MARAC with the demo's agencies and these people in their roles."""
    agencies = {
        name: Agency(marac=marac, name=name, is_core=core, signed_sharing_agreement=signed)
        for name, core, signed in DEMO_AGENCIES
    }
    session.add_all([marac, *agencies.values()])
    await session.flush()
    for demo in people:
        agency = agencies[demo.agency] if demo.agency else None
        person = Person(tenant_id=DEMO_TENANT, aad_object_id=demo.aad_object_id,
                        first_name=demo.full_name.split()[0],
                        agency_id=agency.id if agency else None,
                        teams_user_id=demo.teams_user_id)
        person.grants = [RoleGrant(marac_id=marac.id, role=role) for role in demo.roles]
        session.add(person)
    return marac
