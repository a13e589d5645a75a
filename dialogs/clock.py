"""Time, injectable: the process runs on working days, slots and 48-hour clocks, and tests
set the clock instead of sleeping.

`SetClock` is the clock of a bot under test or in a demo: the instant lives in a file that
every process of one stack reads (the bot, its replicas after a restart, `marac demo`), so a
test pins the date and moves time forward (or stands it still across a restart) by writing
the file, never by waiting."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at


class ClockFileError(ValueError):
    """The clock file cannot be read or written; str(error) is one plain sentence."""


@dataclass(frozen=True)
class ClockSetting:
    """What a clock file holds: the instant set, the wall time it was set at, and whether
    time stands still from there."""

    at: datetime
    wall: float
    frozen: bool = False

    def now(self) -> datetime:
        if self.frozen:
            return self.at
        return self.at + timedelta(seconds=time.time() - self.wall)


class SetClock:
    """A clock read from a file (see the module's docstring); the file is re-read only when
    it has been replaced, so asking the time costs one stat."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._setting = read_clock(path)

    def now(self) -> datetime:
        try:
            status = os.stat(self.path)
        except OSError:
            return self._setting.now()  # a file being replaced: the last setting holds
        if (status.st_ino, status.st_mtime_ns) != self._seen:
            self._seen = (status.st_ino, status.st_mtime_ns)
            self._setting = read_clock(self.path)
        return self._setting.now()


def read_clock(path: Path) -> ClockSetting:
    try:
        held = json.loads(path.read_text("utf-8"))
        at = datetime.fromisoformat(held["at"])
        setting = ClockSetting(at, float(held["wall"]), bool(held.get("frozen", False)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ClockFileError(f"The clock file {path} cannot be read ({error}).") from error
    if at.tzinfo is None:
        raise ClockFileError(f"The clock file {path} holds a time without its time zone.")
    return setting


def set_clock(path: Path, at: datetime, frozen: bool = False) -> ClockSetting:
    """Set the clock of every process reading `path` to `at` (running on from there, or
    standing still); the file is replaced whole, so no reader sees half of it."""
    if at.tzinfo is None:
        raise ClockFileError("A clock is set to a time with its time zone, like "
                             "2026-12-02T09:30:00+00:00.")
    setting = ClockSetting(at.astimezone(UTC), time.time(), frozen)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps({"at": setting.at.isoformat(), "wall": setting.wall,
                                   "frozen": frozen}), "utf-8")
    os.replace(partial, path)
    return setting


def advance_clock(path: Path, by: timedelta) -> ClockSetting:
    """Move the clock forward by `by`, keeping it running or frozen as it was."""
    setting = read_clock(path)
    return set_clock(path, setting.now() + by, setting.frozen)


def freeze_clock(path: Path, frozen: bool = True) -> ClockSetting:
    """Stand the clock still at its present instant, or (frozen=False) let it run again
    from the instant it stood at."""
    setting = read_clock(path)
    return set_clock(path, setting.now(), frozen)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|min|m|s)")
_UNITS = {"d": "days", "h": "hours", "min": "minutes", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """'36h', '2d 4h', '90s', '15min' as a timedelta; a ValueError says what is wrong."""
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        raise ValueError(f"{text!r} is not a duration like 36h, 2d, 15min or 90s.")
    total = timedelta()
    for amount, unit in parts:
        total += timedelta(**{_UNITS[unit]: float(amount)})
    return total
