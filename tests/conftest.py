"""Stores for the tests: a real SQLite file and a real PostgreSQL database, both migrated
with the project's own Alembic migrations."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import asyncpg
import pytest

from dialogs.clock import FixedClock
from storage.database import Store
from storage.migrate import upgrade

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin(sql: str) -> None:
    async def run() -> None:
        try:
            connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
        except OSError as error:
            pytest.fail(f"PostgreSQL is not listening on 127.0.0.1:5432 ({error}); "
                        "run .ci/postgres or start it before the tests.")
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A fresh, migrated database of each kind, for one test."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('store') / 'marac.db'}"
        upgrade(url)
        yield url
        return
    with fresh_postgres("marac_test") as url:
        yield url


@contextmanager
def fresh_postgres(prefix: str) -> Iterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards whatever happens."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store.from_url(database_url)
    yield store
    await store.close()


@pytest.fixture
def clock() -> FixedClock:
    # A Tuesday afternoon in late November.
    return FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
