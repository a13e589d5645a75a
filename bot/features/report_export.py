"""The report as files: the SafeLives data return (CSV, one row in SafeLives' column order) and
the steering group's report (Word, marked OFFICIAL-SENSITIVE like the plan, its charts drawn
here by matplotlib as PNG images). Equality counts under 5 are never written: "<5"."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from docx.shared import Inches
from matplotlib.figure import Figure
from sqlalchemy import select

from bot.features.documents import marked_document, table, to_bytes
from cards.report import headline, shown
from dialogs.report import Report, build, is_police, percent, read_period
from dialogs.scheduling import local_today
from storage.database import Store
from storage.models import Marac

SUPPRESSED = "<5"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# The SafeLives MARAC data return, in its column order: the MARAC and period, volume, repeats,
# children, referrals by referring agency, then the diversity of the victims heard.
SAFELIVES_COLUMNS = (
    "MARAC", "Period start", "Period end", "Number of MARAC meetings",
    "Number of cases discussed", "Cases per 10,000 adult population",
    "Number of repeat cases", "Repeat rate (%)", "Number of children in households",
    "Police referrals", "Police referrals (%)", "IDVA referrals",
    "Children's social care referrals", "Health referrals", "Housing referrals",
    "Probation referrals", "Other agency referrals", "BAME victims", "LGBT victims",
    "Victims with a disability", "Male victims", "Victims aged 16-17",
)
# Which SafeLives column a referring agency counts in, by the words of its name.
AGENCY_COLUMNS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Police referrals", is_police),
    ("IDVA referrals", lambda name: "idva" in name.casefold()),
    ("Children's social care referrals", lambda name: "children" in name.casefold()),
    ("Health referrals", lambda name: "health" in name.casefold()),
    ("Housing referrals", lambda name: "housing" in name.casefold()),
    ("Probation referrals", lambda name: "probation" in name.casefold()),
)


def count_or_suppressed(count: int | None) -> str:
    return SUPPRESSED if count is None else str(count)


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def file_name(report: Report, extension: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9]+", "-", report.marac).strip("-")
    return f"{safe}-report-{report.period.first}-{report.period.last}.{extension}"


def by_safelives_column(report: Report) -> dict[str, int]:
    columns = dict.fromkeys([c for c, _ in AGENCY_COLUMNS] + ["Other agency referrals"], 0)
    for agency, n in report.referrals:
        column = next((c for c, holds in AGENCY_COLUMNS if holds(agency)),
                      "Other agency referrals")
        columns[column] += n
    return columns


def render_csv(report: Report) -> bytes:
    row: dict[str, object] = {
        "MARAC": report.marac, "Period start": report.period.first.isoformat(),
        "Period end": report.period.last.isoformat(),
        "Number of MARAC meetings": report.meetings_held,
        "Number of cases discussed": report.cases_heard,
        "Cases per 10,000 adult population": _figure(report.per_population),
        "Number of repeat cases": report.repeats,
        "Repeat rate (%)": _figure(percent(report.repeats, report.cases_heard)),
        "Number of children in households": report.children,
        "Police referrals (%)": _figure(percent(report.police_referrals,
                                                report.referral_count)),
        **by_safelives_column(report),
        **{label: count_or_suppressed(n) for label, n in report.profile},
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SAFELIVES_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue().encode("utf-8")


def render_docx(report: Report) -> bytes:
    document = marked_document(f"{report.marac} report {report.period.label}")
    document.add_heading(f"{report.marac}: report to the steering group", 0)
    document.add_paragraph(f"{report.period.label}, as recorded on {report.as_of:%d %B %Y}. "
                           "Targets: every case heard within "
                           f"{report.target_working_days} working days of its referral, "
                           "every plan with every entitled agency within 48 hours.")
    table(document, [tuple(row) for row in headline(report)], ("Figure", "This period"))
    _timeliness(document, report)
    _referrals(document, report)
    _attendance(document, report)
    _dissemination(document, report)
    _actions(document, report)
    _equality(document, report)
    return to_bytes(document)


def _chart(document: Any, draw: Callable[[Any], None]) -> None:
    # A Figure of its own, not pyplot's global state: drawn on the server, never a window.
    figure = Figure(figsize=(7, 3.2), dpi=120)
    draw(figure.subplots())
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png")
    image.seek(0)
    document.add_picture(image, width=Inches(6.3))


def _timeliness(document: Any, report: Report) -> None:
    timely = report.timeliness
    document.add_heading("Timeliness", 1)
    months = timely.by_month
    if months:
        def draw(axes: Any) -> None:
            labels = [m for m, _, _ in months]
            within = [w for _, w, _ in months]
            later = [n - w for _, w, n in months]
            axes.bar(labels, within, label="Within target", color="#2e7d32")
            axes.bar(labels, later, bottom=within, label="Later", color="#c62828")
            axes.set_ylabel("Cases heard")
            axes.legend()
            axes.tick_params(axis="x", labelrotation=45)
        _chart(document, draw)
    table(document, [(cause, str(n)) for cause, n in sorted(timely.breaches.items())]
          or [("none", "0")], ("Heard late: cause", "Cases"))


def _referrals(document: Any, report: Report) -> None:
    document.add_heading("Referrals", 1)
    table(document, [(a, str(n)) for a, n in report.referrals] or [("none", "0")],
          ("Referring agency", "Referrals"))
    document.add_paragraph(
        f"Police referrals: {shown(percent(report.police_referrals, report.referral_count))}.")
    table(document, [(reason, risk, str(n)) for reason, risk, n in report.declined]
          or [("none", "", "0")], ("Declined", "Risk level", "Referrals"))


def _attendance(document: Any, report: Report) -> None:
    document.add_heading("Attendance", 1)
    rows = report.attendance
    if report.meetings_held and rows:
        def draw(axes: Any) -> None:
            names = [r.agency for r in rows]
            bottom = [0] * len(rows)
            for label, field, colour in (("Attended", "attended", "#2e7d32"),
                                         ("Apologies, information sent", "apologies",
                                          "#f9a825"),
                                         ("Absent", "absent", "#c62828")):
                values = [getattr(r, field) for r in rows]
                axes.barh(names, values, left=bottom, label=label, color=colour)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
            axes.set_xlabel(f"Meetings (of {report.meetings_held})")
            axes.legend(fontsize="small")
        _chart(document, draw)
    table(document, [(r.agency + (" (core)" if r.core else ""), str(r.attended),
                      str(r.apologies), str(r.absent)) for r in rows],
          ("Agency", "Attended", "Apologies, information sent", "Absent"))
    document.add_paragraph(
        "Core agencies absent three meetings running: "
        + (", ".join(report.persistently_absent) or "none") + ".")


def _dissemination(document: Any, report: Report) -> None:
    spread = report.dissemination
    document.add_heading("Dissemination", 1)
    table(document, [
        ("Plans", str(spread.plans)),
        ("With every entitled agency within 48 hours", str(spread.on_time)),
        ("Median hours from the meeting's end", shown(spread.median_hours, " h")),
        ("Plans withheld from an agency", str(spread.plans_withheld)),
        *((f"Withheld from {agency} (no sharing agreement)", str(n))
          for agency, n in spread.withheld),
    ])


def _actions(document: Any, report: Report) -> None:
    document.add_heading("Actions", 1)
    table(document, [(a.agency, str(a.agreed), str(a.completed), str(a.cannot), str(a.overdue))
                     for a in report.actions] or [("none", "0", "0", "0", "0")],
          ("Agency", "Agreed", "Completed", "Could not be completed", "Overdue"))


def _equality(document: Any, report: Report) -> None:
    document.add_heading("Equality profile of the victims heard", 1)
    document.add_paragraph("Counts under 5 are shown as <5, so that no one is identifiable.")
    table(document, [(e.field, e.category, count_or_suppressed(e.count))
                     for e in report.equality], ("", "Category", "Victims"))


RENDER = {"csv": render_csv, "docx": render_docx}


async def export_file(store: Store, marac_name: str, period_text: str, kind: str,
                      now: datetime) -> tuple[str, bytes]:
    """`marac report`: the period's figures as the SafeLives return or the Word report; the
    period read as the chat's `report` reads it, from the MARAC's own day."""
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac).where(Marac.name == marac_name))
        if marac is None:
            raise ValueError(f"There is no MARAC named {marac_name!r}.")
        period = read_period(period_text, local_today(marac, now))
        figures = await build(session, marac.id, period, now)
    return file_name(figures, kind), RENDER[kind](figures)
