"""What an import of the police feed did, line by line for anything that needs attention."""

from __future__ import annotations

from adaptive_cards import card as ac

from cards.base import build, facts, heading, paragraph
from dialogs.police_feed import ImportReport

MOST_LINES = 20  # each list is cut here to keep the card inside Teams' 28 KB


def import_report_card(file_name: str, report: ImportReport) -> ac.AdaptiveCard:
    items: list[object] = [
        heading(f"Police feed: {file_name}"),
        facts([
            ("Rows read", str(report.rows)),
            ("Loaded", str(report.loaded)),
            ("Waiting for triage", str(len(report.listed))),
            ("Declined (below the criteria)", str(len(report.declined))),
            ("Possible duplicates to confirm", str(len(report.possible_duplicates))),
            ("Linked to an incident already listed", str(len(report.linked))),
            ("Refused", str(len(report.refused))),
        ]),
    ]
    if report.refused:
        items.append(paragraph("Refused rows (nothing of them was stored):"))
        items.append(facts([(f"Line {line}", why) for line, why in report.refused[:MOST_LINES]]))
    if report.linked:
        items.append(paragraph("Linked rows:"))
        items.append(facts([(f"Line {line}", f"incident {r.police_incident_ref}, already "
                             f"referral {r.victim_reference}")
                            for line, r in report.linked[:MOST_LINES]]))
    if report.possible_duplicates:
        items.append(paragraph("Possible duplicates are in **triage** to confirm or split."))
    return build(items)


def import_report_text(report: ImportReport) -> str:
    lines = [f"{report.rows} rows read, {report.loaded} loaded ({len(report.listed)} waiting "
             f"for triage, {len(report.declined)} declined, {len(report.possible_duplicates)} "
             f"possible duplicates), {len(report.linked)} linked, {len(report.refused)} "
             "refused."]
    lines += [f"line {line}: {why}" for line, why in report.refused]
    lines += [f"line {line}: linked to incident {r.police_incident_ref} already listed"
              for line, r in report.linked]
    return "\n".join(lines)
