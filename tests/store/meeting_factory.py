"""Shared helpers for the meeting tests: the demo MARAC seeded with a chosen slot clock, and
the chair's commands run as the bot runs them, each in its own unit of work, against the
meeting under way in the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from dialogs import meeting as run
from dialogs.demo import DEMO_MARAC, DEMO_TEAM, seed_demo
from dialogs.meeting import Slot
from storage.models import Agency, Case, Marac, Meeting, Person

CHANNEL = DEMO_TEAM  # the demo team's General channel: where the meeting is run


@dataclass(frozen=True)
class Demo:
    marac_id: int
    meeting_id: int
    starts_at: datetime
    numbers: tuple[str, ...]  # the cases in slot order
    people: dict[str, int]  # first name -> person id
    agencies: dict[str, int]  # name -> agency id

    @property
    def chair(self) -> int:
        return self.people["Chris"]


async def seed(store, clock, slot_seconds: int = 20 * 60, warning_seconds: int = 5 * 60
               ) -> Demo:
    """The demo MARAC; the clock is moved to its meeting's start."""
    async with store.unit_of_work() as session:
        assert await seed_demo(session, clock.now(), slot_seconds, warning_seconds)
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac).where(Marac.name == DEMO_MARAC))
        assert marac is not None
        meeting = await session.scalar(select(Meeting).where(Meeting.marac_id == marac.id))
        assert meeting is not None
        numbers = (await session.scalars(select(Case.number).where(
            Case.meeting_id == meeting.id).order_by(Case.slot))).all()
        people = {p.first_name: p.id for p in (await session.scalars(select(Person))).all()}
        agencies = {a.name: a.id for a in (await session.scalars(
            select(Agency).where(Agency.marac_id == marac.id))).all()}
    clock.set(meeting.starts_at)
    return Demo(marac.id, meeting.id, meeting.starts_at, tuple(numbers), people, agencies)


async def started(store, clock, slot_seconds: int = 20 * 60, warning_seconds: int = 5 * 60
                  ) -> Demo:
    """The demo MARAC with its meeting opened by the chair in the channel."""
    demo = await seed(store, clock, slot_seconds, warning_seconds)
    async with store.unit_of_work() as session:
        meeting, new = await run.start(session, demo.marac_id, CHANNEL, demo.chair, clock.now())
    assert new and meeting.id == demo.meeting_id
    return demo


def later(clock, seconds: float) -> datetime:
    """Move the clock on by `seconds`; the new now."""
    clock.set(clock.now() + timedelta(seconds=seconds))
    return clock.now()


async def add_case(store, demo: Demo, number: str, first_name: str, closed_panel: bool = False
                   ) -> None:
    """One more case listed at the end of the demo meeting's agenda."""
    async with store.unit_of_work() as session:
        last = max((await session.scalars(select(Case.slot).where(
            Case.meeting_id == demo.meeting_id))).all())
        session.add(Case(number=number, meeting_id=demo.meeting_id, slot=last + 1,
                         victim_first_name=first_name, closed_panel=closed_panel))


async def next_case(store, clock, victim_contact: str | None = "Imogen"
                    ) -> tuple[str | None, str | None]:
    """The chair's `next`, as the bot does it: (closed case number, opened case number).
    The open case's victim contact is named first, as the chair must, unless None."""
    async with store.unit_of_work() as session:
        meeting = await run.must_be_under_way(session, CHANNEL)
        current = await run.open_case(session, meeting)
        if current is not None and victim_contact and not current.victim_contact:
            current.victim_contact = victim_contact
        responsible = await run.responsible_names(session, meeting)
        closed, opened = await run.advance(session, meeting, responsible, clock.now())
        return (closed.number if closed else None), (opened.number if opened else None)


async def pause(store, clock) -> None:
    async with store.unit_of_work() as session:
        run.pause(await run.must_be_under_way(session, CHANNEL), clock.now())


async def resume(store, clock) -> None:
    async with store.unit_of_work() as session:
        await run.resume(session, await run.must_be_under_way(session, CHANNEL), clock.now())


async def extend(store, clock, minutes: int) -> Case:
    async with store.unit_of_work() as session:
        meeting = await run.must_be_under_way(session, CHANNEL)
        marac = await session.get_one(Marac, meeting.marac_id)
        return await run.extend(session, meeting, marac, minutes, clock.now())


async def go_back(store, clock) -> str:
    async with store.unit_of_work() as session:
        meeting = await run.must_be_under_way(session, CHANNEL)
        return (await run.go_back(session, meeting, clock.now())).number


async def defer(store, clock, reason: str) -> tuple[Case, Meeting]:
    async with store.unit_of_work() as session:
        meeting = await run.must_be_under_way(session, CHANNEL)
        marac = await session.get_one(Marac, meeting.marac_id)
        return await run.defer(session, meeting, marac, reason, clock.now())


async def exceptional(store, clock, kind: str, note: str) -> Case:
    async with store.unit_of_work() as session:
        meeting = await run.must_be_under_way(session, CHANNEL)
        return await run.mark_exceptional(session, meeting, kind, note, clock.now())


async def end(store, clock, victim_contact: str | None = "Imogen") -> None:
    """The chair's `end`; the open case's victim contact is named first, unless None."""
    async with store.unit_of_work() as session:
        meeting = await run.must_be_under_way(session, CHANNEL)
        current = await run.open_case(session, meeting)
        if current is not None and victim_contact and not current.victim_contact:
            current.victim_contact = victim_contact
        await run.end(session, meeting, await run.responsible_names(session, meeting),
                      clock.now())


async def case_named(store, number: str) -> Case:
    """The case as stored now."""
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        return case


async def meeting_of(store, meeting_id: int) -> Meeting:
    async with store.unit_of_work() as session:
        return await session.get_one(Meeting, meeting_id)


async def slot(store, clock, number: str) -> Slot:
    """The case's slot clock as the case card shows it now."""
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        meeting = await session.get_one(Meeting, case.meeting_id)
        marac = await session.get_one(Marac, meeting.marac_id)
        return run.slot_of(marac, meeting, case, clock.now())


async def attend(store, clock, demo: Demo, first_name: str, role, agency: str | None = None):
    """A press of the attendance card's Confirm button; the stored attendance."""
    async with store.unit_of_work() as session:
        meeting = await session.get_one(Meeting, demo.meeting_id)
        person = await session.get_one(Person, demo.people[first_name])
        return await run.confirm_attendance(session, meeting, person, role,
                                            demo.agencies[agency] if agency else None,
                                            clock.now())
