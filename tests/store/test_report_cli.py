"""`marac report` from the console: the SafeLives return as CSV and the steering group's
report as a Word document, for a MARAC and a period; a wrong period or MARAC is one sentence
and writes nothing."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime

from docx import Document

from bot.features.report_export import SAFELIVES_COLUMNS
from bot.ops.cli import main
from dialogs.clock import FixedClock
from storage.database import Store
from tests.store.plan_factory import end_meeting, heard, tick


def test_the_report_from_the_console(database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))

    async def hold_a_meeting() -> None:
        store = Store.from_url(database_url)
        try:
            await heard(store, clock)
            await end_meeting(store, clock)
            await tick(store, clock)
        finally:
            await store.close()

    asyncio.run(hold_a_meeting())
    assert main(["population", "--marac", "Riverside MARAC", "200000"]) == 0
    assert main(["population", "--marac", "Riverside MARAC", "-5"]) == 2
    year = ["report", "--marac", "Riverside MARAC", "--from", "2026-01-01", "--to",
            "2026-12-31"]
    returned = tmp_path / "return.csv"
    assert main([*year, "--format", "csv", "--out", str(returned)]) == 0
    rows = list(csv.reader(io.StringIO(returned.read_text())))
    assert tuple(rows[0]) == SAFELIVES_COLUMNS
    row = dict(zip(rows[0], rows[1], strict=True))
    # The meeting heard its first two cases; the rest were never opened.
    assert (row["Number of MARAC meetings"], row["Number of cases discussed"]) == ("1", "2")
    assert row["Cases per 10,000 adult population"] == "0.1"

    document = tmp_path / "report.docx"
    assert main([*year, "--format", "docx", "--out", str(document)]) == 0
    opened = Document(io.BytesIO(document.read_bytes()))
    # Attendance drawn; no timeliness chart: the demo's cases came without referrals.
    assert opened.tables and len(opened.inline_shapes) == 1

    assert main(["report", "--marac", "Riverside MARAC", "--from", "2026-12-31", "--to",
                 "2026-01-01", "--out", str(tmp_path / "no.docx")]) == 1
    assert main(["report", "--marac", "Nowhere MARAC", "--out", str(tmp_path / "no.csv"),
                 "--format", "csv"]) == 2
    printed = capsys.readouterr()
    assert "Riverside MARAC's cases heard are given per 10,000 of its 200,000 adults." in (
        printed.out)
    assert "marac: Give the adult population as a whole number" in printed.err
    assert "marac: The period ends before it starts." in printed.err
    assert "marac: There is no MARAC named 'Nowhere MARAC'." in printed.err
    assert not (tmp_path / "no.docx").exists() and not (tmp_path / "no.csv").exists()


def test_the_console_reads_the_last_quarter_from_the_marac_s_own_day(
        database_url, monkeypatch, tmp_path, capsys):
    """At 00:30 on 1 July in London (23:30 UTC on 30 June) the last whole quarter is April
    to June, as the chat's `report` says, not January to March."""
    from dialogs.clock import set_clock

    clock_file = tmp_path / "clock.json"
    set_clock(clock_file, datetime(2026, 6, 30, 23, 30, tzinfo=UTC), frozen=True)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MARAC_CLOCK_FILE", str(clock_file))
    monkeypatch.chdir(tmp_path)

    async def seed() -> None:
        store = Store.from_url(database_url)
        try:
            await heard(store, FixedClock(datetime(2026, 5, 13, 8, 0, tzinfo=UTC)))
        finally:
            await store.close()

    asyncio.run(seed())
    assert main(["report", "--marac", "Riverside MARAC", "--format", "csv"]) == 0
    assert "Riverside-MARAC-report-2026-04-01-2026-06-30.csv" in capsys.readouterr().out
