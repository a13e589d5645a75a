"""The timer's own work, on SQLite and PostgreSQL: the retention purge runs on its own hourly
schedule kept in the database, not every tick; the outbox is delivered until nothing due is
left, conversations at once and each one's messages in order; slot warnings of many meetings
are claimed in one go."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import timedelta
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ResourceResponse
from sqlalchemy import event, func, select

from bench.seeding import seed
from bot.proactive import outbox
from bot.proactive.circulation import queue_scheduled
from bot.proactive.timers import CONCURRENCY, PER_CONVERSATION, Timers
from bot.turns.replies import text_reply
from dialogs.meeting_record import claim_slot_warnings
from dialogs.retention import EVERY, purge_when_due
from storage.models import Conversation, ConversationKind, OutboxMessage, ScheduledJob


class RecordingAdapter(BotAdapter):
    """Takes every send after a short wait, recording what each conversation was sent, in
    order, and how many sends were under way at once, in all and per conversation."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[str, list[str]] = defaultdict(list)
        self.under_way: dict[str, int] = defaultdict(int)
        self.most_at_once = 0
        self.most_in_one_conversation = 0

    async def continue_conversation(self, reference: Any, callback: Any,
                                    bot_id: Any = None, claims_identity: Any = None,
                                    audience: Any = None) -> None:
        activity = Activity(type="message", conversation=reference.conversation)
        await callback(TurnContext(self, activity))

    async def send_activities(self, context: TurnContext, activities: list[Activity]
                              ) -> list[ResourceResponse]:
        conversation = context.activity.conversation.id
        self.under_way[conversation] += 1
        self.most_at_once = max(self.most_at_once, sum(self.under_way.values()))
        self.most_in_one_conversation = max(self.most_in_one_conversation,
                                            self.under_way[conversation])
        await asyncio.sleep(0.01)
        self.under_way[conversation] -= 1
        self.sent[conversation] += [str(a.text) for a in activities]
        return [ResourceResponse(id="1") for _ in activities]

    async def update_activity(self, context: TurnContext, activity: Activity) -> None:
        raise NotImplementedError

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        raise NotImplementedError


async def install(store, clock, conversations: list[str]) -> None:
    async with store.unit_of_work() as session:
        for conversation in conversations:
            reference = {"bot": {"id": "28:marac-bot"}, "conversation": {"id": conversation},
                         "serviceUrl": "https://example.invalid/", "channelId": "msteams"}
            session.add(Conversation(
                conversation_id=conversation, kind=ConversationKind.CHANNEL, tenant_id="t",
                service_url="https://example.invalid/", installed_at=clock.now(),
                reference=json.dumps(reference)))


async def test_the_outbox_is_delivered_until_empty_conversations_at_once_each_in_order(
        store, clock):
    conversations = [f"19:conversation-{n}@thread.tacv2" for n in range(CONCURRENCY + 8)]
    await install(store, clock, conversations)
    each = 2 * PER_CONVERSATION + 1  # more than one claim's worth for every conversation
    async with store.unit_of_work() as session:
        for n in range(each):
            for conversation in conversations:
                outbox.enqueue(session, text_reply(f"{n}", "Test"), "test", clock.now(),
                               conversation_id=conversation)
    adapter = RecordingAdapter()
    timers = Timers(store, adapter, clock, app_id="")

    assert await timers.deliver() == each * len(conversations)  # in one go, not one batch

    assert {c: adapter.sent[c] for c in conversations} == {
        c: [str(n) for n in range(each)] for c in conversations}
    assert adapter.most_in_one_conversation == 1  # one at a time within a conversation
    assert 1 < adapter.most_at_once <= CONCURRENCY  # conversations at once, within bounds
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.delivered_at.is_(None))) == 0
        assert set((await session.scalars(select(OutboxMessage.attempts))).all()) == {1}
    assert await timers.deliver() == 0


async def test_the_retention_purge_runs_once_an_hour_whatever_the_ticks(store, clock):
    async with store.unit_of_work() as session:
        assert await purge_when_due(session, clock.now()) == []  # never run: due now
    for later in (timedelta(0), timedelta(seconds=1), EVERY - timedelta(seconds=1)):
        async with store.unit_of_work() as session:
            assert await purge_when_due(session, clock.now() + later) is None
    async with store.unit_of_work() as session:
        assert await purge_when_due(session, clock.now() + EVERY) == []
        job = await session.get_one(ScheduledJob, "retention")
    assert job.due_at == clock.now() + 2 * EVERY


async def test_a_failed_purge_is_tried_again_at_the_next_tick(store, clock):
    try:
        async with store.unit_of_work() as session:
            assert await purge_when_due(session, clock.now()) == []
            raise RuntimeError("the purge failed")
    except RuntimeError:
        pass
    async with store.unit_of_work() as session:
        assert await purge_when_due(session, clock.now()) == []


async def test_slot_warnings_of_many_meetings_are_claimed_in_two_statements(store, clock):
    """One statement reads every running meeting's slot clock; a second locks and marks the
    cases found due; however many meetings run (nothing per MARAC or per meeting)."""
    meetings = await seed(store, 6, clock.now(), "https://example.invalid/", cases=2,
                          slot_seconds=60, warning_seconds=20)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        claimed = []
        for seconds, expected in ((30, 0), (41, 6), (42, 0), (61, 6), (62, 0)):
            statements.clear()
            async with store.unit_of_work() as session:
                warnings = await claim_slot_warnings(session, clock.now()
                                                     + timedelta(seconds=seconds))
            assert len(warnings) == expected
            selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
            assert len(selects) == (2 if expected else 1)
            claimed += [(w.case.number, w.over) for w in warnings]
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    assert sorted(claimed) == sorted((m.cases[0], over) for m in meetings
                                     for over in (False, True))


async def test_a_tick_with_nothing_due_costs_the_same_statements_for_ten_maracs_as_for_two(
        store, clock):
    """Case lists, reminders, what follows meetings and the weekly triage are looked for in
    statements that do not grow with the MARACs served: a tick with 200 MARACs once spent
    two statements on each, 0.7 s of a replica's CPU every tick."""
    async def statements_of_a_tick() -> list[str]:
        sent: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")):
                sent.append(statement)

        event.listen(store.engine.sync_engine, "before_cursor_execute", count)
        try:
            async with store.unit_of_work() as session:
                await queue_scheduled(session, clock.now())
        finally:
            event.remove(store.engine.sync_engine, "before_cursor_execute", count)
        return sent

    await seed(store, 2, clock.now(), "https://example.invalid/", cases=2)
    await statements_of_a_tick()  # anything due at seeding is queued by the first tick
    two = await statements_of_a_tick()
    await seed(store, 8, clock.now(), "https://example.invalid/", cases=2, first=2)
    await statements_of_a_tick()
    assert len(await statements_of_a_tick()) == len(two)
