"""Working days: the MARAC's deadlines are counted in them, never in calendar days.

A working day is a Monday to Friday that is not a bank holiday in the MARAC's nation (England
by default; England and Wales share their bank holidays). Bank holidays come from the
`holidays` package, which computes them locally (no network), including the substitute
("observed") days when Christmas, Boxing Day or New Year fall on a weekend, and one-off days
such as a coronation.

Counting rule, used throughout: "n working days after d" counts working days strictly after
d, so the day of receipt is never day 1, whether or not it is itself a working day. A case
received on Friday has Monday as its first working day after receipt; so does one received on
Saturday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache

import holidays

ONE_DAY = timedelta(days=1)
SATURDAY = 5


class Nation(StrEnum):
    """A UK nation, by its ISO 3166-2 subdivision code as the `holidays` package spells it."""

    ENGLAND = "ENG"
    WALES = "WLS"
    SCOTLAND = "SCT"
    NORTHERN_IRELAND = "NIR"


@cache
def _bank_holidays(nation: Nation, year: int) -> frozenset[date]:
    """One year's bank holidays in one nation, computed once per process."""
    return frozenset(holidays.country_holidays("GB", subdiv=nation.value, years=year))


def _as_day(value: date) -> date:
    if isinstance(value, datetime):
        raise TypeError("Pass a date, not a datetime: convert to the MARAC's local date first.")
    return value


def _non_negative(n: int) -> int:
    if n < 0:
        raise ValueError(f"A number of working days cannot be negative ({n}).")
    return n


@dataclass(frozen=True)
class WorkingCalendar:
    nation: Nation = Nation.ENGLAND

    def bank_holidays(self, year: int) -> frozenset[date]:
        """The year's bank holidays, including substitute days and those on a weekend."""
        return _bank_holidays(self.nation, year)

    def is_working_day(self, day: date) -> bool:
        day = _as_day(day)
        return day.weekday() < SATURDAY and day not in _bank_holidays(self.nation, day.year)

    def add(self, day: date, n: int) -> date:
        """The nth working day after `day`.

        `add(day, 0)` is `day` itself if it is a working day, otherwise the next working day.
        """
        day = _as_day(day)
        remaining = _non_negative(n)
        if remaining == 0:
            while not self.is_working_day(day):
                day += ONE_DAY
            return day
        while remaining:
            day += ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def before(self, day: date, n: int) -> date:
        """The nth working day before `day` (for the case list, 4; for agency returns, 1).

        `before(day, 0)` is `day` itself if it is a working day, otherwise the previous one.
        """
        day = _as_day(day)
        remaining = _non_negative(n)
        if remaining == 0:
            while not self.is_working_day(day):
                day -= ONE_DAY
            return day
        while remaining:
            day -= ONE_DAY
            if self.is_working_day(day):
                remaining -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """The working days after `start` up to and including `end`.

        So `add(start, between(start, end)) == end` whenever `end` is a working day after
        `start`. Negative when `end` is before `start`: `between(a, b) == -between(b, a)`.
        """
        start, end = _as_day(start), _as_day(end)
        if end < start:
            return -self.between(end, start)
        weekdays = _weekdays_after(start, (end - start).days)
        closed = sum(
            1
            for year in range(start.year, end.year + 1)
            for holiday in _bank_holidays(self.nation, year)
            if start < holiday <= end and holiday.weekday() < SATURDAY
        )
        return weekdays - closed

    def window(self, received: date, earliest: int = 7, latest: int = 14) -> tuple[date, date]:
        """The first and last days a case received on `received` may be heard."""
        if not 0 <= earliest <= latest:
            raise ValueError(f"The hearing window {earliest} to {latest} working days is empty.")
        return self.add(received, earliest), self.add(received, latest)


def _weekdays_after(start: date, days: int) -> int:
    """Mondays to Fridays among the `days` calendar days after `start`."""
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=offset)).weekday() < SATURDAY:
            count += 1
    return count
