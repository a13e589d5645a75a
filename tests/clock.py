"""The instant every served stack of the tests starts at, instead of the calendar's.

A Wednesday morning in an ordinary week: the demo meeting is a week away, so nothing is due
before the tests make it due. `MARAC_TEST_CLOCK` (an ISO instant with its zone) runs the
suite on another day: the calendar edges are checked that way, and the store tests sweep
the days themselves (tests/store/test_calendar_edges.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

PINNED = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def pinned_now() -> datetime:
    chosen = os.environ.get("MARAC_TEST_CLOCK", "").strip()
    if not chosen:
        return PINNED
    at = datetime.fromisoformat(chosen)
    if at.tzinfo is None:
        raise ValueError(f"MARAC_TEST_CLOCK needs a time zone, like {PINNED.isoformat()}.")
    return at

# How long a test waits for what the bot will do (a post, a delivery) before it fails: a
# patience, not a speed target. Every wait ends as soon as the thing arrives, so a generous
# one costs nothing when the bot is quick and keeps a busy machine from failing a test.
PATIENCE = 60.0
