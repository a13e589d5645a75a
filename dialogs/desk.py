"""What the coordinator's desk and the meeting's side panel read that no command reads yet:
the next meetings, the research each agency has returned on a meeting's cases, and the
meeting running in a conversation (read without the lock the chair's commands take)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, AgencyInformation, Case, Meeting, MeetingStatus

UNDER_WAY = (MeetingStatus.RUNNING, MeetingStatus.PAUSED)


@dataclass(frozen=True)
class Returned:
    agency: str
    late: bool


async def next_meetings(session: AsyncSession, marac_id: int, now: datetime, count: int = 4
                        ) -> list[Meeting]:
    """The meetings still to come (or begun in the last 12 hours), soonest first."""
    return list((await session.scalars(
        select(Meeting).where(Meeting.marac_id == marac_id,
                              Meeting.starts_at >= now - timedelta(hours=12))
        .order_by(Meeting.starts_at).limit(count))).all())


async def research_returned(session: AsyncSession, meeting_id: int) -> dict[str, list[Returned]]:
    """Per case number, the agencies that returned research before the meeting."""
    rows = (await session.execute(
        select(Case.number, Agency.name, AgencyInformation.late)
        .join(AgencyInformation, AgencyInformation.case_id == Case.id)
        .join(Agency, Agency.id == AgencyInformation.agency_id)
        .where(Case.meeting_id == meeting_id, AgencyInformation.before_meeting)
        .order_by(Case.slot, Agency.name))).tuples().all()
    returned: dict[str, list[Returned]] = {}
    for number, agency, late in rows:
        returned.setdefault(number, []).append(Returned(agency, late))
    return returned


async def meeting_in(session: AsyncSession, place: str, marac_id: int) -> Meeting | None:
    """The MARAC's meeting under way in this conversation, if any."""
    return await session.scalar(select(Meeting).where(
        Meeting.conversation_id == place, Meeting.marac_id == marac_id,
        Meeting.status.in_(UNDER_WAY)))
