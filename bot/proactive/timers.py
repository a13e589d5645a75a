"""The timer runner: due case lists and reminders become outbox messages, and the outbox is
delivered. It keeps no state of its own: everything it needs is in the database, so a restart
or another replica carries on where this one stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ops import telemetry
from bot.ops.health import Heartbeat
from bot.proactive import outbox
from bot.proactive.circulation import (
    RENDER,
    SLOT_PURPOSES,
    queue_scheduled,
    queue_slot_warnings,
    render_now,
)
from bot.proactive.graph import GraphMailer, deliver_mail
from bot.proactive.installation_graph import AppInstaller, install_for
from bot.proactive.outbox import Failure, NoTeamsId, Undeliverable
from bot.teams.delivery import Adapter, Address, TeamsDelivery, address_of
from bot.teams.meeting_notice import MeetingNotice
from dialogs.clock import Clock
from dialogs.retention import purge_when_due
from storage.database import Store
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# Conversations sent to at once by one replica; messages claimed at once (one statement); and
# of those, at most this many per conversation (a few paced sends, well inside the lease).
CONCURRENCY = 32
CLAIM = 100
PER_CONVERSATION = 4
Ready = tuple[OutboxMessage, Address]


class Timers:
    def __init__(self, store: Store, adapter: Adapter, clock: Clock, app_id: str,
                 interval_seconds: float = 30.0, mailer: GraphMailer | None = None,
                 outbox_lease_seconds: float = outbox.LEASE.total_seconds()) -> None:
        self.store, self.adapter, self.clock = store, adapter, clock
        self.lease = timedelta(seconds=outbox_lease_seconds)
        self.mailer = mailer
        self.meeting_notice: MeetingNotice | None = None  # slot warnings over Teams meetings
        self.installer: AppInstaller | None = None  # installs the app for the unreachable
        self._to_install: list[tuple[int, str]] = []  # this tick's (message, Azure AD id)
        self.app_id = app_id
        self.interval = interval_seconds
        self.heartbeat = Heartbeat(clock, interval_seconds)  # /readyz reads it
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._sqlite_turn: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if store.engine.dialect.name == "sqlite"
            else contextlib.nullcontext())

    @contextlib.asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """The store's unit of work. On SQLite, which has one writer and takes its write
        lock as each unit of work begins, the timer's own (its conversations' sends run at
        once) queue here, in turn, rather than in SQLite's busy handler, whose growing
        sleeps would add up to a tail of late warnings and slow the turns too."""
        async with self._sqlite_turn, self.store.unit_of_work() as session:
            yield session

    async def tick(self) -> None:
        """The time-critical work first: slot warnings, queued and delivered before anything
        else in the outbox is looked at; then case lists, reminders and what follows meetings,
        and everything due; then, when due (hourly, one replica), the retention purge; then
        mail. No conversation holds up the others: one Teams asks to wait for longer than
        bot.teams.sending waits in place goes back in the outbox until then."""
        await self.warn()
        await self.deliver(SLOT_PURPOSES)
        await self.schedule()
        await self.deliver()
        await self.purge()
        if self.mailer is not None:
            await deliver_mail(self.store, self.mailer, self.clock)
        async with self._unit_of_work() as session:
            await telemetry.observe_outbox(session, self.clock.now())

    async def warn(self) -> None:
        async with self._unit_of_work() as session:
            await queue_slot_warnings(session, self.clock.now(), self.meeting_notice)

    async def circulate(self) -> None:
        """Everything the timer queues (slot warnings too, for callers that want it all)."""
        await self.warn()
        await self.schedule()

    async def schedule(self) -> None:
        """Case lists, reminders and what follows meetings, as they fall due."""
        async with self._unit_of_work() as session:
            await queue_scheduled(session, self.clock.now())

    async def purge(self) -> None:
        async with self._unit_of_work() as session:
            await purge_when_due(session, self.clock.now())

    async def deliver(self, purposes: Collection[str] | None = None) -> int:
        """Send what is due, until nothing due is left; the number delivered.

        Conversations are sent to at once, each by its own task that sends its messages one
        after another, in order (bot.teams.sending paces each conversation and retries what Teams
        asks to be retried). A conversation's few earliest messages are claimed together,
        just before they are sent, so their lease need only outlast a few sends and a
        replica that dies leaves only those to be taken over when the lease runs out. A
        conversation still being sent to is not claimed from again until its task is done.
        Only messages for `purposes`, when given."""
        running: dict[str, asyncio.Task[int]] = {}
        delivered = 0
        try:
            while True:
                claimed, more = ({}, False) if len(running) >= CONCURRENCY else (
                    await self._claim(running.keys(), CONCURRENCY - len(running), purposes))
                for conversation, batch in claimed.items():
                    running[conversation] = asyncio.create_task(self._deliver_in_order(batch))
                if more:
                    continue  # more may be due elsewhere: claim again before waiting
                if not running:
                    await self._install_waiting()
                    return delivered
                done, _ = await asyncio.wait(running.values(),
                                             return_when=asyncio.FIRST_COMPLETED)
                for conversation, task in list(running.items()):
                    if task in done:
                        delivered += task.result()
                        del running[conversation]
        finally:  # cancelled (stop's grace ran out): so are the sends under way
            for task in running.values():
                task.cancel()
            if running:
                await asyncio.gather(*running.values(), return_exceptions=True)

    async def _claim(self, busy: Collection[str], room: int, purposes: Collection[str] | None
                     ) -> tuple[dict[str, list[Ready]], bool]:
        """Up to `room` conversations' earliest due messages, claimed, with where to send
        them (those that cannot be sent as things stand are settled here); and whether
        anything was claimed, so that more may be due."""
        async with self._unit_of_work() as session:
            due = await outbox.claim_due(session, self.clock.now(), self.lease,
                                         limit=CLAIM, busy=busy,
                                         per_conversation=PER_CONVERSATION, conversations=room,
                                         purposes=purposes)
            claimed: dict[str, list[Ready]] = {}
            routes: dict[str, Address] = {}  # a conversation's messages share its route
            for message in due:
                conversation = outbox.conversation_of(message)
                try:
                    if conversation not in routes:
                        routes[conversation] = await address_of(session, message)
                except Undeliverable as undeliverable:
                    outbox.settle(message, self.clock.now(), str(undeliverable))
                    if isinstance(undeliverable, NoTeamsId) and undeliverable.aad_object_id:
                        self._to_install.append((message.id, undeliverable.aad_object_id))
                    continue
                claimed.setdefault(conversation, []).append((message, routes[conversation]))
            return claimed, bool(due)

    async def _install_waiting(self) -> None:
        waiting, self._to_install = self._to_install, []
        if self.installer is not None and waiting:
            await install_for(self.store, self.installer, self.clock, waiting)

    async def _deliver_in_order(self, batch: list[Ready]) -> int:
        """A conversation's claimed messages, one after another; when Teams asks for a
        pause longer than is waited for in place, the conversation is put back in the
        outbox until then, and the tick goes on without it."""
        delivered = 0
        for at, (message, route) in enumerate(batch):
            with telemetry.delivery(message):
                failure = await self._deliver_one(message, route)
                telemetry.delivered(message, failure is None)
            delivered += failure is None
            if failure is not None and failure.retry_after is not None:
                async with self._unit_of_work() as session:
                    await outbox.hold(session, outbox.conversation_of(message),
                                      self.clock.now() + failure.retry_after,
                                      unsent=[m for m, _ in batch[at + 1:]])
                break
        return delivered

    async def _payload(self, message: OutboxMessage) -> dict[str, Any]:
        """The activity to send. A card refreshed in place is drawn as it is now, just
        before it is sent (not when queued, nor when claimed with others)."""
        if message.activity.get(RENDER) is None:
            return message.activity
        async with self._unit_of_work() as session:
            return await render_now(session, message.activity, self.clock.now())

    async def _deliver_one(self, message: OutboxMessage, route: Address) -> Failure | None:
        try:
            payload = await self._payload(message)
        except Exception as error:  # retried with backoff, then reported, like a failed send
            failure: Failure | None = Failure(f"{type(error).__name__}: {error}")
        else:
            failure = await self._send(route, payload, message.replaces_activity_id)
        shortened = failure is not None and failure.reason == outbox.TOO_LARGE
        if shortened:
            failure = await self._send(route, outbox.short_form(payload),
                                       message.replaces_activity_id)
        async with self._unit_of_work() as session:
            if failure is None:  # settle's "delivered" in one statement, nothing decrypted
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message.id, OutboxMessage.delivered_at.is_(None))
                    .values(delivered_at=self.clock.now(),
                            **({"last_error": outbox.SENT_SHORT} if shortened else {})))
            else:
                stored = await session.get_one(OutboxMessage, message.id, with_for_update=True)
                outbox.settle(stored, self.clock.now(), failure.reason, message.attempts,
                              not_before=self._after(failure))
        if failure:
            log.warning("outbox %s not delivered: %s", message.id, failure.reason)
        return failure

    def _after(self, failure: Failure) -> datetime | None:
        return None if failure.retry_after is None else self.clock.now() + failure.retry_after

    async def _send(self, route: Address, payload: dict[str, object],
                    replaces: str | None) -> Failure | None:
        return await TeamsDelivery(self.adapter, self.app_id).send(route, payload, replaces)

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let the tick under way finish (a message Teams has taken is then marked
        delivered, not sent again when its lease runs out); cancel it only after the grace."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(self._task, grace_seconds)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        """A tick every `interval` from the start of the last one: a tick that took a while
        (a burst of sends) is not followed by a whole interval more before warnings now due
        are looked at."""
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            began = loop.time()
            telemetry.timer_lag(self.heartbeat.beat().total_seconds())
            try:
                await self.tick()
            except Exception:
                log.exception("timer tick failed; trying again next tick")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(),
                                       max(0.0, self.interval - (loop.time() - began)))
