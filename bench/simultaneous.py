"""Part 6, identical presses at once: one button press sent 50 times at the same instant to
one replica, as when a chair's click is repeated by Teams or by impatient fingers; how long
each answer took (Teams waits about 15 s for a card action's answer; the target is p99
under 2 s), how many of the 50 were answered with a card, a sentence or not at all, and how
many actions the 50 stored (one is right: the same card and inputs add one action)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import servers
from bench.activities import add_action, confirm_attendance
from bench.databases import database
from bench.load import Outcome, client, one_at_a_time, send
from bench.meetings import seeded, warm_up
from bench.report import latency
from storage.database import Store
from storage.models import Case, PlannedAction

PRESSES = 50
# Long enough to time the slowest answer rather than cut it off. A press not answered with a
# card (no answer in this long, an error, or a sentence) counts in p99 as this long.
WAIT_SECONDS = 60.0


async def run(kind: str, connector: servers.Server, logs: Path, log_level: str,
              postgres_admin: str, presses: int = PRESSES) -> dict[str, Any]:
    async with database(kind, postgres_admin) as url:
        meetings = await seeded(url, 1, connector.url)
        replica = servers.marac(f"marac-{kind}-presses", url, 30, log_level)
        with servers.running([replica], logs):
            await warm_up([replica], meetings, connector.url)
            meeting = meetings[0]
            member = meeting.representatives[0]  # at the meeting, so the action is agreed
            await one_at_a_time(replica.url, [confirm_attendance(meeting, member,
                                                                 connector.url)])
            press = add_action(meeting, member, meeting.cases[0], 0, connector.url)
            outcome = Outcome()
            before = await _actions_on(url, meeting.cases[0])  # the warm-up's own
            async with client(WAIT_SECONDS) as session:
                began = time.perf_counter()
                await asyncio.gather(*(send(session, replica.url, press, outcome, since=began)
                                       for _ in range(presses)))
            stored = await _actions_on(url, meeting.cases[0]) - before
    unanswered = [WAIT_SECONDS] * (outcome.errors + outcome.refused)
    return {"database": kind, "presses": presses, "ok": len(outcome.latencies),
            **latency(outcome.latencies + unanswered), "errors": outcome.errors,
            "refused": outcome.refused, "stored": stored, "error_samples": outcome.samples}


async def _actions_on(url: str, number: str) -> int:
    """The actions stored on the case: the identical presses should have added one."""
    store = Store.from_url(url)
    try:
        async with store.unit_of_work() as session:
            return await session.scalar(
                select(func.count()).select_from(PlannedAction).join(
                    Case, Case.id == PlannedAction.case_id).where(Case.number == number)) or 0
    finally:
        await store.close()
