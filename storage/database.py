"""Engines and the unit of work. SQLite file by default; PostgreSQL when the URL names it."""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from contextvars import ContextVar
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import CursorResult, Executable, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

import storage.audit_guard  # noqa: F401  (registers the audit trail's append-only guard)
from storage import sqlite_driver
from storage.models import Marac

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class StoreConfigurationError(ValueError):
    """The database URL cannot be used; the message is one plain sentence."""


def check_url(url: str) -> str:
    try:
        driver = make_url(url).drivername
    except Exception as error:
        raise StoreConfigurationError(f"DATABASE_URL is not a database URL: {url!r}.") from error
    if driver not in SUPPORTED_DRIVERS:
        raise StoreConfigurationError(
            f"DATABASE_URL must start with one of {', '.join(SUPPORTED_DRIVERS)}, not {driver}."
        )
    return url


def create_engine(url: str) -> AsyncEngine:
    """With hide_parameters: a failed statement is logged without its values, which may
    identify someone (a DASH answer, a name, an incident reference)."""
    check_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True,
                                     module=sqlite_driver.dbapi(), pool_reset_on_return=None)
        sqlite_driver.roll_back_only_what_is_open(engine)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    client_id = os.environ.get("DATABASE_MANAGED_IDENTITY_CLIENT_ID", "")
    connect_args: dict[str, Any] = {}
    if client_id:  # Entra authentication: the password is the managed identity's token
        from storage.identity import postgres_password

        connect_args["password"] = postgres_password(client_id)
    engine = create_async_engine(url, hide_parameters=True, connect_args=connect_args)
    ping_after_idle(engine)
    return engine


IDLE_BEFORE_PING = 30.0  # seconds a pooled connection lies unused before it is checked
IDLE_CLOCK: Callable[[], float] = time.monotonic  # set by the tests


def ping_after_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's pre-ping (pool_pre_ping), for a connection idle a while: the server may
    have closed it meanwhile (a restart, a failover, an idle timeout). On asyncpg a ping is
    three round trips (BEGIN, SELECT, ROLLBACK), which every unit of work paid: half a
    millisecond of a meeting press. A connection in steady use is not pinged; one that
    fails its ping is replaced before the unit of work has it (PoolEvents.checkout)."""
    dialect = engine.sync_engine.dialect

    def idle_from_now(_connection: Any, record: Any, *_: Any) -> None:
        record.info["idle_since"] = IDLE_CLOCK()

    def ping_if_idle(connection: Any, record: Any, _proxy: Any) -> None:
        if IDLE_CLOCK() - record.info.get("idle_since", math.inf) < IDLE_BEFORE_PING:
            return
        try:
            dialect.do_ping(connection)
        except Exception as error:
            raise DisconnectionError("the database closed an idle connection") from error

    for name, listener in (("connect", idle_from_now), ("checkin", idle_from_now),
                           ("checkout", ping_if_idle)):
        event.listen(engine.sync_engine.pool, name, listener)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock when a unit of work begins (with its first statement), so
    that two turns deciding on the same record queue up instead of one failing with
    "database is locked" half-way."""
    sqlite_driver.begin_with_first_statement(connection)


_IN_TURN: ContextVar[bool] = ContextVar("in_unit_of_work", default=False)


class WriterQueue:
    """SQLite has one writer, and each unit of work takes its lock at the start (BEGIN
    IMMEDIATE). Left to SQLite, the units of work waiting for it poll, sleeping up to 100 ms
    between tries, so that under contention (50 presses at once) the lock often lies idle;
    queued here, in this process, they take it in turn as soon as it is free. A unit of work
    opened inside another (or in a task it started) does not queue behind itself, and one
    waiting longer than SQLite itself would (30 s) goes on to SQLite's own wait."""

    WAIT_SECONDS = 30.0

    def __init__(self) -> None:
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            WeakKeyDictionary())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if _IN_TURN.get():
            yield
            return
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        held = True
        try:
            if lock.locked():
                await asyncio.wait_for(lock.acquire(), self.WAIT_SECONDS)
            else:
                await lock.acquire()
        except TimeoutError:
            held = False
        entered = _IN_TURN.set(True)
        try:
            yield
        finally:
            _IN_TURN.reset(entered)
            if held:
                lock.release()


class Store:
    """The one way into the database: `async with store.unit_of_work() as session`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._queue = WriterQueue() if engine.dialect.name == "sqlite" else None

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(create_engine(url))

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """Commits when the block ends normally; rolls everything back when it raises."""
        async with (self._queue.turn() if self._queue else nullcontext()), \
                self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one statement that is its own transaction (keeping the id Teams
        gave a posted card), sent without a BEGIN and a COMMIT of its own: on PostgreSQL in
        autocommit; on SQLite, whose transactions this module begins (_begin_immediate),
        with that BEGIN left out."""
        alone = ({sqlite_driver.ONE_STATEMENT: True} if self._queue is not None
                 else {"isolation_level": "AUTOCOMMIT"})
        async with (self._queue.turn() if self._queue else nullcontext()), \
                self.engine.connect() as connection:
            yield await connection.execution_options(**alone)

    async def is_reachable(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def cannot_write(self) -> str | None:
        """Why the database refuses writes (a read-only file, a full disk), or None. A row
        the schema always has is written unchanged and committed: only a commit shows a full
        disk, and the row is one no turn ever waits for."""
        try:
            async with self.unit_of_work() as session:
                await session.execute(
                    text("UPDATE alembic_version SET version_num = version_num"))
        except Exception as error:
            cause = getattr(error, "orig", None) or error
            return str(cause).rstrip(".") or type(cause).__name__
        return None

    async def close(self) -> None:
        await self.engine.dispose()


async def core(session: AsyncSession, statement: Executable,
               params: dict[str, Any] | None = None) -> CursorResult[Any]:
    """A statement of columns (or a plain insert) on the session's connection: SQLAlchemy
    Core, without the ORM's compile and row loading that session.execute adds to every
    statement. Pending ORM changes are flushed first, as session.execute's autoflush would."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    return await connection.execute(statement, params)


async def lock_marac(session: AsyncSession, marac_id: int) -> Marac:
    """One change at a time per MARAC where two at once could both take the same slot or
    record. FOR NO KEY UPDATE (not FOR UPDATE): rows inserted in the same turn that refer to
    the MARAC (the audit row) hold a key-share lock on it, which FOR UPDATE would deadlock
    with; SQLite takes its write lock when the unit of work begins and ignores this."""
    return await session.get_one(Marac, marac_id, with_for_update={"key_share": True})
