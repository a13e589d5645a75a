"""The triage card: pending referrals with accept, decline and needs-more-information, and
possible duplicates to confirm or split. Personal chat only: it shows the referral's facts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adaptive_cards import card as ac
from adaptive_cards import types as act

from cards.base import build, execute, facts, heading, paragraph, text_input
from dialogs.referrals import ReferralSummary

SHOWN = 8  # keeps the card well inside Teams' 28 KB


def triage_card(lines: Sequence[ReferralSummary], note: str | None = None) -> ac.AdaptiveCard:
    items: list[object] = [heading("Triage")]
    if note:
        items.append(ac.TextBlock(text=note, wrap=True, weight=act.FontWeight.BOLDER))
    if not lines:
        items.append(paragraph("No referrals are waiting for triage."))
    for line in lines[:SHOWN]:
        items.append(_referral_block(line))
    if len(lines) > SHOWN:
        items.append(paragraph(f"{len(lines) - SHOWN} more are waiting; decide these first."))
    return build(items)


def _referral_block(r: ReferralSummary) -> ac.Container:
    reasons = ", ".join(x.replace("_", " ") for x in r.qualifying_reasons) or "none"
    rows = [
        ("Reference", r.victim_reference),
        ("Received", r.received_on.isoformat()),
        ("From", r.agency),
        ("DASH", f"{r.dash_yes_count} of 24 yes"),
        ("Qualifies by", reasons),
    ]
    if r.status == "needs_information":
        rows.append(("Information asked for", r.triage_note))
    note_id = f"note_{r.id}"
    actions = [execute("Accept", "triage.accept", referral_id=r.id),
               execute("Decline", "triage.decline", referral_id=r.id),
               execute("Needs more information", "triage.more", referral_id=r.id)]
    if r.status == "possible_duplicate":
        rows.append(("Possible duplicate of", r.duplicate_of_reference or "an open referral"))
        actions = [execute("Same matter", "triage.same", referral_id=r.id),
                   execute("Separate matter", "triage.separate", referral_id=r.id)]
    panel = " · closed panel" if r.closed_panel else ""
    buttons: list[Any] = actions
    return ac.Container(separator=True, items=[
        ac.TextBlock(text=f"{r.victim_first_name}{panel}", weight=act.FontWeight.BOLDER,
                     wrap=True),
        facts(rows),
        text_input(note_id, "Reason or note", multiline=False, max_length=500),
        ac.ActionSet(actions=buttons),
    ])
