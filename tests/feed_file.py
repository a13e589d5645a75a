"""Police feed files of any length, for the download and import tests."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from dialogs.police_feed import COLUMNS


def feed_rows(count: int, received: date, first: int = 1) -> list[dict[str, str]]:
    """`count` good rows, each a different incident and victim, above the DASH threshold;
    short ones (99 bytes), so that 50,000 of them fit the 5 MB a file may have."""
    return [{
        "police_incident_ref": f"I{n:06d}", "incident_date": (received - timedelta(days=2))
        .isoformat(), "received_on": received.isoformat(), "victim_first_name": "Amy",
        "victim_reference": f"P{n:06d}", "victim_age_band": "35-44",
        "children_in_household": "0", "perpetrator_first_name": "Dean",
        "referring_agency": "Police", "referrer_name": "PC Lee", "area": "South",
        "honour_based_violence": "false", "dash_yes_count": "15", "escalation": "false",
        "escalation_detail": "", "professional_judgement": "false", "rationale": "",
    } for n in range(first, first + count)]


def feed_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
