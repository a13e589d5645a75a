"""Case lists and reminders go out on their working day, once, through the outbox, to the
right people, over botbuilder's real connector client to a local connector."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.config import Settings
from bot.proactive.timers import Timers
from bot.teams.app import create_adapter
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT, seed_demo
from dialogs.installation import ConversationSeen, record_installation
from storage.models import (
    Agency,
    AgencyInformation,
    Case,
    ConversationKind,
    Meeting,
    OutboxMessage,
)
from tests.http.connector import Connector

LONDON = ZoneInfo("Europe/London")
TEAMS_IDS = {p.teams_user_id: p for p in DEMO_PEOPLE if p.teams_user_id}


@pytest.fixture
async def connector() -> AsyncIterator[tuple[Connector, str]]:
    fake = Connector()
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


@pytest.fixture
async def timers(store, clock, connector) -> Timers:
    _, service_url = connector
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
        reference = {"bot": {"id": "28:marac-bot"}, "conversation": {"id": DEMO_TEAM},
                     "serviceUrl": service_url, "channelId": "msteams"}
        await record_installation(session, ConversationSeen(
            DEMO_TEAM, ConversationKind.CHANNEL, DEMO_TENANT, DEMO_TEAM, DEMO_TEAM,
            service_url, json.dumps(reference)), clock.now())
    return Timers(store, create_adapter(Settings()), clock, app_id="")


async def meeting_day(store) -> datetime:
    async with store.unit_of_work() as session:
        meeting = await session.scalar(select(Meeting))
        assert meeting is not None
        return meeting.starts_at


def recipients(fake: Connector) -> list[str]:
    return sorted(TEAMS_IDS[o["members"][0]["id"]].full_name for o in fake.opened)


def at_nine(day) -> datetime:
    return datetime.combine(day, datetime.min.time().replace(hour=9), tzinfo=LONDON)


async def test_case_list_goes_to_representatives_chair_and_coordinator_once(
        store, clock, timers, connector):
    fake, _ = connector
    meeting = (await meeting_day(store)).astimezone(LONDON).date()
    due = at_nine(timers_calendar_before(meeting, 4))
    clock.set(due - timedelta(minutes=1))
    await timers.tick()
    assert fake.sent == []
    clock.set(due)
    await timers.tick()
    assert recipients(fake) == ["Cara Okafor", "Chris Hale", "Imogen Reid", "Priya Shah"]
    card = fake.sent[0]["attachments"][0]["content"]  # type: ignore[index]
    assert "RIV-" in json.dumps(card) and "Amy" in json.dumps(card)
    await timers.tick()
    assert len(fake.opened) == 4  # claimed once: nobody gets it twice


def timers_calendar_before(day, n):
    from dialogs.working_days import WorkingCalendar

    return WorkingCalendar().before(day, n)


async def test_someone_the_bot_cannot_reach_yet_is_kept_in_the_outbox(store, clock, timers):
    meeting = (await meeting_day(store)).astimezone(LONDON).date()
    clock.set(at_nine(timers_calendar_before(meeting, 4)))
    await timers.tick()
    async with store.unit_of_work() as session:
        waiting = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.delivered_at.is_(None)))).all()
    # Sam (Children's Social Care) has never opened a chat with the bot: no Teams id yet.
    assert [m.last_error[:25] for m in waiting] == ["No Teams id is known for "]
    assert waiting[0].failed_at is None


async def test_agencies_that_sent_nothing_are_reminded_one_working_day_before(
        store, clock, timers, connector):
    fake, _ = connector
    async with store.unit_of_work() as session:
        police = await session.scalar(select(Agency).where(Agency.name == "Police"))
        cases = (await session.scalars(select(Case))).all()
        assert police is not None
        for case in cases:
            session.add(AgencyInformation(case_id=case.id, agency_id=police.id,
                                          text="Two call-outs in 2026.", sent_at=clock.now()))
    meeting = (await meeting_day(store)).astimezone(LONDON).date()
    clock.set(at_nine(timers_calendar_before(meeting, 4)))
    await timers.tick()  # the case list
    fake.opened.clear()
    fake.sent.clear()
    clock.set(at_nine(timers_calendar_before(meeting, 1)))
    await timers.tick()
    reminded = recipients(fake)
    assert "Priya Shah" not in reminded  # Police sent information on every case
    assert "Imogen Reid" in reminded  # the IDVA service has not
    texts = [json.dumps(a["attachments"][0]["content"]) for a in fake.sent]  # type: ignore[index]
    assert any("IDVA Service: information due" in t for t in texts)


async def test_a_refused_send_is_retried_with_backoff_until_delivered(
        store, clock, timers, connector):
    fake, _ = connector
    fake.refuse_next = [503]
    meeting = (await meeting_day(store)).astimezone(LONDON).date()
    clock.set(at_nine(timers_calendar_before(meeting, 4)))
    await timers.tick()
    assert len(fake.opened) == 3  # the first of four was refused
    clock.set(clock.now() + timedelta(seconds=10))
    await timers.deliver()
    assert len(fake.opened) == 3  # not before its backoff
    clock.set(clock.now() + timedelta(minutes=5))
    await timers.deliver()
    assert len(fake.opened) == 4


async def test_a_message_that_keeps_failing_is_marked_failed_with_its_reason(
        store, clock, timers, connector):
    fake, _ = connector
    fake.refuse_next = [500] * 100
    meeting = (await meeting_day(store)).astimezone(LONDON).date()
    clock.set(at_nine(timers_calendar_before(meeting, 4)))
    await timers.tick()
    for _ in range(10):
        clock.set(clock.now() + timedelta(hours=2))
        await timers.deliver()
    async with store.unit_of_work() as session:
        messages = (await session.scalars(select(OutboxMessage))).all()
    assert all(m.failed_at is not None and m.delivered_at is None for m in messages)
    assert all(m.last_error for m in messages)
