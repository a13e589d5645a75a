"""Part 2, meetings at once, and part 4, memory: N meetings each pressing one card button a
second (open-loop, over HTTP on loopback, replies absorbed by the local connector), spread
over the replicas (`marac serve` processes sharing one database); latency, errors, the
replicas' CPU per press, and each replica's resident memory, sampled through the run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bench import clock as bench_clock
from bench import servers
from bench.activities import live_press
from bench.databases import BackendCpu, database
from bench.load import one_at_a_time, open_loop
from bench.report import latency
from bench.seeding import BenchMeeting, seed
from storage.database import Store

MB = 1024 * 1024


class MemoryWatch:
    """The largest resident memory of each server, sampled every half second; and, given
    the database's backends, their CPU time as last seen (a pooled connection closed under
    load takes its backend's count with it)."""

    def __init__(self, watched: list[servers.Server], backends: BackendCpu | None = None
                 ) -> None:
        self.watched, self.backends = watched, backends
        self.peak = [server.rss_bytes() for server in watched]
        self.backend_cpu = backends.read() if backends else {}

    @contextlib.asynccontextmanager
    async def sampling(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self._sample())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sample(self) -> None:
        while True:
            self._once()
            await asyncio.sleep(0.5)

    def _once(self) -> None:
        if self.backends:
            self.backend_cpu.update(self.backends.read())
        for i, server in enumerate(self.watched):
            with contextlib.suppress(Exception):  # a server that just died: reported elsewhere
                self.peak[i] = max(self.peak[i], server.rss_bytes())

    def peak_mb(self) -> list[float]:
        return [round(b / MB, 1) for b in self.peak]


async def seeded(url: str, count: int, service_url: str, **options: Any) -> list[BenchMeeting]:
    store = Store.from_url(url)
    try:
        return await seed(store, count, bench_clock.now(), service_url, **options)
    finally:
        await store.close()


def sources(replicas: list[servers.Server], meetings: list[BenchMeeting], service_url: str
            ) -> list[tuple[str, Callable[[int], dict[str, Any]]]]:
    """Meeting i is served by replica i mod R, as a load balancer with affinity would."""
    def maker(meeting: BenchMeeting) -> Callable[[int], dict[str, Any]]:
        return lambda step: live_press(meeting, step, service_url)
    return [(replicas[i % len(replicas)].url, maker(m)) for i, m in enumerate(meetings)]


async def warm_up(replicas: list[servers.Server], meetings: list[BenchMeeting],
                  service_url: str, presses: int = 10) -> None:
    """A few presses to each replica first: its first turns load code and open connections."""
    for url, make in sources(replicas, meetings[:len(replicas)], service_url):
        await one_at_a_time(url, [make(1000 + step) for step in range(presses)])


async def settle(replicas: list[servers.Server], idle_share: float = 0.05,
                 limit: float = 90.0) -> float:
    """Wait until the replicas have worked off any backlog (under `idle_share` of a core for
    a second); the seconds waited."""
    waited = 0.0
    while waited < limit:
        before = sum(r.cpu_seconds() for r in replicas)
        await asyncio.sleep(1.0)
        waited += 1.0
        if sum(r.cpu_seconds() for r in replicas) - before < idle_share:
            break
    return waited


async def one_size(replicas: list[servers.Server], meetings: list[BenchMeeting],
                   service_url: str, duration: float, backends: BackendCpu) -> dict[str, Any]:
    await settle(replicas)
    before = [r.cpu_seconds() for r in replicas]
    watch = MemoryWatch(replicas, backends)
    db_before = dict(watch.backend_cpu)
    async with watch.sampling():
        outcome = await open_loop(sources(replicas, meetings, service_url), duration, rate=1.0)
    cpu = sum(r.cpu_seconds() for r in replicas) - sum(before)
    watch.backend_cpu.update(backends.read())
    db = BackendCpu.spent(db_before, watch.backend_cpu)
    n = max(1, outcome.sent)
    return {"meetings": len(meetings), "sent": outcome.sent, "ok": len(outcome.latencies),
            **latency(outcome.latencies), "errors": outcome.errors, "refused": outcome.refused,
            "cpu_ms_per_press": round(cpu * 1000 / n, 2),
            "db_cpu_ms_per_press": round(db * 1000 / n, 2) if backends.name else None,
            "rss_peak_mb": watch.peak_mb(), "error_samples": outcome.samples}


async def one_setup(kind: str, replica_count: int, sizes: list[int], duration: float,
                    connector: servers.Server, logs: Path, log_level: str
                    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every size on one database and one set of replicas; (rows, memory)."""
    async with database(kind) as url:
        meetings = await seeded(url, max(sizes), connector.url)
        replicas = [servers.marac(f"marac-{kind}-{i + 1}", url, 30, log_level)
                    for i in range(replica_count)]
        with servers.running(replicas, logs):
            await warm_up(replicas, meetings, connector.url)
            idle = [round(r.rss_bytes() / MB, 1) for r in replicas]
            rows = []
            for size in sizes:
                row = await one_size(replicas, meetings[:size], connector.url, duration,
                                     BackendCpu(url))
                rows.append({"database": kind, "replicas": replica_count, **row})
                print(f"  {kind} x{replica_count}, {size} meetings: p50 {row['p50_ms']} ms, "
                      f"p99 {row['p99_ms']} ms, errors {row['errors']}", flush=True)
    memory = {"database": kind, "replicas": replica_count, "idle_mb": idle,
              "peak_mb": [max(r["rss_peak_mb"][i] for r in rows) for i in range(replica_count)]}
    return rows, memory
