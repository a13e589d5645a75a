"""Many MARACs at once, seeded through the project's own storage and dialog code: each with
the demo MARAC's agencies and people (every role, each with a Teams id), a meeting of
`cases` cases already started by its chair in its team's channel, its first case open with a
case card posted, and the bot installed in that channel, so that every card press and chair
command the benchmark sends is a legitimate one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import meeting as run
from dialogs.demo import DEMO_AGENCIES, DEMO_PEOPLE, next_meeting_time
from dialogs.installation import ConversationSeen, record_installation
from storage.database import Store
from storage.models import (
    Agency,
    AttendanceRole,
    Case,
    ConversationKind,
    Marac,
    Meeting,
    Person,
    Role,
    RoleGrant,
)

BOT_ID = "28:marac-bench-bot"
BATCH = 25  # MARACs per unit of work


@dataclass(frozen=True)
class Member:
    first_name: str
    teams_id: str
    aad_object_id: str
    agency: str | None
    roles: tuple[Role, ...]

    @property
    def attends_as(self) -> AttendanceRole:
        if Role.CHAIR in self.roles:
            return AttendanceRole.CHAIR
        if Role.AGENCY_REPRESENTATIVE in self.roles:
            return AttendanceRole.AGENCY_REPRESENTATIVE
        return AttendanceRole.OBSERVER

    @property
    def plans(self) -> bool:
        """May add actions (bot.turns.registry.PLANNERS)."""
        return bool({Role.AGENCY_REPRESENTATIVE, Role.CHAIR, Role.COORDINATOR} & set(self.roles))


@dataclass(frozen=True)
class BenchMeeting:
    index: int
    tenant: str
    team: str  # the team's General channel, where the meeting runs
    cases: tuple[str, ...]  # case numbers in slot order; the first is open
    card_message_id: str  # the open case's card
    members: tuple[Member, ...]

    @property
    def chair(self) -> Member:
        return next(m for m in self.members if Role.CHAIR in m.roles)

    @property
    def representatives(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members
                     if m.attends_as is AttendanceRole.AGENCY_REPRESENTATIVE)

    @property
    def planners(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.plans)


def plan(index: int, cases: int, year: int) -> BenchMeeting:
    """The names and ids of MARAC number `index`, before anything is stored."""
    members = tuple(
        Member(p.full_name.split()[0], f"29:bench-{index:04d}-{k}", f"bench-{index:04d}-{k}",
               p.agency, p.roles)
        for k, p in enumerate(DEMO_PEOPLE))
    return BenchMeeting(
        index=index, tenant=f"00000000-0000-4000-8000-{index:012d}",
        team=f"19:bench-marac-{index:04d}@thread.tacv2",
        cases=tuple(f"B{index:04d}-{year}-{slot:03d}" for slot in range(1, cases + 1)),
        card_message_id=f"case-card-{index:04d}-1", members=members)


async def seed(store: Store, count: int, now: datetime, service_url: str, *, cases: int = 12,
               slot_seconds: int = 20 * 60, warning_seconds: int = 5 * 60,
               first: int = 0) -> list[BenchMeeting]:
    """MARACs number first .. first+count-1, each with its meeting under way."""
    planned = [plan(i, cases, now.year) for i in range(first, first + count)]
    for start in range(0, count, BATCH):
        async with store.unit_of_work() as session:
            for meeting in planned[start:start + BATCH]:
                await _seed_one(session, meeting, now, service_url, slot_seconds,
                                warning_seconds)
    return planned


async def _seed_one(session: AsyncSession, planned: BenchMeeting, now: datetime,
                    service_url: str, slot_seconds: int, warning_seconds: int) -> None:
    marac = Marac(name=f"Bench MARAC {planned.index:04d}", area=f"Bench {planned.index}",
                  tenant_id=planned.tenant, team_id=planned.team,
                  case_prefix=f"B{planned.index:04d}", slot_seconds=slot_seconds,
                  warning_seconds=warning_seconds, slots_per_meeting=len(planned.cases))
    agencies = {name: Agency(marac=marac, name=name, is_core=core,
                             signed_sharing_agreement=signed)
                for name, core, signed in DEMO_AGENCIES}
    session.add_all([marac, *agencies.values()])
    await session.flush()
    chair = _add_people(session, planned, marac, agencies)
    meeting = Meeting(marac=marac, starts_at=next_meeting_time(now))
    meeting.cases = [Case(number=number, slot=slot, victim_first_name=f"Victim{slot}",
                          victim_contact="IDVA")  # named, so that `next` may close it
                     for slot, number in enumerate(planned.cases, start=1)]
    session.add(meeting)
    await session.flush()
    await _start(session, planned, marac, chair, now)
    await record_installation(session, _channel(planned, service_url), now)


def _add_people(session: AsyncSession, planned: BenchMeeting, marac: Marac,
                agencies: dict[str, Agency]) -> Person:
    people = []
    for member in planned.members:
        person = Person(tenant_id=planned.tenant, aad_object_id=member.aad_object_id,
                        first_name=member.first_name, teams_user_id=member.teams_id,
                        agency_id=agencies[member.agency].id if member.agency else None)
        person.grants = [RoleGrant(marac_id=marac.id, role=role) for role in member.roles]
        people.append(person)
    session.add_all(people)
    return people[planned.members.index(planned.chair)]


async def _start(session: AsyncSession, planned: BenchMeeting, marac: Marac, chair: Person,
                 now: datetime) -> None:
    """The chair's `start` and first `next`, as the bot runs them."""
    await session.flush()
    meeting, _ = await run.start(session, marac.id, planned.team, chair.id, now)
    meeting.attendance_message_id = f"attendance-{planned.index:04d}"
    _, opened = await run.advance(session, meeting, [], now)
    assert opened is not None
    await session.execute(update(Case).where(Case.id == opened.id)
                          .values(card_message_id=planned.card_message_id))


def _channel(planned: BenchMeeting, service_url: str) -> ConversationSeen:
    reference = {"bot": {"id": BOT_ID}, "conversation": {"id": planned.team},
                 "serviceUrl": service_url, "channelId": "msteams"}
    return ConversationSeen(planned.team, ConversationKind.CHANNEL, planned.tenant,
                            planned.team, planned.team, service_url, json.dumps(reference))
