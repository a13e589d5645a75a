"""The report's card, CSV and Word document, from figures made here: the card validates with
its charts (and without, for an empty period), the CSV has SafeLives' columns in order with
small counts suppressed, and the Word document opens with its tables and chart images."""

from __future__ import annotations

import csv
import io
from datetime import date

from docx import Document

from bot.features.documents import MARKING
from bot.features.report_export import SAFELIVES_COLUMNS, render_csv, render_docx
from cards.report import report_card
from dialogs.report import (
    AgencyActions,
    AgencyAttendance,
    Disseminated,
    EqualityCount,
    Period,
    Report,
    Timeliness,
)
from tests.cards_check import assert_valid_for_teams, charts_of, teams_findings


def figures(empty: bool = False) -> Report:
    agencies = ("Police", "IDVA Service", "Children's Social Care", "Health")
    return Report(
        marac="Riverside MARAC", period=Period(date(2026, 7, 1), date(2026, 9, 30)),
        as_of=date(2026, 11, 24), target_working_days=14,
        cases_heard=0 if empty else 120, adult_population=None if empty else 250_000,
        repeats=0 if empty else 30,
        referrals=() if empty else (("Police", 80), ("IDVA Service", 30), ("Health", 12),
                                    ("Victim Support", 3)),
        police_referrals=0 if empty else 80,
        declined=() if empty else (("below the high-risk criteria", "standard", 9),),
        timeliness=Timeliness(0, 0, {}, None, ()) if empty else Timeliness(
            120, 110, {"no slot": 6, "deferred": 4}, 8.0,
            (("2026-07", 40, 42), ("2026-08", 35, 38), ("2026-09", 35, 40))),
        meetings_held=0 if empty else 13,
        attendance=tuple(AgencyAttendance(a, a != "Health", 0 if empty else 10,
                                          0 if empty else 1, 0 if empty else 2)
                         for a in agencies),
        persistently_absent=() if empty else ("IDVA Service",),
        dissemination=Disseminated(0, 0, None, 0, ()) if empty else Disseminated(
            120, 100, 3.5, 12, (("Probation", 12),)),
        actions=() if empty else (AgencyActions("Police", 120, 60, 10, 20),),
        equality=() if empty else (EqualityCount("Gender", "Female", 100),
                                   EqualityCount("Gender", "Male", None),
                                   EqualityCount("Gender", "Other", 0)),
        children=0 if empty else 150,
        profile=tuple((label, None) for label in ("BAME victims", "LGBT victims",
                                                  "Victims with a disability",
                                                  "Male victims", "Victims aged 16-17")),
    )


def test_the_card_shows_the_figures_against_their_targets_with_charts():
    card = report_card(figures())
    assert_valid_for_teams(card)
    assert [c["type"] for c in charts_of(card)] == [
        "Chart.VerticalBar.Grouped", "Chart.VerticalBar.Grouped", "Chart.Pie"]
    text = str(card)
    assert "92% of 120 (target 100%)" in text  # 110 of 120 heard within 14 working days
    assert "83% of 120 (target 100%)" in text  # 100 of 120 plans out within 48 hours
    assert all(chart["fallback"]["type"] == "TextBlock" for chart in charts_of(card))


def test_an_empty_period_has_a_card_with_no_charts():
    card = report_card(figures(empty=True))
    assert_valid_for_teams(card)
    assert charts_of(card) == [] and "none to count" in str(card)


def test_the_chart_check_finds_what_the_schema_refuses():
    card = report_card(figures())
    chart = charts_of(card)[0]
    chart["data"][0]["values"][0]["y"] = "lots"
    charts_of(card)[1]["shading"] = "heavy"
    del charts_of(card)[2]["fallback"]
    findings = " ".join(teams_findings(card))
    assert "valid number" in findings and "'shading'" in findings and "fallback" in findings


def test_the_safelives_return_has_its_columns_in_order_and_no_small_counts():
    rows = list(csv.reader(io.StringIO(render_csv(figures()).decode())))
    assert tuple(rows[0]) == SAFELIVES_COLUMNS and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Number of cases discussed"] == "120"
    assert row["Cases per 10,000 adult population"] == "4.8"
    assert row["Police referrals"] == "80" and row["Police referrals (%)"] == "64.0"
    assert row["Other agency referrals"] == "3"  # Victim Support
    assert row["Male victims"] == "<5" and row["Repeat rate (%)"] == "25.0"


def test_the_steering_group_report_opens_with_its_tables_and_charts():
    document = Document(io.BytesIO(render_docx(figures())))
    assert document.sections[0].header.paragraphs[0].text == MARKING
    assert len(document.inline_shapes) == 2  # timeliness by month, attendance by agency
    cells = [cell.text for table in document.tables for row in table.rows
             for cell in row.cells]
    assert len(document.tables) >= 7
    assert "<5" in cells and "Probation" in " ".join(cells)


def test_an_empty_period_still_makes_a_document():
    document = Document(io.BytesIO(render_docx(figures(empty=True))))
    assert len(document.inline_shapes) == 0 and document.tables
