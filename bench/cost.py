"""Part 1, cost per activity against the framework's floor: the same activities of a live
meeting (attendance confirmations, actions added on the case card, the chair's `next`) sent
one at a time to the MARAC bot (on SQLite, so that its database work is in its own CPU time;
and on PostgreSQL), to the stock botbuilder echo bot and to the bare aiohttp echo; each
server's CPU time is read from the OS before and after each kind, and latency timed at the
client."""

from __future__ import annotations

import contextlib
import itertools
import math
from pathlib import Path
from typing import Any

from bench import activities, servers
from bench import clock as bench_clock
from bench.databases import BackendCpu, database
from bench.load import Outcome, one_at_a_time
from bench.report import latency, ratio
from bench.seeding import BenchMeeting, seed
from storage.database import Store

KINDS = ("attendance", "action", "next")
CASES = 12  # so each meeting takes 11 `next`s
WARM_UP = 30
MIN_MEETINGS = 20


def _attendance(meetings: list[BenchMeeting], count: int, url: str) -> list[dict[str, Any]]:
    people = itertools.cycle([(m, p) for p in range(7) for m in meetings])
    return [activities.confirm_attendance(m, m.members[p], url)
            for m, p in itertools.islice(people, count)]


def _actions(meetings: list[BenchMeeting], count: int, url: str) -> list[dict[str, Any]]:
    return [activities.add_action(m, m.planners[n % len(m.planners)], m.cases[0], n, url)
            for n, m in zip(range(count), itertools.cycle(meetings), strict=False)]


def _nexts(meetings: list[BenchMeeting], count: int, url: str) -> list[dict[str, Any]]:
    rounds = [activities.command(m, m.chair, "next", url)
              for _ in range(CASES - 1) for m in meetings]
    return rounds[:count]


def plan(meetings: list[BenchMeeting], count: int, url: str) -> dict[str, list[dict[str, Any]]]:
    """The activities of each kind, in the order they are sent (actions before `next`, which
    closes the case they are added to)."""
    return {"attendance": _attendance(meetings, count, url),
            "action": _actions(meetings, count, url), "next": _nexts(meetings, count, url)}


async def _measure(server: servers.Server, sent: list[dict[str, Any]],
                   backends: BackendCpu | None) -> dict[str, Any]:
    before, db_before = server.cpu_seconds(), backends.read() if backends else {}
    outcome: Outcome = await one_at_a_time(server.url, sent)
    cpu = server.cpu_seconds() - before
    db = BackendCpu.spent(db_before, backends.read()) if backends and backends.name else None
    n = max(1, outcome.sent)
    return {"n": outcome.sent, "cpu_ms": round(cpu * 1000 / n, 2),
            "db_cpu_ms": None if db is None else round(db * 1000 / n, 2),
            **latency(outcome.latencies), "errors": outcome.errors,
            "refused": outcome.refused, "error_samples": outcome.samples}


async def _seeded(url: str, count: int, service_url: str) -> list[BenchMeeting]:
    store = Store.from_url(url)
    try:
        return await seed(store, count, bench_clock.now(), service_url, cases=CASES)
    finally:
        await store.close()


async def run(connector: servers.Server, logs: Path, count: int, log_level: str,
              postgres: bool) -> dict[str, Any]:
    """The three servers on the same activities; with `postgres`, the MARAC bot on PostgreSQL
    too (the same MARACs seeded there; its database work is then in the database server's
    processes, not in its own CPU time)."""
    service_url = connector.url
    # Enough meetings that no conversation nears Teams' rate limits, which the bot's sender
    # keeps to by waiting (issue 7): one activity at a time spread over 20 is about one a
    # second each.
    meetings_needed = max(math.ceil(count / (CASES - 1)), MIN_MEETINGS) + 1
    async with contextlib.AsyncExitStack() as stack:
        urls = {"marac": await stack.enter_async_context(database("sqlite"))}
        if postgres:
            urls["marac-postgresql"] = await stack.enter_async_context(database("postgresql"))
        for url in urls.values():
            meetings = await _seeded(url, meetings_needed, service_url)
        warm, measured = meetings[:1], meetings[1:]
        sent = plan(measured, count, service_url)
        bots = [servers.echo("bare"), servers.echo("botbuilder"),
                *(servers.marac(name, url, 0, log_level) for name, url in urls.items())]
        with servers.running(bots, logs):
            for bot in bots:
                await one_at_a_time(bot.url, _attendance(warm, WARM_UP, service_url))
            backends = {name: BackendCpu(url) for name, url in urls.items()}
            per_kind = {kind: {bot.name: await _measure(bot, sent[kind], backends.get(bot.name))
                               for bot in bots}
                        for kind in KINDS}
    return {"activities_per_kind": count, "kinds": per_kind, "ratios": _ratios(per_kind)}


def _ratios(per_kind: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Each MARAC bot's figure divided by each echo's, for CPU and latency."""
    out: dict[str, Any] = {}
    for kind, figures in per_kind.items():
        out[kind] = {name: {f"{metric}_vs_{floor}": ratio(bot[metric],
                                                          figures[f"echo-{floor}"][metric])
                            for metric in ("cpu_ms", "p50_ms", "p99_ms")
                            for floor in ("botbuilder", "bare")}
                     for name, bot in figures.items() if name.startswith("marac")}
    return out
