"""The MARAC's people and roles, and a case's audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from adaptive_cards import card as ac

from cards.base import build, execute, facts, heading, paragraph, text_input
from dialogs.people import AuditLine, Member
from dialogs.subject_access import SubjectAccess

LONDON = ZoneInfo("Europe/London")
SHOWN = 40


def people_card(marac_name: str, people: Sequence[Member]) -> ac.AdaptiveCard:
    return build([
        heading(f"{marac_name}: people"),
        facts([(m.first_name, ", ".join(r.label for r in m.roles)
                + (f" ({m.agency})" if m.agency else "")) for m in people[:SHOWN]]),
        paragraph("Change roles with **grant ROLE NAME** or **revoke ROLE NAME**.", subtle=True),
    ])


def audit_card(subject: str, events: Sequence[AuditLine]) -> ac.AdaptiveCard:
    if not events:
        return build([heading(f"Audit trail of {subject}"),
                      paragraph("Nothing has been recorded for it.")])
    return build([
        heading(f"Audit trail of {subject}"),
        facts([(event.at.astimezone(LONDON).strftime("%d %b %H:%M:%S"),
                f"{event.who}: {event.action} in {event.place}, {event.outcome}"
                + (f" ({event.detail})" if event.detail else ""))
               for event in events[:SHOWN]]),
    ])


def subject_access_card(held: SubjectAccess, marac_id: int) -> ac.AdaptiveCard:
    """What is held, for the operations manager to review: each item can be withheld, further
    words redacted, and then the export made."""
    items: list[Any] = [heading(f"Subject access: {held.reference}")]
    if not held.referrals:
        return build([*items, paragraph("Nothing is held under that reference.")])
    items.append(paragraph("Other people's names are redacted. Review it: withhold any item "
                           "that must not be released and name further words to redact, then "
                           "export. Material for a court needs a court order.", subtle=True))
    number = 0
    for referral in held.referrals:
        items.append(facts([("Received", referral.received_on.isoformat()),
                            ("Outcome", f"{referral.status} ({referral.risk_level} risk)"),
                            ("Qualified by", ", ".join(referral.reasons) or "none")]))
        if referral.case is None:
            continue
        items.append(paragraph(f"Case {referral.case.number} ({referral.case.status})"))
        for kind, texts in (("Information", referral.case.information),
                            ("Action", referral.case.actions)):
            for text in texts:
                number += 1
                items += [paragraph(f"{number}. {kind}: {text}"),
                          ac.InputToggle(id=f"withhold_{number}", title="Withhold this item",
                                         value="false", value_on="true", value_off="false")]
    items.append(text_input("redact", "Further words to redact, separated by commas",
                            max_length=2000))
    return build(items, [execute("Export the reviewed record", "sar.export",
                                 reference=held.reference, marac=marac_id)])
