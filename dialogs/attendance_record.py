"""Attendance is monitored and persistent non-attendance reported (002): a core agency that
sent no one to the last meetings held is named to the operations manager when a meeting
ends."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Attendance, Meeting, MeetingStatus

PERSISTENT = 3  # meetings in a row without the agency


async def persistently_absent(session: AsyncSession, marac_id: int) -> list[str]:
    """Core agencies absent from each of the MARAC's last PERSISTENT meetings held."""
    held = (await session.scalars(
        select(Meeting.id).where(Meeting.marac_id == marac_id,
                                 Meeting.status == MeetingStatus.ENDED)
        .order_by(Meeting.ended_at.desc()).limit(PERSISTENT))).all()
    if len(held) < PERSISTENT:
        return []
    attended = select(Attendance.agency_id).where(Attendance.meeting_id.in_(held),
                                                  Attendance.agency_id.is_not(None))
    return sorted((await session.scalars(select(Agency.name).where(
        Agency.marac_id == marac_id, Agency.is_core, Agency.id.not_in(attended)))).all())
