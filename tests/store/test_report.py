"""The MARAC's figures (issue 18): a year of the demo MARAC run through the dialogs, and every
figure of the report checked against the test's own count of what it did."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from statistics import median

import pytest
from docx import Document

from bot.features.report_export import SAFELIVES_COLUMNS, render_csv, render_docx
from cards.report import report_card
from dialogs import report
from dialogs.report import Period, ReportError, read_period
from dialogs.working_days import Nation, WorkingCalendar
from tests.cards_check import assert_valid_for_teams
from tests.store.year_factory import IDVA_ABSENT, POPULATION, Heard, build_year

YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
CAUSES = {"deferred": "deferred", "late": "referral waiting in triage", "": "no slot"}


def _in_year(day: date | None) -> bool:
    return day is not None and YEAR.first <= day <= YEAR.last


def _expected_equality(cases: list[Heard]) -> list[tuple[str, str, int | None]]:
    expected = []
    for label, key, categories in report.EQUALITY_FIELDS:
        found = Counter(h.equality.get(key) for h in cases)
        for category in (*categories, None):
            expected.append((label, category or report.NOT_RECORDED,
                             report.suppressed(found.get(category, 0))))
    return expected


async def test_a_year_of_figures_match_the_record(store, clock):
    year = await build_year(store, clock)
    ledger = year.ledger
    clock.set(datetime(2026, 2, 10, 12, tzinfo=UTC))
    async with store.unit_of_work() as session:
        got = await report.build(session, year.marac_id, YEAR, clock.now())

    heard = [h for h in ledger.cases.values() if _in_year(h.heard_on)]
    assert len(heard) > 100
    assert got.cases_heard == len(heard)
    assert got.per_population == pytest.approx(len(heard) * 10_000 / POPULATION)
    assert got.repeats == sum(h.repeat for h in heard) > 0

    assert dict(got.referrals) == dict(ledger.referrals)
    assert got.police_referrals == ledger.referrals["Police"]
    assert Counter({(reason, risk): n for reason, risk, n in got.declined}) == ledger.declined

    calendar = WorkingCalendar(Nation("ENG"))
    days = {h.number: calendar.between(h.received, h.heard_on) for h in heard
            if h.heard_on}
    late = [h for h in heard if days[h.number] > 14]
    causes = Counter(CAUSES["deferred" if h.deferred else "late" if h.late_triage else ""]
                     for h in late)
    assert set(causes) == set(CAUSES.values())  # the year has a breach of every cause
    timeliness = got.timeliness
    assert (timeliness.heard, timeliness.within) == (len(heard), len(heard) - len(late))
    assert timeliness.breaches == dict(causes)
    assert timeliness.median_working_days == median(days.values())
    months = Counter(f"{h.heard_on:%Y-%m}" for h in heard)
    assert [(m, n) for m, _, n in timeliness.by_month] == sorted(months.items())
    assert sum(w for _, w, _ in timeliness.by_month) == timeliness.within

    held = [d for d in ledger.meetings if _in_year(d)]
    assert got.meetings_held == len(held)
    attendance = {a.agency: a for a in got.attendance}
    for agency in ("Police", "IDVA Service", "Children's Social Care", "Health", "Housing",
                   "Probation"):
        there = sum(1 for d in held if ledger.attended[(d, agency)])
        apologies = sum(1 for d in held if (d, agency) in ledger.apologies)
        row = attendance[agency]
        assert (row.attended, row.apologies, row.absent) == (
            there, apologies, len(held) - there - apologies), agency
    assert attendance["IDVA Service"].attended == len(held) - len(IDVA_ABSENT)
    assert got.persistently_absent == ("IDVA Service",)

    spread = got.dissemination
    hours = [(h.delivered_at - h.ended_at).total_seconds() / 3600 for h in heard
             if h.delivered_at and h.ended_at]
    assert spread.plans == len(heard)
    assert spread.on_time == sum(1 for x in hours if x <= 48) < len(heard)
    assert spread.median_hours == pytest.approx(median(hours))
    withheld = sum(h.probation_action for h in heard)
    assert spread.plans_withheld == withheld > 0
    assert spread.withheld == (("Probation", withheld),)

    actions = {a.agency: a for a in got.actions}
    planned = [h for h in heard if h.police_action]
    fates = Counter(h.police_action for h in planned)
    police = actions["Police"]
    assert (police.agreed, police.completed, police.cannot, police.overdue) == (
        len(planned), fates["done"], fates["cannot"], fates["overdue"])
    probation = actions["Probation"]
    assert (probation.agreed, probation.completed, probation.cannot, probation.overdue) == (
        withheld, 0, 0, withheld)

    assert [(e.field, e.category, e.count) for e in got.equality] == _expected_equality(heard)
    assert any(e.count is None for e in got.equality)  # some counts are under 5
    assert all(e.count is None or e.count == 0 or e.count >= 5 for e in got.equality)
    assert got.children == 0  # the card payload's default: none in the household
    male = sum(1 for h in heard if h.equality.get("victim_gender") == "Male")
    assert dict(got.profile)["Male victims"] == report.suppressed(male)

    _the_outputs_carry_the_figures(got)


def _the_outputs_carry_the_figures(got: report.Report) -> None:
    assert_valid_for_teams(report_card(got))
    rows = list(csv.reader(io.StringIO(render_csv(got).decode())))
    assert tuple(rows[0]) == SAFELIVES_COLUMNS
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Number of cases discussed"] == str(got.cases_heard)
    assert row["Police referrals"] == str(got.police_referrals)
    document = Document(io.BytesIO(render_docx(got)))
    assert len(document.inline_shapes) == 2 and len(document.tables) >= 7


@pytest.mark.parametrize("text, first, last", [
    ("", date(2026, 7, 1), date(2026, 9, 30)),
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2025", date(2025, 1, 1), date(2025, 12, 31)),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2026-01-05 2026-03-04", date(2026, 1, 5), date(2026, 3, 4)),
])
def test_periods_read(text, first, last):
    assert read_period(text, date(2026, 11, 24)) == Period(first, last)


@pytest.mark.parametrize("text", ["last week", "2026-13", "2026-03-01 2026-02-01", "2026-Q5"])
def test_a_period_that_cannot_be_read_is_one_sentence(text):
    with pytest.raises(ReportError) as error:
        read_period(text, date(2026, 11, 24))
    message = str(error.value)
    assert message.endswith(".") and "\n" not in message
