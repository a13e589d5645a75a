"""Slot warnings reach the meeting's channel from the timer, over botbuilder's real connector
client to a local connector: the warning text is posted once, the case card is updated in
place, and a restart of the bot mid-slot neither repeats a warning nor loses one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from bot.config import Settings
from bot.proactive import outbox
from bot.proactive.timers import Timers
from bot.teams.app import create_adapter
from bot.teams.sending import LONGEST_WAIT_SECONDS
from bot.turns.replies import Message
from dialogs.demo import DEMO_TEAM, DEMO_TENANT
from dialogs.installation import ConversationSeen, record_installation
from storage.models import Case, ConversationKind, OutboxMessage, Person
from tests.http.connector import Connector
from tests.store.meeting_factory import next_case, pause, resume, started

CARD_MESSAGE = "1700000000001"  # the id Teams gave the case card when it was posted


class UpdatingConnector(Connector):
    """The local connector, also taking updates of a posted message (PUT)."""

    def __init__(self) -> None:
        super().__init__()
        self.updated: list[dict[str, object]] = []
        self.refuse_updates: list[int] = []  # statuses to answer updates with, in order
        self.app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                                self._put)

    async def _put(self, request: web.Request) -> web.Response:
        if self.refuse_updates:
            return web.json_response({"error": "refused"}, status=self.refuse_updates.pop(0))
        activity = await request.json()
        activity["conversation_id"] = request.match_info["conversation"]
        activity["activity_id"] = request.match_info["activity"]
        self.updated.append(activity)
        return web.json_response({"id": request.match_info["activity"]})


@pytest.fixture
async def connector() -> AsyncIterator[tuple[UpdatingConnector, str]]:
    fake = UpdatingConnector()
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


@pytest.fixture
async def meeting(store, clock, connector) -> datetime:
    """The demo meeting running in the team's channel with 60-second slots warned 20 seconds
    before the end, the bot installed there, and the first case open with its card posted;
    the instant the case was opened."""
    _, service_url = connector
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    async with store.unit_of_work() as session:
        reference = {"bot": {"id": "28:marac-bot"}, "conversation": {"id": DEMO_TEAM},
                     "serviceUrl": service_url, "channelId": "msteams"}
        await record_installation(session, ConversationSeen(
            DEMO_TEAM, ConversationKind.CHANNEL, DEMO_TENANT, DEMO_TEAM, DEMO_TEAM,
            service_url, json.dumps(reference)), clock.now())
    assert await next_case(store, clock) == (None, demo.numbers[0])
    async with store.unit_of_work() as session:
        await session.execute(update(Case).where(Case.number == demo.numbers[0])
                              .values(card_message_id=CARD_MESSAGE))
    return clock.now()


def new_timers(store, clock) -> Timers:
    """The timer runner of a freshly started bot: its own adapter, the same store."""
    return Timers(store, create_adapter(Settings()), clock, app_id="")


def texts(fake: UpdatingConnector) -> list[str]:
    assert {m["conversation_id"] for m in fake.sent} <= {DEMO_TEAM}
    return [str(m.get("text")) for m in fake.sent]


def card_text(update_: dict[str, object]) -> str:
    return json.dumps(update_["attachments"][0]["content"])  # type: ignore[index]


async def undelivered(store) -> list[str]:
    async with store.unit_of_work() as session:
        return list((await session.scalars(select(OutboxMessage.purpose).where(
            OutboxMessage.delivered_at.is_(None)))).all())


async def test_the_warning_is_posted_once_and_the_case_card_updated_in_place(
        store, clock, connector, meeting):
    fake, _ = connector
    timers = new_timers(store, clock)
    clock.set(meeting + timedelta(seconds=39))
    await timers.tick()
    assert fake.sent == [] and fake.updated == []
    clock.set(meeting + timedelta(seconds=41))
    await timers.tick()
    assert texts(fake) == ["RIV-2026-001: 19 seconds of the slot remain."]
    assert [(u["conversation_id"], u["activity_id"]) for u in fake.updated] == [
        (DEMO_TEAM, CARD_MESSAGE)]
    assert "0:19 left of the slot" in card_text(fake.updated[0])
    assert fake.opened == []  # nothing goes to anyone one to one
    await timers.tick()
    clock.set(meeting + timedelta(seconds=50))
    await timers.tick()
    assert len(fake.sent) == 1 and len(fake.updated) == 1
    assert await undelivered(store) == []


async def test_after_a_restart_mid_slot_the_end_is_announced_once_and_nothing_repeats(
        store, clock, connector, meeting):
    fake, _ = connector
    timers = new_timers(store, clock)
    clock.set(meeting + timedelta(seconds=41))
    await timers.tick()
    assert texts(fake) == ["RIV-2026-001: 19 seconds of the slot remain."]
    del timers  # the bot restarts: nothing of the old runner survives but the store

    restarted = new_timers(store, clock)
    clock.set(meeting + timedelta(seconds=45))
    await restarted.tick()
    assert len(fake.sent) == 1  # the warning is not sent again
    clock.set(meeting + timedelta(seconds=62))
    await restarted.tick()
    assert texts(fake) == [
        "RIV-2026-001: 19 seconds of the slot remain.",
        "RIV-2026-001: the slot is over. The chair can **extend**, **defer** or **next**.",
    ]
    assert [u["activity_id"] for u in fake.updated] == [CARD_MESSAGE, CARD_MESSAGE]
    assert "over by 0:02" in card_text(fake.updated[-1])
    assert "Overrun: 0 min 2 s" in card_text(fake.updated[-1])
    clock.set(meeting + timedelta(seconds=120))
    await restarted.tick()
    await new_timers(store, clock).tick()  # and another restart changes nothing either
    assert len(fake.sent) == 2 and len(fake.updated) == 2
    assert fake.opened == []


async def test_a_warning_queued_just_before_a_restart_is_delivered_once_after_it(
        store, clock, connector, meeting):
    fake, _ = connector
    clock.set(meeting + timedelta(seconds=41))
    await new_timers(store, clock).circulate()  # queued, then the bot stops before sending
    assert fake.sent == []
    assert sorted(await undelivered(store)) == ["case card", "slot warning"]

    restarted = new_timers(store, clock)
    clock.set(meeting + timedelta(seconds=42))
    await restarted.tick()
    assert texts(fake) == ["RIV-2026-001: 19 seconds of the slot remain."]
    assert len(fake.updated) == 1
    await restarted.tick()
    assert len(fake.sent) == 1 and len(fake.updated) == 1
    assert await undelivered(store) == []


async def test_a_paused_meeting_gets_no_warning_from_the_timer(store, clock, connector,
                                                               meeting):
    fake, _ = connector
    timers = new_timers(store, clock)
    clock.set(meeting + timedelta(seconds=30))
    await pause(store, clock)
    clock.set(meeting + timedelta(minutes=15))
    await timers.tick()
    assert fake.sent == [] and fake.updated == []
    await resume(store, clock)
    clock.set(clock.now() + timedelta(seconds=11))  # 41 s of the slot used
    await timers.tick()
    assert texts(fake) == ["RIV-2026-001: 19 seconds of the slot remain."]



async def test_a_warning_teams_refuses_is_sent_again_after_its_backoff(
        store, clock, connector, meeting):
    fake, _ = connector
    fake.refuse_next = [503]  # the warning text
    fake.refuse_updates = [403]  # the case card update (a status the sender does not retry)
    timers = new_timers(store, clock)
    clock.set(meeting + timedelta(seconds=41))
    await timers.tick()
    assert fake.sent == [] and fake.updated == []
    assert sorted(await undelivered(store)) == ["case card", "slot warning"]
    clock.set(meeting + timedelta(seconds=41 + 45))
    await timers.deliver()
    assert texts(fake) == ["RIV-2026-001: 19 seconds of the slot remain."]
    assert len(fake.updated) == 1


async def test_a_card_update_sent_after_the_case_closed_does_not_show_it_open(
        store, clock, connector, meeting):
    fake, _ = connector
    clock.set(meeting + timedelta(seconds=41))
    await new_timers(store, clock).circulate()
    async with store.unit_of_work() as session:
        assert len(await outbox.claim_due(session, clock.now())) == 2  # then the bot dies
    clock.set(meeting + timedelta(seconds=45))
    assert (await next_case(store, clock))[0] == "RIV-2026-001"  # planning closed
    restarted = new_timers(store, clock)
    clock.set(meeting + timedelta(minutes=3))  # the dead runner's lease has run out
    await restarted.tick()
    assert [u["activity_id"] for u in fake.updated] == [CARD_MESSAGE]
    assert "left of the slot" not in card_text(fake.updated[0])


async def test_a_chat_under_retry_after_holds_up_no_other_conversations_warning(
        store, clock, connector, meeting):
    """Teams answers one new 1:1 chat 429 with Retry-After: 120. The sender does not wait
    two minutes inside the tick: the chat's message goes back in the outbox, due when Teams
    said, and the slot warning in the meeting's channel goes out on the next tick."""
    fake, _ = connector
    fake.throttle_new_chats = "120"
    timers = new_timers(store, clock)
    waits: list[float] = []

    async def waited(seconds: float) -> None:  # the sender's waits, noted, not slept
        waits.append(seconds)

    timers.adapter.bot_framework_authentication.pacing.sleep = waited  # type: ignore[attr-defined]
    async with store.unit_of_work() as session:
        person = await session.scalar(select(Person).where(Person.teams_user_id.is_not(None))
                                      .order_by(Person.id).limit(1))
        assert person is not None
        throttled = outbox.enqueue(
            session, Message(text="Your case list is ready.", summary="Case list"),
            "case list", clock.now(), person_id=person.id)
    await timers.tick()
    assert fake.opened == [] and max(waits, default=0.0) <= LONGEST_WAIT_SECONDS
    async with store.unit_of_work() as session:
        held = await session.get_one(OutboxMessage, throttled.id)
        assert held.delivered_at is None and held.failed_at is None
        assert held.next_attempt_at == clock.now() + timedelta(seconds=120)
        assert "429" in (held.last_error or "")

    clock.set(meeting + timedelta(seconds=41))
    await timers.tick()
    assert texts(fake) == ["RIV-2026-001: 19 seconds of the slot remain."]
    assert len(fake.updated) == 1 and fake.opened == []  # not tried again before it is due

    fake.throttle_new_chats = None
    clock.set(meeting + timedelta(seconds=120))
    await timers.tick()
    assert [o["members"][0]["id"] for o in fake.opened] == [person.teams_user_id]  # type: ignore[index]
    assert "Your case list is ready." in [m.get("text") for m in fake.sent]


async def test_a_slot_warning_goes_out_before_a_backlog_of_other_messages(
        store, clock, connector, meeting):
    """120 messages to people, queued before the warning fell due and not yet sent: the
    warning in the meeting's channel is not sent behind them."""
    fake, _ = connector
    async with store.unit_of_work() as session:
        people = list((await session.scalars(
            select(Person.id).where(Person.teams_user_id.is_not(None)))).all())
        for n in range(120):
            outbox.enqueue(session, Message(text=f"Reminder {n}", summary="Reminder"),
                           "information reminder", clock.now(),
                           person_id=people[n % len(people)])
    clock.set(meeting + timedelta(seconds=41))
    await new_timers(store, clock).tick()
    warning = "RIV-2026-001: 19 seconds of the slot remain."
    assert fake.arrived[0] == warning
    assert fake.arrived.count(warning) == 1  # and the backlog after it, whole
    assert sorted(t for t in fake.arrived if t.startswith("Reminder")) == sorted(
        f"Reminder {n}" for n in range(120))
