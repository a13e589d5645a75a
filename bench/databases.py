"""Throw-away databases for the benchmark: a SQLite file in a temporary folder, or a fresh
PostgreSQL database dropped afterwards (WITH (FORCE), even when the run fails)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import psutil

from storage.migrate import upgrade

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def postgres_reachable(admin_url: str = POSTGRES_ADMIN) -> bool:
    try:
        connection = await asyncpg.connect(admin_url, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def _admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def sqlite_database() -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="marac-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'marac.db'}"
        await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
        yield url


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str = POSTGRES_ADMIN) -> AsyncIterator[str]:
    name = f"marac_bench_{secrets.token_hex(6)}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        url = f"{base}/{name}"
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database(kind: str, admin_url: str = POSTGRES_ADMIN
             ) -> contextlib.AbstractAsyncContextManager[str]:
    return sqlite_database() if kind == "sqlite" else postgres_database(admin_url)


class BackendCpu:
    """CPU time of the PostgreSQL server processes serving one database (found by the name
    in their process title), so that a bot's database work can be counted with its own."""

    def __init__(self, url: str) -> None:
        self.name = url.rsplit("/", 1)[-1] if url.startswith("postgresql") else ""

    def read(self) -> dict[int, float]:
        if not self.name:
            return {}
        found = {}
        for process in psutil.process_iter(["cmdline", "cpu_times"]):
            title = " ".join(process.info["cmdline"] or [])
            times = process.info["cpu_times"]
            if title.startswith("postgres:") and f" {self.name} " in title and times:
                found[process.pid] = float(times.user + times.system)
        return found

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """Seconds used between two readings (a backend that ended between them is lost)."""
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
