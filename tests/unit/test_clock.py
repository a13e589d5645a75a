"""The settable clock: every process reading one file agrees on the time, tests set and move
it, and a bot with an app id (production) refuses it in one sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigurationError, Settings
from bot.ops.cli import main
from dialogs.clock import (
    ClockFileError,
    SetClock,
    advance_clock,
    freeze_clock,
    parse_duration,
    set_clock,
)

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def test_a_frozen_clock_reads_what_was_set_and_moves_only_when_moved(tmp_path):
    path = tmp_path / "clock.json"
    set_clock(path, AT, frozen=True)
    clock = SetClock(path)
    assert clock.now() == AT == clock.now()
    advance_clock(path, timedelta(hours=36))
    assert clock.now() == AT + timedelta(hours=36)


def test_a_running_clock_runs_from_the_instant_set(tmp_path):
    path = tmp_path / "clock.json"
    set_clock(path, AT)
    read = SetClock(path).now()
    assert AT <= read < AT + timedelta(minutes=1)


def test_freezing_and_running_again_keeps_the_instant(tmp_path):
    path = tmp_path / "clock.json"
    set_clock(path, AT, frozen=True)
    assert freeze_clock(path, frozen=False).at == AT  # runs on from where it stood
    stood = freeze_clock(path).at
    assert SetClock(path).now() == stood


def test_every_reader_of_the_file_sees_a_change(tmp_path):
    path = tmp_path / "clock.json"
    set_clock(path, AT, frozen=True)
    bot, replica = SetClock(path), SetClock(path)
    for hours in range(1, 4):  # quick successive changes, as a test makes them
        set_clock(path, AT + timedelta(hours=hours), frozen=True)
        assert bot.now() == replica.now() == AT + timedelta(hours=hours)


@pytest.mark.parametrize(("text", "expected"), [
    ("36h", timedelta(hours=36)), ("2d 4h", timedelta(days=2, hours=4)),
    ("90s", timedelta(seconds=90)), ("15min", timedelta(minutes=15)),
])
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "36", "3 weeks", "h"])
def test_a_bad_duration_is_one_sentence(text):
    with pytest.raises(ValueError, match="is not a duration like 36h"):
        parse_duration(text)


def test_an_unreadable_clock_file_is_one_sentence(tmp_path):
    path = tmp_path / "clock.json"
    path.write_text("yesterday", "utf-8")
    with pytest.raises(ClockFileError, match="cannot be read"):
        SetClock(path)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Settings.from_env({"MARAC_CLOCK_FILE": str(path)}).clock()


def test_production_refuses_a_settable_clock(tmp_path):
    with pytest.raises(ConfigurationError, match="a bot with an app id runs on the system clock"):
        Settings.from_env({"MicrosoftAppId": "abc", "MicrosoftAppPassword": "x",
                           "MARAC_ENCRYPTION_KEYS": "", "MARAC_CLOCK_FILE": "clock.json"})


def test_the_console_sets_and_moves_the_clock(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MARAC_CLOCK_FILE", str(tmp_path / "clock.json"))
    assert main(["clock", "set", AT.isoformat(), "--frozen"]) == 0
    assert main(["clock", "advance", "48h"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "The clock reads 2026-12-02T09:30:00+00:00, standing still.",
        "The clock reads 2026-12-04T09:30:00+00:00, standing still."]
    assert main(["clock", "advance", "soon"]) == 2
    assert "is not a duration" in capsys.readouterr().err
