"""`plan CASE` after six long updates (near the 4,000 characters each may have), over HTTP to
a connector that refuses a message over Teams' 28 KB as Teams does: the plan is answered with
a card that fits, not with "something went wrong"."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import Settings
from bot.teams.app import create_app
from cards.notice import SOMETHING_WENT_WRONG
from dialogs import case_work
from dialogs.demo import DEMO_TENANT
from dialogs.plan_updates import add_update
from storage.models import Case, Role
from tests.http.connector import Connector
from tests.store.meeting_factory import next_case
from tests.store.plan_factory import heard, tick

TEAMS_LIMIT = 28 * 1024


@pytest.fixture
async def teams() -> AsyncIterator[tuple[Connector, str]]:
    fake = Connector()
    fake.largest = TEAMS_LIMIT
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


async def test_the_plan_after_six_long_updates_is_answered_with_a_card(
        database_url, store, clock, teams):
    fake, service_url = teams
    h = await heard(store, clock, close=False)
    async with store.unit_of_work() as session:  # Police's research runs long too
        case = await session.scalar(select(Case).where(Case.number == h.number))
        await case_work.add_information(session, case, h.demo.agencies["Police"],
                                        "Call-outs and history in detail. " * 60, False,
                                        h.demo.people["Priya"], clock.now())
    await next_case(store, clock)
    await tick(store, clock)
    for n in range(6):
        async with store.unit_of_work() as session:
            await add_update(session, h.demo.marac_id, h.number,
                             (f"Update {n}: " + "seen near the address again. " * 140)[:3990],
                             False,
                             frozenset({Role.AGENCY_REPRESENTATIVE}), h.demo.people["Priya"],
                             clock.now(), f"update-{n}")
    client = TestClient(TestServer(create_app(Settings(database_url=database_url), store,
                                              clock)))
    await client.start_server()
    try:
        response = await client.post("/api/messages", json={
            "type": "message", "channelId": "msteams", "id": "plan-1", "text": f"plan {h.number}",
            "serviceUrl": service_url, "recipient": {"id": "bot"},
            "from": {"id": "user-id-0", "aadObjectId": "0d3a1c00-0000-4000-8000-000000000001"},
            "conversation": {"id": "personal-cara", "conversationType": "personal",
                             "tenantId": DEMO_TENANT}})
    finally:
        await client.close()
    assert response.status in (200, 201)
    [answer] = fake.sent
    assert answer.get("text") != SOMETHING_WENT_WRONG
    [card] = [a["content"] for a in answer["attachments"]]
    assert card["body"][0]["text"] == f"Plan {h.number} · Amy"
    assert "continued in the document" in str(card)
