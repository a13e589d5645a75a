"""SQLite through aiosqlite, each statement in one trip to aiosqlite's thread.

SQLAlchemy's aiosqlite adapter makes four trips a statement (open a cursor, execute, fetch,
close), each a hand-off to aiosqlite's thread and back through the event loop; a turn of five
statements made some twenty. Here the four run together on that thread, as one trip: the
same sqlite3 calls in the same order, with SQLAlchemy's own adapter and error handling
around them. It is handed to SQLAlchemy as the DBAPI module (create_engine's documented
`module` argument), so the dialect, the pool and everything above are SQLAlchemy's own.

A transaction's BEGIN IMMEDIATE goes with its first statement, in the same trip
(`begin_with_first_statement`, from the engine's begin event); a COMMIT or ROLLBACK is sent
only when a transaction is open (the pool would otherwise send a ROLLBACK after every commit,
and a statement sent outside any transaction, in SQLite's autocommit, would pay for one)."""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy import Connection, event
from sqlalchemy.dialects.sqlite import aiosqlite as adapter
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

BEGIN = "BEGIN IMMEDIATE"


def _run(connection: aiosqlite.Connection, begin: bool, operation: str, parameters: Any
         ) -> tuple[Any, list[Any], int | None, int]:
    """On aiosqlite's thread: what SQLAlchemy's adapter does in its four trips (and the
    transaction's BEGIN, when this is its first statement)."""
    if begin:
        connection._conn.execute(BEGIN)
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


def _run_many(connection: aiosqlite.Connection, begin: bool, operation: str,
              parameters: Any) -> tuple[int | None, int]:
    if begin:
        connection._conn.execute(BEGIN)
    cursor = connection._conn.executemany(operation, parameters)
    try:
        return cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(adapter.AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _adapt_connection: OneTripConnection

    def execute(self, operation: Any, parameters: Any = None) -> None:
        connection = self._adapt_connection
        try:
            description, rows, lastrowid, rowcount = self.await_(
                self._connection._execute(_run, self._connection, connection.take_begin(),
                                          operation, parameters))
        except Exception as error:
            connection._handle_exception(error)
        if description:
            self.description, self._rows = description, deque(rows)
            self.lastrowid = self.rowcount = -1
        else:
            self.description, self.lastrowid, self.rowcount = None, lastrowid, rowcount

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        connection = self._adapt_connection
        try:
            self.lastrowid, self.rowcount = self.await_(self._connection._execute(
                _run_many, self._connection, connection.take_begin(), operation,
                seq_of_parameters))
        except Exception as error:
            connection._handle_exception(error)
        self.description = None


class OneTripConnection(adapter.AsyncAdapt_aiosqlite_connection):
    __slots__ = ("begin_due",)

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.begin_due = False

    def take_begin(self) -> bool:
        """Whether the next statement opens the transaction (and so carries its BEGIN)."""
        due, self.begin_due = self.begin_due, False
        return due

    def cursor(self, server_side: bool = False) -> adapter.AsyncAdapt_aiosqlite_cursor:
        if server_side:  # not one trip: its BEGIN, if due, goes first on its own
            if self.take_begin():
                self.execute(BEGIN)
            return adapter.AsyncAdapt_aiosqlite_ss_cursor(self)
        return OneTripCursor(self)

    def commit(self) -> None:
        self.begin_due = False
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        self.begin_due = False
        if self._in_transaction():
            super().rollback()

    def _in_transaction(self) -> bool:
        try:
            return bool(self._connection._conn.in_transaction)
        except ValueError as error:  # closed: the error SQLAlchemy reads as a lost connection
            self._handle_exception(error)


class OneTripDBAPI(adapter.AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        return OneTripConnection(self, super().connect(*args, **kwargs)._connection)


def begin_with_first_statement(connection: Connection) -> None:
    """For the engine's begin event: the transaction's BEGIN IMMEDIATE is sent with its first
    statement, unless the connection was lent for one statement (`ONE_STATEMENT`), which
    SQLite then runs as its own transaction."""
    if connection.get_execution_options().get(ONE_STATEMENT):
        return
    dbapi_connection = connection.connection.dbapi_connection
    assert isinstance(dbapi_connection, OneTripConnection)
    dbapi_connection.begin_due = True


ONE_STATEMENT = "marac_one_statement"


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)


def roll_back_only_what_is_open(engine: AsyncEngine) -> None:
    """For an engine made with pool_reset_on_return=None (SQLAlchemy's documented recipe for
    a reset of one's own)."""
    event.listen(engine.sync_engine.pool, "reset", _reset)


def _reset(connection: DBAPIConnection, _entry: ConnectionPoolEntry,
           state: PoolResetState) -> None:
    if state.asyncio_safe:
        connection.rollback()  # OneTripConnection's: only if a transaction is open
