"""The MARAC's people and roles, and a case's audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from adaptive_cards import card as ac

from cards.base import build, facts, heading, paragraph
from dialogs.people import Member
from storage.models import AuditEvent

LONDON = ZoneInfo("Europe/London")
SHOWN = 40


def people_card(marac_name: str, people: Sequence[Member]) -> ac.AdaptiveCard:
    return build([
        heading(f"{marac_name}: people"),
        facts([(m.first_name, ", ".join(r.label for r in m.roles)
                + (f" ({m.agency})" if m.agency else "")) for m in people[:SHOWN]]),
        paragraph("Change roles with **grant ROLE NAME** or **revoke ROLE NAME**.", subtle=True),
    ])


def audit_card(subject: str, events: Sequence[tuple[AuditEvent, str]]) -> ac.AdaptiveCard:
    if not events:
        return build([heading(f"Audit trail of {subject}"),
                      paragraph("Nothing has been recorded for it.")])
    return build([
        heading(f"Audit trail of {subject}"),
        facts([(event.at.astimezone(LONDON).strftime("%d %b %H:%M:%S"),
                f"{who}: {event.action} in {event.place}, {event.outcome}"
                + (f" ({event.detail})" if event.detail else ""))
               for event, who in events[:SHOWN]]),
    ])
