"""SQLite through aiosqlite, each statement in one trip to aiosqlite's thread.

SQLAlchemy's aiosqlite adapter makes four trips a statement (open a cursor, execute, fetch,
close), each a hand-off to aiosqlite's thread and back through the event loop; a turn of five
statements made some twenty. Here the four run together on that thread, as one trip: the
same sqlite3 calls in the same order, with SQLAlchemy's own adapter and error handling
around them. It is handed to SQLAlchemy as the DBAPI module (create_engine's documented
`module` argument), so the dialect, the pool and everything above are SQLAlchemy's own.

A connection back in the pool is rolled back only if it is still in a transaction (the pool
would otherwise send a ROLLBACK after every commit, one more trip per unit of work)."""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects.sqlite import aiosqlite as adapter
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any
         ) -> tuple[Any, list[Any], int | None, int]:
    """On aiosqlite's thread: what SQLAlchemy's adapter does in its four trips."""
    cursor = connection._conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(adapter.AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        try:
            description, rows, lastrowid, rowcount = self.await_(
                self._connection._execute(_run, self._connection, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        if description:
            self.description, self._rows = description, deque(rows)
            self.lastrowid = self.rowcount = -1
        else:
            self.description, self.lastrowid, self.rowcount = None, lastrowid, rowcount


class OneTripConnection(adapter.AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> adapter.AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return adapter.AsyncAdapt_aiosqlite_ss_cursor(self)
        return OneTripCursor(self)


class OneTripDBAPI(adapter.AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        return OneTripConnection(self, super().connect(*args, **kwargs)._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)


def roll_back_only_what_is_open(engine: AsyncEngine) -> None:
    """For an engine made with pool_reset_on_return=None (SQLAlchemy's documented recipe for
    a reset of one's own)."""
    event.listen(engine.sync_engine.pool, "reset", _reset)


def _reset(connection: DBAPIConnection, _entry: ConnectionPoolEntry,
           state: PoolResetState) -> None:
    if state.asyncio_safe and connection._connection.in_transaction:
        connection.rollback()
