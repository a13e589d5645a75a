"""The agenda of a MARAC's next meeting, as anyone in its channel may see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import Marac, Meeting


@dataclass(frozen=True)
class AgendaLine:
    slot: int
    starts_at: datetime
    case_number: str
    first_name: str


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
        .options(selectinload(Meeting.cases))
    )
    if meeting is None:
        return Agenda(marac.name, None, ())
    slot = timedelta(minutes=marac.slot_minutes)
    lines = tuple(
        AgendaLine(case.slot, meeting.starts_at + (case.slot - 1) * slot, case.number,
                   case.victim_first_name)
        for case in meeting.cases
    )
    return Agenda(marac.name, meeting.starts_at, lines)
