"""Each timer claim on PostgreSQL, as two replicas make it at the same moment: while one holds
its claim the other skips the row, and once it has committed the other finds nothing left to
claim. An outbox message whose sender died is claimed again once its lease runs out, and the
dead sender's word comes too late to change it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from botbuilder.schema import Activity
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.proactive import outbox
from bot.proactive.circulation import queue_scheduled
from dialogs.circulation import case_list_due_at, claim_due_case_lists
from dialogs.demo import DEMO_TEAM
from dialogs.meeting_record import claim_slot_warnings
from storage.database import Store
from storage.models import Case, Marac, Meeting, OutboxMessage
from tests.store.meeting_factory import next_case, seed, started

pytestmark = pytest.mark.postgres


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two replicas' stores: separate engines on one database."""
    first, second = Store.from_url(postgres_url), Store.from_url(postgres_url)
    yield first, second
    await first.close()
    await second.close()


@contextlib.asynccontextmanager
async def holding(store: Store) -> AsyncIterator[AsyncSession]:
    """A replica's tick whose transaction is still open when the block's body runs."""
    async with store.unit_of_work() as session:
        yield session


async def test_a_slot_warning_held_by_one_replica_is_skipped_by_the_other_then_done(
        replicas, clock):
    first, second = replicas
    await started(first, clock, slot_seconds=60, warning_seconds=20)
    await next_case(first, clock)
    clock.set(clock.now() + timedelta(seconds=41))
    async with holding(first) as session:
        assert [w.case.number for w in await claim_slot_warnings(session, clock.now())] == [
            "RIV-2026-001"]
        async with second.unit_of_work() as other:
            assert await claim_slot_warnings(other, clock.now()) == []
    async with second.unit_of_work() as other:
        assert await claim_slot_warnings(other, clock.now()) == []


async def test_a_slot_warning_is_claimed_on_the_row_as_locked_not_as_first_read(
        replicas, clock):
    """A replica whose tick read the open case before another claimed its warning still sees
    the claim once it holds the row."""
    first, second = replicas
    await started(first, clock, slot_seconds=60, warning_seconds=20)
    await next_case(first, clock)
    clock.set(clock.now() + timedelta(seconds=41))
    async with second.unit_of_work() as late:
        read = await late.scalar(select(Case).where(Case.number == "RIV-2026-001"))
        assert read is not None and read.warned_at is None
        async with first.unit_of_work() as session:
            assert len(await claim_slot_warnings(session, clock.now())) == 1
        # The claim reads the slot clocks afresh (and locks a case only once that reading
        # finds it due), so the copy read before plays no part in the decision.
        assert await claim_slot_warnings(late, clock.now()) == []
        assert await late.scalar(select(Case.warned_at).where(
            Case.number == "RIV-2026-001")) is not None


async def test_a_case_list_held_by_one_replica_is_skipped_by_the_other_then_done(
        replicas, clock):
    first, second = replicas
    demo = await seed(first, clock)
    async with first.unit_of_work() as session:
        marac = await session.get_one(Marac, demo.marac_id)
        meeting = await session.get_one(Meeting, demo.meeting_id)
        clock.set(case_list_due_at(marac, meeting))
    async with holding(first) as session:
        assert len(await claim_due_case_lists(session, clock.now())) == 1
        async with second.unit_of_work() as other:
            assert await claim_due_case_lists(other, clock.now()) == []
    async with second.unit_of_work() as other:
        assert await claim_due_case_lists(other, clock.now()) == []


async def test_a_tick_holds_no_lock_on_a_meeting_whose_case_list_is_not_due(replicas, clock):
    """While one replica's tick is under way, a press or command on a meeting to come (the
    chair's, an apology's) takes its row without waiting: only meetings found due are locked.
    The tick once locked every meeting to come while it ran, holding up every attendance
    press at every MARAC for as long (about a second, with 200 MARACs)."""
    first, second = replicas
    demo = await seed(first, clock)
    async with first.unit_of_work() as session:
        marac = await session.get_one(Marac, demo.marac_id)
        meeting = await session.get_one(Meeting, demo.meeting_id)
        clock.set(case_list_due_at(marac, meeting) - timedelta(hours=1))
    async with holding(first) as session:
        await queue_scheduled(session, clock.now())
        async with second.unit_of_work() as other:
            locked = await other.scalar(select(Meeting.id).where(
                Meeting.id == demo.meeting_id).with_for_update(nowait=True))
            assert locked == demo.meeting_id


async def queue_two(store: Store, clock) -> None:
    async with store.unit_of_work() as session:
        for text in ("one", "two"):
            outbox.enqueue(session, Activity(type="message", text=text, summary="Slot"),
                           "slot warning", clock.now(), conversation_id=DEMO_TEAM)


async def test_replicas_claim_disjoint_messages_and_a_lease_keeps_them_apart(replicas, clock):
    first, second = replicas
    await queue_two(first, clock)
    lease = timedelta(seconds=2)
    async with holding(first) as session:
        mine = await outbox.claim_due(session, clock.now(), lease, limit=1)
        async with second.unit_of_work() as other:
            theirs = await outbox.claim_due(other, clock.now(), lease)
    assert [m.activity["text"] for m in mine + theirs] == ["one", "two"]
    async with second.unit_of_work() as other:
        assert await outbox.claim_due(other, clock.now() + lease / 2, lease) == []


async def test_a_dead_senders_message_is_taken_over_when_its_lease_runs_out(replicas, clock):
    first, second = replicas
    await queue_two(first, clock)
    lease = timedelta(seconds=2)
    async with first.unit_of_work() as session:
        (dead,) = await outbox.claim_due(session, clock.now(), lease, limit=1)
    later = clock.now() + lease
    async with second.unit_of_work() as other:
        taken = await outbox.claim_due(other, later, lease)
    assert sorted((m.id, m.attempts) for m in taken) == [(dead.id, 2), (dead.id + 1, 1)]

    async with first.unit_of_work() as session:  # the first sender's refusal comes late
        stale = await session.get_one(OutboxMessage, dead.id, with_for_update=True)
        outbox.settle(stale, later, "ServerError: 503", attempt=dead.attempts)
    async with second.unit_of_work() as other:
        fresh = await other.get_one(OutboxMessage, dead.id, with_for_update=True)
        assert (fresh.last_error, fresh.next_attempt_at) == ("", later + lease)
        outbox.settle(fresh, later, None, attempt=2)
    async with first.unit_of_work() as session:  # nor does a late failure undo a delivery
        stale = await session.get_one(OutboxMessage, dead.id, with_for_update=True)
        outbox.settle(stale, later, "ServerError: 503", attempt=2)
    async with second.unit_of_work() as other:
        settled = await other.get_one(OutboxMessage, dead.id)
        assert (settled.delivered_at, settled.last_error) == (later, "")
