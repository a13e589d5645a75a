"""Part 3, timer precision: how late slot warnings reach Teams with many meetings running.

Each meeting's open case is given a short slot whose warning (`warning` seconds left) and
end fall at staggered instants over a `window`, while the meetings go on pressing buttons;
the local connector timestamps each warning as it arrives, and the lateness is that instant
less the warning's due time, worked out from the case and MARAC rows in the database (the
moment the remaining slot first drops to the warning, or to nothing)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from sqlalchemy import select, update

from bench import clock as bench_clock
from bench import servers
from bench.databases import database
from bench.load import open_loop
from bench.meetings import MemoryWatch, seeded, sources
from bench.report import latency
from bench.seeding import BenchMeeting
from storage.database import Store
from storage.models import Case, CaseStatus, Marac, Meeting

LEAD = 2.0  # seconds between scheduling the slots and the first one opening
DRAIN = 60.0  # how long after the last due time to wait for missing warnings


async def _schedule(url: str, meetings: list[BenchMeeting], slot: int, warning: int,
                    window: float) -> float:
    """Reopen each meeting's case now+LEAD+i*window/N with the short slot; the first instant."""
    first = time.time() + LEAD
    store = Store.from_url(url)
    try:
        async with store.unit_of_work() as session:
            await session.execute(update(Marac).values(slot_seconds=slot,
                                                       warning_seconds=warning))
            for i, meeting in enumerate(meetings):
                opened = bench_clock.served(first + i * window / len(meetings))
                await session.execute(update(Case).where(Case.number == meeting.cases[0])
                                      .values(opened_at=opened))
    finally:
        await store.close()
    return first


async def _dues(url: str) -> dict[tuple[str, bool], float]:
    """(case number, is the end) -> when that warning fell due, as a Unix time."""
    store = Store.from_url(url)
    try:
        async with store.unit_of_work() as session:
            rows = (await session.execute(
                select(Case, Marac).join(Meeting, Meeting.id == Case.meeting_id)
                .join(Marac, Marac.id == Meeting.marac_id)
                .where(Case.status == CaseStatus.OPEN))).tuples().all()
    finally:
        await store.close()
    dues = {}
    for case, marac in rows:
        assert case.opened_at is not None
        start = case.opened_at + timedelta(seconds=case.paused_seconds)
        length = marac.slot_seconds + case.extra_seconds
        dues[(case.number, False)] = bench_clock.wall(
            start + timedelta(seconds=length - marac.warning_seconds))
        dues[(case.number, True)] = bench_clock.wall(start + timedelta(seconds=length))
    return dues


async def _stats(connector: servers.Server, reset: bool = False) -> dict[str, Any]:
    async with ClientSession() as session:
        if reset:
            async with session.post(connector.url + "/bench/reset"):
                return {}
        async with session.get(connector.url + "/bench/stats") as response:
            return dict(await response.json())


async def _wait_for_warnings(connector: servers.Server, expected: int, until: float
                             ) -> list[dict[str, Any]]:
    """The warnings received, once all `expected` have come or `until` has passed."""
    while True:
        warnings = (await _stats(connector))["warnings"]
        if len({(w["case"], w["over"]) for w in warnings}) >= expected or time.time() > until:
            await asyncio.sleep(1.0)  # anything sent twice would come now
            return list((await _stats(connector))["warnings"])
        await asyncio.sleep(0.5)


def _lateness(warnings: list[dict[str, Any]], dues: dict[tuple[str, bool], float]
              ) -> Iterator[tuple[bool, float]]:
    seen = set()
    for warning in sorted(warnings, key=lambda w: w["at"]):
        key = (warning["case"], warning["over"])
        if key in dues and key not in seen:
            seen.add(key)
            yield key[1], warning["at"] - dues[key]


def summary(warnings: list[dict[str, Any]], dues: dict[tuple[str, bool], float]
            ) -> dict[str, Any]:
    late = list(_lateness(warnings, dues))
    keys = [(w["case"], w["over"]) for w in warnings]
    return {"expected": len(dues), "received": len(late), "missing": len(dues) - len(late),
            "duplicates": len(keys) - len(set(keys)), "late": latency([s for _, s in late]),
            "late_remaining_warning": latency([s for over, s in late if not over]),
            "late_slot_over": latency([s for over, s in late if over])}


async def run(kind: str, replica_count: int, count: int, options: dict[str, Any],
              connector: servers.Server, logs: Path, log_level: str) -> dict[str, Any]:
    slot, warning, window = options["slot"], options["warning"], options["window"]
    async with database(kind) as url:
        # Long slots while the replicas start: nothing falls due before _schedule.
        meetings = await seeded(url, count, connector.url, cases=4, slot_seconds=3600,
                                warning_seconds=300)
        replicas = [servers.marac(f"timers-{kind}-{i + 1}", url, options["timer_seconds"],
                                  log_level) for i in range(replica_count)]
        with servers.running(replicas, logs):
            await _stats(connector, reset=True)
            first = await _schedule(url, meetings, slot, warning, window)
            last_due = first + window + slot
            watch = MemoryWatch(replicas)
            async with watch.sampling():
                load = await _load(replicas, meetings, connector, last_due - time.time(),
                                   options["press_rate"])
                warnings = await _wait_for_warnings(connector, 2 * count, last_due + DRAIN)
        dues = await _dues(url)
    return {"database": kind, "replicas": replica_count, "meetings": count,
            "timer_seconds": options["timer_seconds"], "slot_seconds": slot,
            "warning_seconds": warning, "window_seconds": window,
            "press_rate_per_meeting": options["press_rate"], "presses": load,
            **summary(warnings, dues), "rss_peak_mb": watch.peak_mb()}


async def _load(replicas: list[servers.Server], meetings: list[BenchMeeting],
                connector: servers.Server, duration: float, rate: float) -> dict[str, Any]:
    """The meetings' button presses while their slots run, if any are asked for."""
    if rate <= 0:
        await asyncio.sleep(duration)
        return {}
    outcome = await open_loop(sources(replicas, meetings, connector.url), duration, rate)
    return {"sent": outcome.sent, **latency(outcome.latencies), "errors": outcome.errors,
            "refused": outcome.refused}
