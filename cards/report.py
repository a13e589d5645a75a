"""The report card: the period's headline figures, each against its target, and charts where
a person would rather look than read (timeliness by month, attendance by agency, referrals by
agency). The charts are Teams' own chart elements (Chart.VerticalBar.Grouped, Chart.Pie),
which adaptive-cards-py does not model: the card is built with it, then the charts are added
to its JSON, each with a text fallback for a client that cannot draw it."""

from __future__ import annotations

import json
from typing import Any

from cards.base import build, facts, heading, paragraph
from dialogs.report import DEADLINE_HOURS, TARGET_PERCENT, Report, percent


def shown(value: float | None, unit: str = "%") -> str:
    return "none to count" if value is None else f"{value:.0f}{unit}"


def headline(report: Report) -> list[tuple[str, str]]:
    """The figures on the card and at the head of the Word document."""
    timely, spread = report.timeliness, report.dissemination
    per = report.per_population
    return [
        ("Cases heard", f"{report.cases_heard}"
         + (f" ({per:.1f} per 10,000 adults)" if per is not None else "")),
        ("Repeat cases",
         f"{report.repeats} ({shown(percent(report.repeats, report.cases_heard))})"),
        ("Referrals", f"{report.referral_count}, police "
         f"{shown(percent(report.police_referrals, report.referral_count))}"),
        (f"Heard within {report.target_working_days} working days",
         f"{shown(percent(timely.within, timely.heard))} of {timely.heard} "
         f"(target {TARGET_PERCENT}%)"),
        ("Median working days to hearing", shown(timely.median_working_days, "")),
        (f"Plans to every agency within {DEADLINE_HOURS} hours",
         f"{shown(percent(spread.on_time, spread.plans))} of {spread.plans} "
         f"(target {TARGET_PERCENT}%)"),
        ("Median hours to the last agency", shown(spread.median_hours, " h")),
        ("Plans withheld from an agency", f"{spread.plans_withheld} (no sharing agreement)"),
        ("Actions agreed", "{} · done {} · cannot {} · overdue {}".format(
            *(sum(getattr(a, f) for a in report.actions)
              for f in ("agreed", "completed", "cannot", "overdue")))),
        ("Meetings held", str(report.meetings_held)),
        ("Core agencies absent 3 meetings running",
         ", ".join(report.persistently_absent) or "none"),
    ]


def report_card(report: Report) -> dict[str, Any]:
    card = json.loads(build([
        heading(f"{report.marac}: figures"),
        paragraph(f"{report.period.label}, as recorded on {report.as_of:%d %b %Y}.",
                  subtle=True),
        facts(headline(report)),
    ]).to_json())
    card["body"] += [chart for chart in (
        _timeliness_chart(report), _attendance_chart(report), _referrals_chart(report))
        if chart is not None]
    card["body"].append({
        "type": "TextBlock", "wrap": True, "isSubtle": True,
        "text": "The SafeLives data return (CSV) and the steering group's report (Word): "
                "marac report --marac M --from --to --format csv|docx."})
    return card


def _fallback(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True}


def _timeliness_chart(report: Report) -> dict[str, Any] | None:
    months = report.timeliness.by_month
    if not months:
        return None
    return {
        "type": "Chart.VerticalBar.Grouped",
        "title": "Cases heard by month",
        "stacked": True,
        "xAxisTitle": "Month",
        "yAxisTitle": "Cases",
        "data": [
            {"legend": f"Within {report.target_working_days} working days", "color": "good",
             "values": [{"x": m, "y": within} for m, within, _ in months]},
            {"legend": "Later", "color": "attention",
             "values": [{"x": m, "y": heard - within} for m, within, heard in months]},
        ],
        "fallback": _fallback("Heard within target by month: " + ", ".join(
            f"{m} {within} of {heard}" for m, within, heard in months) + "."),
    }


def _attendance_chart(report: Report) -> dict[str, Any] | None:
    rows = report.attendance
    if not report.meetings_held or not rows:
        return None
    return {
        "type": "Chart.VerticalBar.Grouped",
        "title": f"Attendance at {report.meetings_held} meetings",
        "stacked": True,
        "xAxisTitle": "Agency",
        "yAxisTitle": "Meetings",
        "data": [
            {"legend": legend, "color": color,
             "values": [{"x": row.agency, "y": getattr(row, field)} for row in rows]}
            for legend, field, color in (("Attended", "attended", "good"),
                                         ("Apologies, information sent", "apologies",
                                          "warning"),
                                         ("Absent", "absent", "attention"))
        ],
        "fallback": _fallback("Attendance: " + "; ".join(
            f"{r.agency} {r.attended} attended, {r.apologies} apologies, {r.absent} absent"
            for r in rows) + "."),
    }


def _referrals_chart(report: Report) -> dict[str, Any] | None:
    if not report.referrals:
        return None
    return {
        "type": "Chart.Pie",
        "title": "Referrals by referring agency",
        "colorSet": "categorical",
        "data": [{"legend": agency, "value": n} for agency, n in report.referrals],
        "fallback": _fallback("Referrals: " + ", ".join(
            f"{agency} {n}" for agency, n in report.referrals) + "."),
    }
