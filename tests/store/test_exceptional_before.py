"""An exceptional case found before the meeting (issue 16): the coordinator marks a listed case
exceptional in personal chat (`mark CASE exceptional death|moved NOTE`); it stays on the agenda for
information, no action can be planned on it at the meeting, and it closes without a victim
contact. Anyone else, a case already heard, or bad input is refused in one sentence and
nothing changes; each attempt is audited with its outcome."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialogs import meeting as run
from dialogs.agenda import agenda_lines
from dialogs.demo import DEMO_PEOPLE
from storage.models import (
    AttendanceRole,
    AuditEvent,
    Case,
    CaseStatus,
    Marac,
    Meeting,
    PlannedAction,
)
from tests.store.meeting_factory import CHANNEL, attend, case_named, next_case, seed
from tests.store.test_closed_panel import an_action, press_in_channel
from tests.store.test_marac_scope import personal
from tests.turns import handle_card_action, handle_message

CARA, CHRIS, PRIYA = DEMO_PEOPLE[0], DEMO_PEOPLE[1], DEMO_PEOPLE[3]
ASK = ("Say **mark CASE exceptional death** or **mark CASE exceptional moved**, then what is "
       "known.")


async def say(store, clock, who, text: str) -> str:
    activity = personal(who.aad_object_id, text)
    activity.id = f"m-{len(text)}-{hash(text)}"  # Teams' ids are short, whatever was typed
    posts = await handle_message(activity, store, clock)
    return " ".join(post.message.text or "" for post in posts)


async def marks(store) -> list[tuple[str, str, str]]:
    async with store.unit_of_work() as session:
        return [(c.number, c.exceptional, c.exceptional_note) for c in (await session.scalars(
            select(Case).where(Case.exceptional != "").order_by(Case.number))).all()]


async def test_the_coordinator_marks_a_listed_case_exceptional_before_the_meeting(store, clock):
    demo = await seed(store, clock)
    first = demo.numbers[0]
    clock.set(demo.starts_at - timedelta(days=1))
    answer = await say(store, clock, CARA, f"mark {first} exceptional death The victim died "
                                           "on Sunday; police are investigating.")
    assert answer == (f"{first} is exceptional (death of the victim or perpetrator): it stays "
                      "on the agenda for information, and no actions will be planned.")
    assert await marks(store) == [
        (first, "death", "The victim died on Sunday; police are investigating.")]
    async with store.unit_of_work() as session:
        meeting = await session.get_one(Meeting, demo.meeting_id)
        marac = await session.get_one(Marac, demo.marac_id)
        listed = [line.case_number for line in await agenda_lines(session, marac, meeting)]
    case = await case_named(store, first)
    assert first in listed and case.status is CaseStatus.LISTED  # still on the agenda

    clock.set(demo.starts_at)
    async with store.unit_of_work() as session:
        await run.start(session, demo.marac_id, CHANNEL, demo.chair, clock.now())
    await attend(store, clock, demo, "Priya", AttendanceRole.AGENCY_REPRESENTATIVE, "Police")
    _, opened = await next_case(store, clock, victim_contact=None)
    assert opened == first
    activity, action = press_in_channel(CHRIS, "case.action", case=first, **an_action(clock))
    answer, _, _ = await handle_card_action(activity, action, store, clock)
    assert answer["value"] == "No action planning takes place for an exceptional case."
    async with store.unit_of_work() as session:
        assert (await session.scalars(select(PlannedAction))).all() == []
    closed, _ = await next_case(store, clock, victim_contact=None)  # no victim contact owed
    assert closed == first


async def test_only_the_coordinator_marks_a_case_before_the_meeting(store, clock):
    demo = await seed(store, clock)
    first = demo.numbers[0]
    for who in (CHRIS, PRIYA):
        refused = await say(store, clock, who, f"mark {first} exceptional moved To Leeds.")
        assert refused.endswith(".") and "is exceptional" not in refused, refused
    assert await marks(store) == []
    async with store.unit_of_work() as session:
        outcomes = (await session.scalars(select(AuditEvent.outcome).where(
            AuditEvent.action == "mark").order_by(AuditEvent.id))).all()
    assert outcomes == ["refused"] * 2


async def test_bad_input_and_a_case_already_heard_are_refused_and_nothing_changes(
        store, clock):
    demo = await seed(store, clock)
    first = demo.numbers[0]
    refusals = {
        f"mark {first} exceptional lost Nobody knows.": ASK,
        f"mark {first} exceptional death": ASK,
        f"mark {first} death The victim died.": ASK,
        "mark RIV-1999-001 exceptional death Long ago.": (
            "That case is not listed at one of this MARAC's meetings."),
        f"mark {first} exceptional moved " + "x" * 1001: "Keep the note under 1,000 characters.",
    }
    for text, refusal in refusals.items():
        assert await say(store, clock, CARA, text) == refusal, text
    async with store.unit_of_work() as session:
        meeting = await session.get_one(Meeting, demo.meeting_id)
        await run.start(session, demo.marac_id, CHANNEL, demo.chair, clock.now())
        assert meeting.id == demo.meeting_id
    assert await say(store, clock, CARA, f"mark {first} exceptional moved To Leeds.") == (
        f"The meeting for {first} has begun: the chair marks it exceptional there.")
    assert await marks(store) == []
