"""The agenda of a MARAC's next meeting: cases in slot order with their times, the open part
first and the closed panel (honour-based violence, 002) after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Agency, Case, Marac, Meeting


@dataclass(frozen=True)
class PlannedLine:
    agency: str
    for_whom: str
    description: str
    from_earlier_plan: bool


@dataclass(frozen=True)
class AgendaLine:
    slot: int
    starts_at: datetime
    case_number: str
    first_name: str
    reasons: tuple[str, ...] = ()
    repeat: bool = False
    closed_panel: bool = False
    breaches_target: bool = False
    actions: tuple[PlannedLine, ...] = ()


@dataclass(frozen=True)
class Agenda:
    marac_name: str
    meeting_starts_at: datetime | None
    lines: tuple[AgendaLine, ...]


async def next_agenda(session: AsyncSession, marac_id: int, now: datetime) -> Agenda:
    marac = await session.get_one(Marac, marac_id)
    meeting = await session.scalar(
        select(Meeting)
        .where(Meeting.marac_id == marac_id, Meeting.starts_at >= now - timedelta(hours=12))
        .order_by(Meeting.starts_at)
        .limit(1)
    )
    if meeting is None:
        return Agenda(marac.name, None, ())
    return Agenda(marac.name, meeting.starts_at, await agenda_lines(session, marac, meeting))


async def agenda_lines(session: AsyncSession, marac: Marac, meeting: Meeting
                       ) -> tuple[AgendaLine, ...]:
    cases = (await session.scalars(
        select(Case).where(Case.meeting_id == meeting.id)
        .options(selectinload(Case.referral), selectinload(Case.planned_actions))
        .order_by(Case.closed_panel, Case.slot))).all()
    agencies = {a.id: a.name for a in (await session.scalars(
        select(Agency).where(Agency.marac_id == marac.id))).all()}
    slot = timedelta(seconds=marac.slot_seconds)
    return tuple(
        AgendaLine(
            slot=position, starts_at=meeting.starts_at + (position - 1) * slot,
            case_number=case.number, first_name=case.victim_first_name,
            reasons=tuple(case.referral.qualifying_reasons) if case.referral else (),
            repeat=bool(case.referral and case.referral.repeat_of_id),
            closed_panel=case.closed_panel, breaches_target=case.breaches_target,
            actions=tuple(PlannedLine(agencies.get(a.owning_agency_id or 0, "Any agency"),
                                      a.for_whom, a.description, a.origin == "earlier_plan")
                          for a in case.planned_actions),
        )
        for position, case in enumerate(cases, start=1)
    )
