"""A pooled PostgreSQL connection is checked before use only once it has lain idle
(storage.database.ping_after_idle): one the server closed meanwhile is replaced before a
unit of work has it, and one in steady use costs no ping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from sqlalchemy import text

from storage import database
from storage.database import Store
from tests.conftest import POSTGRES_ADMIN, fresh_postgres


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres("marac_idle") as url:
        yield url


@pytest.fixture
async def postgres(postgres_url: str) -> AsyncIterator[Store]:
    store = Store.from_url(postgres_url)
    yield store
    await store.close()


async def backend_of(store: Store) -> int:
    async with store.unit_of_work() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def closed_by_the_server(pid: int) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


def counted_pings(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    dialect = store.engine.sync_engine.dialect
    original = dialect.do_ping

    def do_ping(connection):  # type: ignore[no-untyped-def]
        pings.append(1)
        return original(connection)

    monkeypatch.setattr(dialect, "do_ping", do_ping)
    return pings


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pool's idle clock, set by the test (seconds)."""
    now = [1000.0]
    monkeypatch.setattr(database, "IDLE_CLOCK", lambda: now[0])
    return now


async def test_a_connection_the_server_closed_while_idle_is_replaced_unseen(
        postgres, clock, monkeypatch):
    first = await backend_of(postgres)
    await closed_by_the_server(first)
    clock[0] += database.IDLE_BEFORE_PING  # it has lain idle long enough to be checked
    pings = counted_pings(postgres, monkeypatch)
    assert await backend_of(postgres) != first
    assert pings == [1]


async def test_a_connection_in_steady_use_is_not_pinged(postgres, clock, monkeypatch):
    pings = counted_pings(postgres, monkeypatch)
    for _ in range(5):
        await backend_of(postgres)
    assert pings == []
    clock[0] += database.IDLE_BEFORE_PING
    await backend_of(postgres)
    assert pings == [1]
