"""Reaching people from the roster, over HTTP: when the bot is installed in the MARAC's team,
and whenever members are added, it reads the team's roster page by page through botbuilder's
Teams roster API (retrying a 429 like any request) from a local connector, records each
member's Teams id against the Person with the same Azure AD object id and tenant, and the
outbox then opens a 1:1 chat (tenant set, as Teams requires) with someone who never wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.config import Settings
from bot.proactive import outbox
from bot.proactive.timers import Timers
from bot.teams.app import create_adapter, create_app
from bot.turns.replies import text_reply
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT, seed_demo
from storage.models import Person
from tests.http.connector import Connector

PEOPLE = {p.full_name.split()[0]: p for p in DEMO_PEOPLE}
SAM_TEAMS_ID = "29:sam-carter"  # the demo seeds Sam with no Teams id: he never wrote
STRANGER = {"id": "29:stranger", "aadObjectId": "0d3a1c00-0000-4000-8000-0000000000ff"}


@pytest.fixture
async def connector() -> AsyncIterator[tuple[Connector, str]]:
    fake = Connector()
    fake.members = [
        {"id": p.teams_user_id or SAM_TEAMS_ID, "name": p.full_name,
         "aadObjectId": p.aad_object_id, "tenantId": DEMO_TENANT} for p in DEMO_PEOPLE
    ] + [STRANGER]
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


@pytest.fixture
async def bot(store, clock) -> AsyncIterator[TestClient]:
    async with store.unit_of_work() as session:
        assert await seed_demo(session, clock.now())
    client = TestClient(TestServer(create_app(Settings(timer_seconds=0), store, clock)))
    await client.start_server()
    yield client
    await client.close()


def in_the_team(service_url: str, **fields: Any) -> dict[str, Any]:
    return {
        "channelId": "msteams", "id": "e1", "serviceUrl": service_url,
        "from": {"id": PEOPLE["Cara"].teams_user_id, "aadObjectId": PEOPLE["Cara"].aad_object_id},
        "recipient": {"id": "28:marac-bot"},
        "conversation": {"id": DEMO_TEAM, "conversationType": "channel",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}, "team": {"id": DEMO_TEAM},
                        "channel": {"id": DEMO_TEAM}},
        **fields,
    }


async def teams_ids(store) -> dict[str, str | None]:
    async with store.unit_of_work() as session:
        return {p.first_name: p.teams_user_id
                for p in (await session.scalars(select(Person))).all()}


async def test_installing_in_the_team_reads_every_page_of_the_roster(store, bot, connector):
    fake, service_url = connector
    fake.refuse_next = [429]  # Teams asks to slow down once: the read is retried
    response = await bot.post("/api/messages", json=in_the_team(
        service_url, type="installationUpdate", action="add"))
    assert response.status == 201, await response.text()
    pages = -(-len(fake.members) // fake.page_size)
    assert fake.roster_reads == [(DEMO_TEAM, str(n * fake.page_size) if n else "")
                                 for n in range(pages)]
    assert (await teams_ids(store))["Sam"] == SAM_TEAMS_ID
    async with store.unit_of_work() as session:  # nothing is kept about a stranger
        assert await session.scalar(select(Person.id).where(
            Person.aad_object_id == STRANGER["aadObjectId"])) is None


async def test_members_added_to_the_team_are_reached_too(store, bot, connector):
    fake, service_url = connector
    async with store.unit_of_work() as session:
        await session.execute(update(Person).where(
            Person.aad_object_id == PEOPLE["Imogen"].aad_object_id).values(teams_user_id=None))
    response = await bot.post("/api/messages", json=in_the_team(
        service_url, type="conversationUpdate",
        membersAdded=[{"id": PEOPLE["Imogen"].teams_user_id,
                       "aadObjectId": PEOPLE["Imogen"].aad_object_id}],
        channelData={"tenant": {"id": DEMO_TENANT}, "team": {"id": DEMO_TEAM},
                     "eventType": "teamMemberAdded"}))
    assert response.status == 201, await response.text()
    assert fake.roster_reads and not fake.sent  # no welcome: the bot was already there
    assert (await teams_ids(store))["Imogen"] == PEOPLE["Imogen"].teams_user_id


async def test_someone_who_never_wrote_is_sent_a_message_in_a_new_1_1_chat(
        store, clock, bot, connector):
    fake, service_url = connector
    await bot.post("/api/messages", json=in_the_team(
        service_url, type="installationUpdate", action="add"))
    async with store.unit_of_work() as session:
        sam = await session.scalar(select(Person.id).where(
            Person.aad_object_id == PEOPLE["Sam"].aad_object_id))
        outbox.enqueue(session, text_reply("The case list is out.", "Case list"), "case list",
                       clock.now(), person_id=sam)
    await Timers(store, create_adapter(Settings()), clock, app_id="").deliver()
    (opened,) = fake.opened
    assert opened["members"] == [{"id": SAM_TEAMS_ID}]
    # Teams opens a chat only with the tenant given (botbuilder 4.17 spells its own field
    # "tenantID"; channelData.tenant.id is what Teams reads).
    assert opened["channelData"] == {"tenant": {"id": DEMO_TENANT}}
    (sent,) = [a for a in fake.sent if a["conversation_id"] == f"a:1:1-{SAM_TEAMS_ID}"]
    assert (sent["text"], sent["summary"]) == ("The case list is out.", "Case list")
