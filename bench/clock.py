"""The benchmark's day: every `marac serve` it starts and its own seeding read one clock,
set to a pinned Wednesday and running on from there, so a run measures the same week
(no case list or bank holiday falling due by chance) whatever the calendar says. Lateness
is still measured in real seconds: `wall` and `served` convert between the two."""

from __future__ import annotations

import atexit
import os
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from dialogs.clock import ClockSetting, read_clock, set_clock

DAY = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # a Wednesday with no bank holiday near


@cache
def clock_file() -> Path:
    """The run's clock file: made and set on first use, and handed down to the processes
    this one starts (through MARAC_CLOCK_FILE, which the served bot reads too)."""
    inherited = os.environ.get("MARAC_CLOCK_FILE")
    if inherited:
        return Path(inherited)
    path = Path(tempfile.gettempdir()) / f"marac-bench-clock-{os.getpid()}.json"
    set_clock(path, DAY)
    atexit.register(path.unlink, missing_ok=True)
    os.environ["MARAC_CLOCK_FILE"] = str(path)
    return path


def setting() -> ClockSetting:
    return read_clock(clock_file())


def now() -> datetime:
    return setting().now()


def served(wall_time: float) -> datetime:
    """The servers' instant at a Unix time of this machine."""
    held = setting()
    return datetime.fromtimestamp(held.at.timestamp() + wall_time - held.wall, UTC)


def wall(instant: datetime) -> float:
    """The Unix time of this machine at which the servers' clock reads `instant`."""
    held = setting()
    return instant.timestamp() - held.at.timestamp() + held.wall
