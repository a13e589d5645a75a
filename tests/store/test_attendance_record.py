"""Persistent non-attendance (002): a core agency that sent no one to the last three meetings
held is reported to the operations manager as the third ends; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from bot.turns.access import Context
from bot.turns.pipeline import handled, posts_of
from bot.turns.registry import Place, find
from bot.turns.request import Request
from dialogs.actor import Actor
from dialogs.attendance_record import persistently_absent
from storage.models import (
    Attendance,
    AttendanceRole,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Role,
)
from tests.store.meeting_factory import attend, started


async def earlier_meetings(store, clock, demo, held: int, police_attending: bool) -> None:
    """`held` meetings ended before the demo's; Police alone attended, if at all."""
    async with store.unit_of_work() as session:
        for weeks in range(1, held + 1):
            when = clock.now() - timedelta(weeks=weeks)
            meeting = Meeting(marac_id=demo.marac_id, starts_at=when, started_at=when,
                              ended_at=when + timedelta(hours=2), status=MeetingStatus.ENDED)
            session.add(meeting)
            await session.flush()
            if police_attending:
                session.add(Attendance(meeting_id=meeting.id, person_id=demo.people["Priya"],
                                       agency_id=demo.agencies["Police"],
                                       role=AttendanceRole.AGENCY_REPRESENTATIVE,
                                       confirmed_at=when))


async def end_today(store, clock, demo) -> None:
    """The chair's `end`, as the bot runs it once the table lets it through."""
    async with store.unit_of_work() as session:
        actor = Actor("t", "a", "Chris", demo.chair, frozenset({Role.CHAIR}))
        arrival = SimpleNamespace(conversation_id="19:riverside-marac@thread.tacv2",
                                  place="19:riverside-marac@thread.tacv2")
        request = Request(session, Context(actor, demo.marac_id, Place.CHANNEL), "", clock,
                          arrival)  # type: ignore[arg-type]
        end = find("end")
        assert end is not None
        [summary] = posts_of(*await handled(end, request))
    assert summary.message.attachments, summary.message.text  # the summary card, not a refusal


async def reports(store) -> list[tuple[int | None, str]]:
    async with store.unit_of_work() as session:
        rows = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.purpose == "non-attendance"))).all()
        return [(row.person_id, row.activity["text"]) for row in rows]


async def test_a_core_agency_absent_three_meetings_running_is_reported_once(store, clock):
    demo = await started(store, clock)
    await earlier_meetings(store, clock, demo, held=2, police_attending=True)
    await attend(store, clock, demo, "Imogen", AttendanceRole.AGENCY_REPRESENTATIVE,
                 "IDVA Service")
    await end_today(store, clock, demo)
    assert await reports(store) == [(demo.people["Olu"], (
        "Children's Social Care sent no one to the last 3 meetings of the Riverside MARAC, "
        "today's included: persistent non-attendance, to be taken up with the agency."))]


async def test_two_meetings_are_not_yet_persistent(store, clock):
    demo = await started(store, clock)
    await earlier_meetings(store, clock, demo, held=1, police_attending=False)
    await end_today(store, clock, demo)
    assert await reports(store) == []
    async with store.unit_of_work() as session:
        assert await persistently_absent(session, demo.marac_id) == []
