"""GET /livez and /readyz over real HTTP: liveness is the process answering, readiness is
the database reachable, its schema at head and this replica's timer ticking. A stalled timer
or a database outage makes a replica unready (no traffic) but never unlive (no restart loop).
The clock is set, not waited for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.teams.app import TIMERS, create_app
from dialogs.clock import FixedClock
from storage.database import Store
from storage.migrate import downgrade, upgrade
from tests.conftest import fresh_postgres
from tests.http.tcp_proxy import TcpProxy

INTERVAL = 30.0  # the timer's first tick is at once; the next would be 30 real seconds on


async def started(url: str, clock: FixedClock, store: Store | None = None) -> TestClient:
    settings = Settings(database_url=url, timer_seconds=INTERVAL)
    client = TestClient(TestServer(create_app(settings, store or Store.from_url(url), clock)))
    await client.start_server()
    return client


async def status(client: TestClient, path: str) -> tuple[int, dict[str, str]]:
    async with client.get(path) as response:
        return response.status, await response.json()


async def until_ready(client: TestClient) -> dict[str, str]:
    """Poll /readyz until the timer's first tick is in (a generous bound, not a budget)."""
    async with asyncio.timeout(30):
        while True:
            code, body = await status(client, "/readyz")
            if code == 200:
                return body
            await asyncio.sleep(0.02)


@pytest.fixture
async def bot(database_url: str, clock: FixedClock) -> AsyncIterator[TestClient]:
    client = await started(database_url, clock)
    yield client
    await client.close()


async def test_a_stopped_timer_turns_readiness_off_within_three_intervals(bot, clock):
    assert await until_ready(bot) == {"status": "ready", "database": "reachable",
                                      "migrations": "at head", "writes": "accepted",
                                      "timer": "ticking"}
    await bot.app[TIMERS].stop()
    stopped_at = clock.now()
    clock.set(stopped_at + timedelta(seconds=3 * INTERVAL))
    assert (await status(bot, "/readyz"))[0] == 200  # three intervals late is the limit
    clock.set(stopped_at + timedelta(seconds=3 * INTERVAL + 1))
    assert await status(bot, "/readyz") == (503, {
        "status": "unready", "database": "reachable", "migrations": "at head",
        "writes": "accepted", "timer": "stalled"})
    assert await status(bot, "/livez") == (200, {"status": "live"})
    bot.app[TIMERS].start()  # the timer ticking again makes the replica ready again
    await until_ready(bot)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres("marac_health") as url:
        yield url


@pytest.fixture
def one_migration_behind(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'marac.db'}"
    upgrade(url)
    downgrade(url, "-1")
    return url


@pytest.mark.postgres
async def test_a_database_outage_makes_the_bot_unready_but_still_live(postgres_url, clock):
    proxy = TcpProxy("127.0.0.1", 5432)
    await proxy.start()
    through_proxy = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    client = await started(through_proxy, clock)
    try:
        await until_ready(client)
        await proxy.cut()
        code, body = await status(client, "/readyz")
        assert (code, body["status"], body["database"]) == (503, "unready", "unreachable")
        assert await status(client, "/livez") == (200, {"status": "live"})
        assert (await status(client, "/healthz"))[0] == 503
    finally:
        await client.close()


async def test_a_schema_behind_the_code_is_unready(one_migration_behind, clock):
    client = await started(one_migration_behind, clock)
    try:
        code, body = await status(client, "/readyz")
        assert (code, body["migrations"]) == (503, "behind")
        assert (await status(client, "/livez"))[0] == 200
    finally:
        await client.close()


@pytest.fixture
def read_only(tmp_path) -> str:
    """A migrated database whose file is opened read-only, as SQLite opens a file it may
    not write (the tests run as root, whom file modes do not stop)."""
    path = tmp_path / "marac.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"


async def test_a_store_that_cannot_be_written_is_unready(read_only, clock):
    client = await started(read_only, clock)
    try:
        assert await status(client, "/readyz") == (503, {
            "status": "unready", "database": "reachable", "migrations": "at head",
            "writes": "refused", "timer": "ticking"})
        assert (await status(client, "/healthz"))[0] == 503
        assert await status(client, "/livez") == (200, {"status": "live"})
    finally:
        await client.close()
