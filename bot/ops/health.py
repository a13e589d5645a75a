"""Liveness and readiness, apart. `/livez` says only that the process answers, so an
orchestrator restarts a replica that hangs and never one that merely cannot reach the
database (restarting every replica in a loop would not bring the database back). `/readyz`
says whether this replica can do its work: the database answers and takes writes (not a
read-only file or a full disk), its schema is the one this code expects, and this replica's
timer has ticked within three intervals."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from alembic.script import ScriptDirectory
from sqlalchemy import text

from dialogs.clock import Clock
from storage.database import Store
from storage.migrate import alembic_config

# A replica whose timer has not ticked for this many intervals is not ready.
STALLED_INTERVALS = 3


class Heartbeat:
    """When this replica's timer last began a tick (by the bot's clock). It is the one thing
    about the replica itself, not the data, so it lives in the process, like the timer."""

    def __init__(self, clock: Clock, interval_seconds: float) -> None:
        self.clock = clock
        self.interval = timedelta(seconds=interval_seconds)
        self.last: datetime | None = None

    def beat(self) -> timedelta:
        """Record a tick; how late it is against the one before (the timer's lag)."""
        now = self.clock.now()
        lag = timedelta(0) if self.last is None else max(
            timedelta(0), now - self.last - self.interval)
        self.last = now
        return lag

    def stalled(self) -> bool:
        if not self.interval:
            return False  # the timer is turned off (TIMER_SECONDS=0)
        return self.last is None or (
            self.clock.now() - self.last > STALLED_INTERVALS * self.interval)


@functools.cache
def _heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


async def migrations_at_head(store: Store) -> bool:
    """Whether the schema has every migration this code expects, over the store's own pool
    (a probe every few seconds must not open an engine of its own) and read directly (alembic's
    MigrationContext would log two lines a probe)."""
    async with store.engine.connect() as connection:
        current = frozenset((await connection.execute(
            text("SELECT version_num FROM alembic_version"))).scalars())
    return current == _heads()


async def readiness(store: Store, heartbeat: Heartbeat | None) -> dict[str, Any]:
    checks: dict[str, Any] = {"database": "reachable", "migrations": "at head",
                              "writes": "accepted", "timer": "ticking"}
    if not await store.is_reachable():
        checks.update(database="unreachable", migrations="unknown", writes="unknown")
    else:
        try:
            if not await migrations_at_head(store):
                checks["migrations"] = "behind"
        except Exception:  # no schema at all, or the database went away meanwhile
            checks["migrations"] = "unknown"
        if checks["migrations"] != "unknown" and await store.cannot_write():
            checks["writes"] = "refused"
    if heartbeat is not None and heartbeat.stalled():
        checks["timer"] = "stalled"
    elif heartbeat is None or not heartbeat.interval:
        checks["timer"] = "off"
    ready = (checks["database"], checks["migrations"], checks["writes"]) == (
        "reachable", "at head", "accepted") and checks["timer"] != "stalled"
    return {"status": "ready" if ready else "unready", **checks}


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "live"})


def readyz_handler(store_key: web.AppKey[Store], heartbeat_key: web.AppKey[Heartbeat]
                   ) -> Any:
    async def readyz(request: web.Request) -> web.Response:
        body = await readiness(request.app[store_key], request.app.get(heartbeat_key))
        return web.json_response(body, status=200 if body["status"] == "ready" else 503)
    return readyz
