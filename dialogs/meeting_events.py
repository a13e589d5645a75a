"""What Teams says about the meeting's call itself: people joining it (shown on the attendance
card as joined, not yet confirmed: confirming stays an explicit press) and its end with the
MARAC meeting still open (the chair is reminded once)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.meeting import under_way_in
from dialogs.people import people_with
from storage.models import Attendance, Meeting, MeetingArrival, Person, Role


async def record_joined(session: AsyncSession, conversation_id: str, tenant_id: str,
                        aad_object_ids: Iterable[str], now: datetime) -> Meeting | None:
    """The meeting under way here, if anyone the MARAC knows joined its call just now."""
    meeting = await under_way_in(session, conversation_id)
    wanted = [a for a in aad_object_ids if a]
    if meeting is None or not wanted:
        return None
    people = (await session.scalars(select(Person.id).where(
        Person.tenant_id == tenant_id, Person.aad_object_id.in_(wanted)))).all()
    known = set((await session.scalars(select(MeetingArrival.person_id).where(
        MeetingArrival.meeting_id == meeting.id))).all())
    new = [p for p in people if p not in known]
    session.add_all(MeetingArrival(meeting_id=meeting.id, person_id=p, joined_at=now)
                    for p in new)
    return meeting if new else None


async def joined_unconfirmed(session: AsyncSession, meeting: Meeting) -> list[str]:
    """First names of those who joined the call and have not confirmed their attendance."""
    confirmed = select(Attendance.person_id).where(Attendance.meeting_id == meeting.id)
    return list((await session.scalars(
        select(Person.first_name).join(MeetingArrival, MeetingArrival.person_id == Person.id)
        .where(MeetingArrival.meeting_id == meeting.id, Person.id.not_in(confirmed))
        .order_by(MeetingArrival.joined_at, MeetingArrival.id))).all())


async def note_teams_meeting(session: AsyncSession, conversation_id: str,
                             teams_meeting_id: str | None) -> None:
    """Keep Teams' id of the meeting the MARAC meeting under way here runs in."""
    meeting = await under_way_in(session, conversation_id)
    if meeting is not None and teams_meeting_id:
        meeting.teams_meeting_id = teams_meeting_id


async def chairs_in_teams(session: AsyncSession, meeting: Meeting) -> list[str]:
    """The Teams ids of the meeting's chair and stand-in, where known."""
    people = [p for p in (meeting.chair_person_id, meeting.stand_in_person_id) if p is not None]
    if not people:
        return []
    return [t for t in (await session.scalars(select(Person.teams_user_id).where(
        Person.id.in_(people)).order_by(Person.id))).all() if t]


async def remind_unended(session: AsyncSession, conversation_id: str, now: datetime
                         ) -> tuple[Meeting, tuple[int, ...]] | None:
    """The Teams meeting here has ended: the MARAC meeting still open and whom to remind (its
    chair and stand-in, or the MARAC's chairs if Teams opened it), the first time only."""
    meeting = await under_way_in(session, conversation_id)
    if meeting is None or meeting.end_reminded_at is not None:
        return None
    meeting.end_reminded_at = now
    chairs = tuple(p for p in (meeting.chair_person_id, meeting.stand_in_person_id)
                   if p is not None)
    return meeting, chairs or await people_with(session, meeting.marac_id, (Role.CHAIR,))
