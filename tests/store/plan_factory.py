"""Shared helpers for the tests of the plan after the meeting: the demo meeting with its first
case heard (attendance, information, actions agreed), the timer's queueing run as the bot runs
it, and one-line reads of what the store holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.proactive.circulation import queue_due
from dialogs import case_work
from dialogs import meeting as run
from storage.database import Store
from storage.models import (
    AgencyMailbox,
    AttendanceRole,
    Case,
    Dissemination,
    OutboxMessage,
    Person,
    PlanDelivery,
    PlannedAction,
    PlanVersion,
    Role,
    RoleGrant,
)
from tests.store.meeting_factory import CHANNEL, Demo, attend, next_case, started


@dataclass(frozen=True)
class Heard:
    demo: Demo
    number: str  # the case heard and closed
    actions: dict[str, int]  # owner's first name -> planned action id


def action_fields(agency: str, owner: str, due: date, description: str | None = None
                  ) -> dict[str, object]:
    return {"agency": agency, "owner": owner, "for_whom": "victim",
            "description": description or f"{agency} safety step for the victim.",
            "risk": "Threats to kill.", "due_on": due.isoformat()}


async def heard(store: Store, clock: Any, *, closed_panel: bool = False,
                admitted: tuple[str, ...] = (), probation_rep: bool = False,
                actions: tuple[tuple[str, str], ...] = (
                    ("Police", "Priya"), ("IDVA Service", "Imogen"), ("Probation", "Pat")),
                close: bool = True) -> Heard:
    """The demo meeting under way: Priya (Police), Imogen (IDVA) and the chair attend, Owen
    observes; the first case is opened, Police and Health share information, the actions
    are agreed and the chair closes the case with `next` (unless `close` is False)."""
    demo = await started(store, clock)
    if probation_rep:
        async with store.unit_of_work() as session:
            person = Person(tenant_id="6a1f0c2e-5d0b-4c55-9a3e-7f3c4b2d9e10",
                            aad_object_id="0d3a1c00-0000-4000-8000-000000000009",
                            first_name="Pat", agency_id=demo.agencies["Probation"],
                            teams_user_id="user-id-9")
            person.grants = [RoleGrant(marac_id=demo.marac_id,
                                       role=Role.AGENCY_REPRESENTATIVE)]
            session.add(person)
            await session.flush()
            demo.people["Pat"] = person.id
    await attend(store, clock, demo, "Priya", AttendanceRole.AGENCY_REPRESENTATIVE, "Police")
    await attend(store, clock, demo, "Imogen", AttendanceRole.AGENCY_REPRESENTATIVE,
                 "IDVA Service")
    await attend(store, clock, demo, "Chris", AttendanceRole.CHAIR)
    await attend(store, clock, demo, "Owen", AttendanceRole.OBSERVER)
    number = demo.numbers[0]
    await next_case(store, clock)
    if closed_panel:  # made closed panel once open (the closed panel is heard last)
        async with store.unit_of_work() as session:
            case = await session.scalar(select(Case).where(Case.number == number))
            assert case is not None
            case.closed_panel = True
            case.admitted_person_ids = [demo.people[name] for name in admitted]
    due = clock.now().date() + timedelta(days=7)
    ids = {}
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        await case_work.add_information(session, case, demo.agencies["Police"],
                                        "Two call-outs in 2026.", False, demo.people["Priya"],
                                        clock.now())
        await case_work.add_information(session, case, demo.agencies["Health"],
                                        "Attended A&E in October.", False, demo.people["Cara"],
                                        clock.now())
        for n, (agency, owner) in enumerate(actions):
            action = await case_work.add_action(
                session, case, action_fields(agency, owner, due), demo.agencies,
                demo.people["Priya"], clock.now().date(), f"press-{n}")
            ids[owner] = action.id
    if close:
        clock.set(clock.now() + timedelta(minutes=15))
        await next_case(store, clock)
    return Heard(demo, number, ids)


async def tick(store: Store, clock: Any) -> None:
    """The timer's queueing, as Timers.circulate runs it."""
    async with store.unit_of_work() as session:
        await queue_due(session, clock.now())


async def end_meeting(store: Store, clock: Any) -> datetime:
    """The chair's `end`, with the open case's victim contact named first, as it must be."""
    async with store.unit_of_work() as session:
        meeting = await run.must_be_under_way(session, CHANNEL)
        current = await run.open_case(session, meeting)
        if current is not None and not current.victim_contact:
            current.victim_contact = "Imogen"
        await run.end(session, meeting, await run.responsible_names(session, meeting),
                      clock.now())
    return clock.now()


async def outbox(store: Store, purpose: str | None = None) -> list[OutboxMessage]:
    async with store.unit_of_work() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if purpose is not None:
            query = query.where(OutboxMessage.purpose == purpose)
        return list((await session.scalars(query)).all())


async def first_names(store: Store, person_ids: list[int | None]) -> list[str]:
    async with store.unit_of_work() as session:
        names = [(await session.get_one(Person, p)).first_name for p in person_ids
                 if p is not None]
    return sorted(names)


async def recipients(store: Store, purpose: str) -> list[str]:
    return await first_names(store, [m.person_id for m in await outbox(store, purpose)])


async def versions(store: Store, number: str) -> list[PlanVersion]:
    async with store.unit_of_work() as session:
        return list((await session.scalars(
            select(PlanVersion).join(Case, Case.id == PlanVersion.case_id)
            .where(Case.number == number).order_by(PlanVersion.version))).all())


async def deliveries(store: Store) -> list[PlanDelivery]:
    async with store.unit_of_work() as session:
        return list((await session.scalars(select(PlanDelivery).order_by(
            PlanDelivery.id))).all())


async def dissemination_of(store: Store, number: str) -> Dissemination:
    async with store.unit_of_work() as session:
        found = await session.scalar(select(Dissemination).join(
            Case, Case.id == Dissemination.case_id).where(Case.number == number))
        assert found is not None
        return found


async def add_mailbox(store: Store, agency_id: int, address: str) -> int:
    async with store.unit_of_work() as session:
        mailbox = AgencyMailbox(agency_id=agency_id, address=address)
        session.add(mailbox)
        await session.flush()
        return mailbox.id


async def count(store: Store, model: Any, *where: Any) -> int:
    async with store.unit_of_work() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def follow_up_of(store: Store, action_id: int) -> int:
    from storage.models import ActionFollowUp

    async with store.unit_of_work() as session:
        found = await session.scalar(select(ActionFollowUp.id).where(
            ActionFollowUp.action_id == action_id))
        assert found is not None
        return found


async def planned(store: Store, action_id: int) -> PlannedAction:
    async with store.unit_of_work() as session:
        return await session.get_one(PlannedAction, action_id)


async def press(store: Store, clock: Any, h: Heard, who: str, verb: str,
                data: dict[str, object], roles: frozenset[Role] = frozenset(
                    {Role.AGENCY_REPRESENTATIVE})) -> dict[str, Any]:
    """A button of the plan pressed in personal chat, as bot.turns.pipeline runs it once the
    command table has let the press through; the invoke answer."""
    from types import SimpleNamespace

    from bot.turns.access import Context
    from bot.turns.pipeline import handled, press_answer
    from bot.turns.press import Press
    from bot.turns.registry import Place, find_button
    from dialogs.actor import Actor

    actor = Actor("tenant", "aad", who, h.demo.people[who], roles)
    arrival: Any = SimpleNamespace(conversation_id="personal", place="personal")
    async with store.unit_of_work() as session:
        pressed = Press(session, Context(actor, h.demo.marac_id, Place.PERSONAL), data,
                        "card-1", clock, arrival)
        button = find_button(verb)
        assert button is not None
        return press_answer(pressed, *await handled(button, pressed))
