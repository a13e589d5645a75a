"""Sending activities over HTTP and timing the answers: one at a time (to cost each turn
alone), or open-loop at a fixed rate per meeting (to see latency under load: each press is
sent at its scheduled instant whether or not earlier ones were answered, and timed from that
instant, so a slow server cannot slow the load down and hide its own queueing)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

REQUEST_TIMEOUT = 10.0
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, answered well
    errors: int = 0  # no answer, a 4xx/5xx, or a timeout
    refused: int = 0  # answered in one sentence instead of a card: a press that failed
    samples: list[str] = field(default_factory=list)  # a few of the errors, to show

    @property
    def sent(self) -> int:
        return len(self.latencies) + self.errors + self.refused

    def fail(self, refused: bool, why: str) -> None:
        if refused:
            self.refused += 1
        else:
            self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(why[:300])


def client(timeout: float = REQUEST_TIMEOUT) -> ClientSession:
    return ClientSession(connector=TCPConnector(limit=0), timeout=ClientTimeout(total=timeout))


async def send(session: ClientSession, url: str, activity: dict[str, Any], outcome: Outcome,
               since: float | None = None) -> None:
    """POST one activity; its latency (from `since`, if given) or its failure in `outcome`."""
    began = time.perf_counter() if since is None else since
    try:
        async with session.post(url + "/api/messages", json=activity) as response:
            body = await response.read()
            status = response.status
    except (ClientError, TimeoutError) as error:
        outcome.fail(False, f"{type(error).__name__}: {error}")
        return
    elapsed = time.perf_counter() - began
    problem = _problem(activity, status, body)
    if problem is None:
        outcome.latencies.append(elapsed)
    else:
        outcome.fail(problem[0], problem[1])


def _problem(activity: dict[str, Any], status: int, body: bytes) -> tuple[bool, str] | None:
    """None for a good answer; else (refused, why)."""
    if status >= 300:
        return False, f"HTTP {status}: {body[:200]!r}"
    if activity["type"] == "invoke" and MESSAGE_TYPE.encode() in body:
        return True, f"{activity['value']['action']['verb']}: {body[:200]!r}"
    return None


async def one_at_a_time(url: str, activities: Iterable[dict[str, Any]]) -> Outcome:
    outcome = Outcome()
    async with client() as session:
        for activity in activities:
            await send(session, url, activity, outcome)
    return outcome


async def open_loop(sources: list[tuple[str, Callable[[int], dict[str, Any]]]],
                    duration: float, rate: float, seed: int = 7) -> Outcome:
    """Each source (server url, step -> activity) sends `rate` activities a second for
    `duration` seconds, starting at a random phase; waits for the last answers."""
    outcome = Outcome()
    phases = random.Random(seed)
    async with client() as session:
        start = time.perf_counter() + 0.5
        pending: set[asyncio.Task[None]] = set()
        runners = [_source(session, url, make, start + phases.random() / rate, start + duration,
                           1 / rate, outcome, pending) for url, make in sources]
        await asyncio.gather(*runners)
        if pending:
            await asyncio.wait(pending, timeout=REQUEST_TIMEOUT + 5)
    return outcome


async def _source(session: ClientSession, url: str, make: Callable[[int], dict[str, Any]],
                  first: float, end: float, period: float, outcome: Outcome,
                  pending: set[asyncio.Task[None]]) -> None:
    at, step = first, 0
    while at < end:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        task = asyncio.create_task(send(session, url, make(step), outcome, since=at))
        pending.add(task)
        task.add_done_callback(pending.discard)
        at, step = at + period, step + 1
