"""Part 1, cost per activity against the framework's floor: the same activities of a live
meeting (attendance confirmations, actions added on the case card, the chair's `next`) sent
one at a time to the MARAC bot (on SQLite, so that its database work is in its own CPU time;
and on PostgreSQL), to the stock botbuilder echo bot and to the bare aiohttp echo; each
server's CPU time is read from the OS before and after each share it is sent, and latency
timed at the client.

The servers are interleaved: each kind's activities are sent in ROUNDS shares, every server
taking its share in turn (A B C D, then D C B A, ...), so that a machine busy with other work
for part of the run biases no server. Beside each press's CPU, the SQL statements it sends
(bench.statements, counted in this process on a database of each kind)."""

from __future__ import annotations

import contextlib
import itertools
import math
from pathlib import Path
from typing import Any

from bench import activities, servers, statements
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
ROUNDS = 3


def _attendance(meetings: list[BenchMeeting], count: int, url: str) -> list[dict[str, Any]]:
    """Planners confirm first: an action is agreed only for an agency at the meeting, so in a
    short run the action presses would otherwise be refused (and cost less than they do)."""
    planners_first = sorted(range(7), key=lambda p: not meetings[0].members[p].plans)
    people = itertools.cycle([(m, p) for p in planners_first for m in meetings])
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


class _Tally:
    """One server's figures for one kind, summed over its shares."""

    def __init__(self) -> None:
        self.outcome = Outcome()
        self.cpu = 0.0
        self.db: float | None = None

    async def add(self, server: servers.Server, sent: list[dict[str, Any]],
                  backends: BackendCpu | None) -> None:
        before, db_before = server.cpu_seconds(), backends.read() if backends else {}
        share = await one_at_a_time(server.url, sent)
        self.cpu += server.cpu_seconds() - before
        if backends and backends.name:
            self.db = (self.db or 0.0) + BackendCpu.spent(db_before, backends.read())
        self.outcome.latencies += share.latencies
        self.outcome.errors += share.errors
        self.outcome.refused += share.refused
        self.outcome.samples += share.samples[:5 - len(self.outcome.samples)]

    def figures(self) -> dict[str, Any]:
        outcome, n = self.outcome, max(1, self.outcome.sent)
        return {"n": outcome.sent, "cpu_ms": round(self.cpu * 1000 / n, 2),
                "db_cpu_ms": None if self.db is None else round(self.db * 1000 / n, 2),
                **latency(outcome.latencies), "errors": outcome.errors,
                "refused": outcome.refused, "error_samples": outcome.samples}


def shares(sent: list[dict[str, Any]], rounds: int) -> list[list[dict[str, Any]]]:
    """The activities in `rounds` consecutive shares, in order."""
    size = math.ceil(len(sent) / rounds)
    return [sent[i:i + size] for i in range(0, len(sent), size)]


def turns(bots: list[servers.Server], round_: int) -> list[servers.Server]:
    """Who goes when in a round: forwards in even rounds, backwards in odd ones."""
    return bots if round_ % 2 == 0 else bots[::-1]


async def _interleaved(bots: list[servers.Server], sent: list[dict[str, Any]],
                       backends: dict[str, BackendCpu], rounds: int) -> dict[str, Any]:
    tallies = {bot.name: _Tally() for bot in bots}
    for round_, share in enumerate(shares(sent, rounds)):
        for bot in turns(bots, round_):
            await tallies[bot.name].add(bot, share, backends.get(bot.name))
    return {name: tally.figures() for name, tally in tallies.items()}


async def _seeded(url: str, count: int, service_url: str) -> list[BenchMeeting]:
    store = Store.from_url(url)
    try:
        return await seed(store, count, bench_clock.now(), service_url, cases=CASES)
    finally:
        await store.close()


async def run(connector: servers.Server, logs: Path, count: int, log_level: str,
              postgres: bool, rounds: int = ROUNDS) -> dict[str, Any]:
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
            per_kind = {kind: await _interleaved(bots, sent[kind], backends, rounds)
                        for kind in KINDS}
        counted = {name: await statements.per_press(url, service_url)
                   for name, url in urls.items()}
    for kind, figures in per_kind.items():
        for name, by_kind in counted.items():
            figures[name]["statements"] = by_kind.get(kind)
    return {"activities_per_kind": count, "rounds": rounds, "kinds": per_kind,
            "ratios": _ratios(per_kind)}


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
