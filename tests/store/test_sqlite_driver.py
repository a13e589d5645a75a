"""SQLite's statements each make one trip to aiosqlite's thread (storage.sqlite_driver), a
transaction's BEGIN IMMEDIATE going with its first statement, and behave as through
SQLAlchemy's own adapter: rows, counts, new ids, errors, the write lock taken when a unit of
work first speaks, and a connection never back in the pool with its transaction (and
SQLite's write lock) still open."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.database import Store


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store.from_url(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with store.unit_of_work() as session:
        await session.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, "
                                   "word TEXT UNIQUE, seen INTEGER DEFAULT 0)"))
    yield store
    await store.close()


@contextmanager
def trips() -> Iterator[list[str]]:
    """Each call queued for aiosqlite's thread inside the block, by name."""
    made: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    try:
        yield made
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]


async def test_a_unit_of_work_is_one_trip_a_statement_and_one_to_commit(sqlite):
    with trips() as made:
        async with sqlite.unit_of_work() as session:
            await session.execute(text("INSERT INTO note (word) VALUES ('one')"))
            await session.execute(text("SELECT * FROM note"))
    # the two statements (BEGIN IMMEDIATE with the first), the commit; no ROLLBACK after it
    assert made == ["_run", "_run", "commit"], made


def locked_for(path: Path) -> bool:
    """Whether another connection is refused SQLite's write lock at once."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    finally:
        other.close()
    return False


async def test_a_unit_of_work_holds_the_write_lock_from_its_first_statement_even_a_read(
        sqlite, tmp_path):
    async with sqlite.unit_of_work() as session:
        await session.execute(text("SELECT count(*) FROM note"))
        assert locked_for(tmp_path / "driver.db")
    assert not locked_for(tmp_path / "driver.db")


async def test_one_statement_is_one_trip_and_kept_and_a_begin_never_sent_does_not_linger(
        sqlite, tmp_path):
    async with sqlite.unit_of_work() as session:
        await session.connection()  # begun, but nothing said: no BEGIN was sent
    with trips() as made:
        async with sqlite.one_statement() as connection:
            await connection.execute(text("INSERT INTO note (word) VALUES ('kept')"))
    assert made == ["_run"], made
    assert not locked_for(tmp_path / "driver.db")
    reader = sqlite3.connect(tmp_path / "driver.db")
    try:
        assert reader.execute("SELECT word FROM note").fetchall() == [("kept",)]
    finally:
        reader.close()


async def test_a_unit_of_work_that_begins_with_many_rows_is_still_one_transaction(sqlite):
    with pytest.raises(IntegrityError):
        async with sqlite.unit_of_work() as session:
            await session.execute(text("INSERT INTO note (word) VALUES (:word)"),
                                  [{"word": "one"}, {"word": "two"}, {"word": "one"}])
    async with sqlite.unit_of_work() as session:
        assert (await session.execute(text("SELECT count(*) FROM note"))).scalar() == 0


async def test_rows_counts_and_new_ids_come_back_as_from_sqlalchemys_adapter(sqlite):
    async with sqlite.unit_of_work() as session:
        first = await session.execute(text("INSERT INTO note (word) VALUES ('one')"))
        second = await session.execute(text("INSERT INTO note (word) VALUES ('two')"))
        assert (first.lastrowid, second.lastrowid) == (1, 2)
        updated = await session.execute(text("UPDATE note SET seen = seen + 1"))
        assert updated.rowcount == 2
        rows = (await session.execute(text("SELECT word, seen FROM note ORDER BY id"))).all()
        assert [tuple(row) for row in rows] == [("one", 1), ("two", 1)]
        assert list((await session.execute(text("SELECT word FROM note"))).keys()) == ["word"]


async def test_a_refused_statement_is_sqlalchemys_error_and_nothing_of_its_unit_is_kept(sqlite):
    with pytest.raises(IntegrityError):
        async with sqlite.unit_of_work() as session:
            await session.execute(text("INSERT INTO note (word) VALUES ('one')"))
            await session.execute(text("INSERT INTO note (word) VALUES ('one')"))
    async with sqlite.unit_of_work() as session:
        assert (await session.execute(text("SELECT count(*) FROM note"))).scalar() == 0


async def test_a_connection_back_in_the_pool_mid_transaction_is_rolled_back(sqlite):
    """A transaction begun behind SQLAlchemy's back (so it does not end it) is still ended
    when the connection goes back to the pool: the write lock is free for the next unit."""
    def leave_open(connection: Connection) -> bool:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("INSERT INTO note (word) VALUES ('left open')")
        return bool(connection.connection.driver_connection.in_transaction)  # type: ignore[union-attr]

    async with sqlite.engine.connect() as connection:
        assert await connection.run_sync(leave_open)
    async with sqlite.unit_of_work() as session:
        await session.execute(text("INSERT INTO note (word) VALUES ('next')"))
    async with sqlite.unit_of_work() as session:
        words = (await session.execute(text("SELECT word FROM note"))).scalars().all()
    assert words == ["next"]


async def test_a_connection_closed_under_a_unit_of_work_is_a_database_error_and_replaced(
        sqlite):
    """aiosqlite's connection gone (its thread stopped) mid-turn: SQLAlchemy's own error for
    a lost connection, not a bare ValueError, and the next unit of work gets a new one."""
    with pytest.raises(OperationalError, match="no active connection"):
        async with sqlite.unit_of_work() as session:
            await session.execute(text("INSERT INTO note (word) VALUES ('lost')"))
            raw = await (await session.connection()).get_raw_connection()
            await raw.driver_connection.close()
    async with sqlite.unit_of_work() as session:
        await session.execute(text("INSERT INTO note (word) VALUES ('next')"))
    async with sqlite.unit_of_work() as session:
        words = (await session.execute(text("SELECT word FROM note"))).scalars().all()
    assert words == ["next"]


async def test_a_unit_of_work_that_begins_by_streaming_rows_still_holds_the_write_lock(
        sqlite, tmp_path):
    """A server-side cursor is not one trip: its transaction's BEGIN goes first, alone."""
    async with sqlite.unit_of_work() as session:
        rows = await (await session.connection()).stream(text("SELECT count(*) FROM note"))
        assert [tuple(row) async for row in rows] == [(0,)]
        assert locked_for(tmp_path / "driver.db")
    assert not locked_for(tmp_path / "driver.db")
