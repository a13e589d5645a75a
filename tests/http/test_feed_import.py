"""A long police feed sent to the bot over HTTP, on SQLite and PostgreSQL: it is imported in
batches of committed transactions, so another person's `help` is answered meanwhile (not
"something went wrong", as when one transaction held SQLite's write lock for the whole
file); and a file message Teams delivers twice, at once or later, is imported once.

MARAC_IMPORT_ROWS sets the file's length (600 rows unless said): the 50,000-row run of the
README's figure is `MARAC_IMPORT_ROWS=50000 .venv/bin/python -m pytest -s -k sqlite
tests/http/test_feed_import.py::test_help_is_answered_while_a_long_feed_is_imported`."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.config import Settings
from bot.features.police_feed import FILE_DOWNLOAD_INFO
from bot.teams.app import create_app
from cards.notice import SOMETHING_WENT_WRONG
from dialogs.clock import FixedClock
from dialogs.demo import DEMO_TENANT, seed_demo
from storage.database import Store
from storage.models import Referral
from tests.clock import pinned_now
from tests.feed_file import feed_csv, feed_rows
from tests.http.connector import Connector

ROWS = int(os.environ.get("MARAC_IMPORT_ROWS", "600"))
HELPS = 3
CARA = ("user-id-0", "0d3a1c00-0000-4000-8000-000000000001")
CHRIS = ("user-id-1", "0d3a1c00-0000-4000-8000-000000000002")


@dataclass
class Bot:
    client: TestClient
    store: Store
    connector: Connector
    service_url: str  # Teams' connector
    feed_url: str

    def post(self, activity: dict[str, Any]) -> Any:
        # No client timeout: a 50,000-row import answers after minutes (Teams would have
        # given up waiting; the report still goes through the connector).
        return self.client.post("/api/messages", json=activity,
                                timeout=aiohttp.ClientTimeout(total=None))


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[Bot]:
    """The anonymous bot (as in development), Teams' connector, and a file server on
    loopback standing in for Teams' file storage; the file server's base URL."""
    store = Store.from_url(database_url)
    async with store.unit_of_work() as session:
        await seed_demo(session, pinned_now())
    connector = Connector()
    files = web.Application()
    received = (pinned_now() - timedelta(days=2)).date()
    feed = feed_csv(feed_rows(ROWS, received))

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=feed, content_type="text/csv")

    files.router.add_get("/feed.csv", serve)
    async with TestServer(connector.app) as teams, TestServer(files) as storage:
        client = TestClient(TestServer(create_app(Settings(database_url=database_url), store,
                                                  FixedClock(pinned_now()))))
        await client.start_server()
        yield Bot(client, store, connector, str(teams.make_url("/")),
                  str(storage.make_url("/feed.csv")))
        await client.close()
    await store.close()


def message(bot: Bot, who: tuple[str, str], activity_id: str, **more: Any) -> dict[str, Any]:
    return {"type": "message", "channelId": "msteams", "id": activity_id,
            "serviceUrl": bot.service_url,
            "from": {"id": who[0], "aadObjectId": who[1]}, "recipient": {"id": "bot"},
            "conversation": {"id": f"personal-{who[0]}", "conversationType": "personal",
                             "tenantId": DEMO_TENANT}, **more}


def feed_message(bot: Bot, activity_id: str) -> dict[str, Any]:
    return message(bot, CARA, activity_id, text="", attachments=[{
        "contentType": FILE_DOWNLOAD_INFO, "name": "feed.csv",
        "content": {"downloadUrl": bot.feed_url, "uniqueId": "file-1", "fileType": "csv"}}])


def answers_to(connector: Connector, who: tuple[str, str]) -> list[dict[str, Any]]:
    return [a for a in connector.sent
            if (a.get("conversation") or {}).get("id") == f"personal-{who[0]}"]


def report_facts(answer: dict[str, Any]) -> dict[str, str]:
    [card] = [a["content"] for a in answer.get("attachments") or []]
    return {fact["title"]: fact["value"] for item in card["body"]
            if item.get("type") == "FactSet" for fact in item["facts"]}


async def referrals(store: Store) -> int:
    async with store.unit_of_work() as session:
        return await session.scalar(select(func.count()).select_from(Referral)) or 0


async def test_help_is_answered_while_a_long_feed_is_imported(bot):
    store, connector = bot.store, bot.connector
    importing = asyncio.create_task(bot.post(feed_message(bot, "feed-1")))
    waits: list[float] = []
    for asked in range(HELPS):  # at the first batch, then a third and two thirds through
        while await referrals(store) < max(1, ROWS * asked // HELPS):
            assert not importing.done(), answers_to(connector, CARA)
            await asyncio.sleep(0.05)
        began = time.monotonic()
        response = await bot.post(message(bot, CHRIS, f"help-{asked}", text="help"))
        waits.append(time.monotonic() - began)
        assert response.status in (200, 201)
    print(f"\n{ROWS} rows ({store.engine.dialect.name}): help answered in "
          f"{', '.join(f'{w:.2f}' for w in waits)} s while the import ran")
    assert not importing.done(), "the file was imported before help was asked; make it longer"
    helped = answers_to(connector, CHRIS)
    assert len(helped) == HELPS
    assert all(a.get("text") != SOMETHING_WENT_WRONG and a.get("attachments")
               for a in helped), f"help was not answered with its card: {helped}"

    await importing
    [report] = answers_to(connector, CARA)
    facts = report_facts(report)
    assert (facts["Rows read"], facts["Loaded"], facts["Refused"]) == (str(ROWS),) * 2 + ("0",)
    assert await referrals(store) == ROWS


async def test_a_file_delivered_twice_at_once_and_again_later_is_imported_once(bot):
    store, connector = bot.store, bot.connector
    await asyncio.gather(*(bot.post(feed_message(bot, "feed-2")) for _ in range(2)))
    later = await bot.post(feed_message(bot, "feed-2"))
    assert later.status in (200, 201)

    said = answers_to(connector, CARA)
    reports = [a for a in said if a.get("attachments")]
    assert len(reports) == 1, said
    assert report_facts(reports[0])["Loaded"] == str(ROWS)
    assert [a.get("text") for a in said if not a.get("attachments")] == [
        "feed.csv from this message is imported already (or still being imported: its report "
        "follows); to import it again, send it in a new message."] * 2
    assert await referrals(store) == ROWS
