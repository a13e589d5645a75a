"""The triage card: pending referrals with accept, decline and needs-more-information, and
possible duplicates to confirm or split. Personal chat only: it shows the referral's facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adaptive_cards import card as ac
from adaptive_cards import types as act

from cards.base import build, execute, facts, heading, paragraph, text_input
from dialogs.referrals import ReferralSummary
from dialogs.transfers import TransferIn

SHOWN = 8  # keeps the card well inside Teams' 28 KB


def triage_card(lines: Sequence[ReferralSummary], note: str | None = None,
                transfers: Mapping[int, TransferIn] | None = None) -> ac.AdaptiveCard:
    items: list[object] = [heading("Triage")]
    if note:
        items.append(ac.TextBlock(text=note, wrap=True, weight=act.FontWeight.BOLDER))
    if not lines:
        items.append(paragraph("No referrals are waiting for triage."))
    for line in lines[:SHOWN]:
        items.append(_referral_block(line, (transfers or {}).get(line.id)))
    if len(lines) > SHOWN:
        items.append(paragraph(f"{len(lines) - SHOWN} more are waiting; decide these first."))
    return build(items)


def _referral_block(r: ReferralSummary, transfer: TransferIn | None = None) -> ac.Container:
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
    elif r.information_answer:
        rows += [("Information asked for", r.triage_note),
                 ("Referrer's answer", r.information_answer)]
    if transfer is not None:
        rows += _transfer_rows(transfer)
    note_id = f"note_{r.id}"
    actions = [execute("Accept", "triage.accept", referral_id=r.id),
               execute("Decline", "triage.decline", referral_id=r.id),
               execute("Needs more information", "triage.more", referral_id=r.id)]
    if r.status == "possible_duplicate":
        rows.append(("Possible duplicate of", r.duplicate_of_reference or "an open referral"))
        actions = [execute("Same matter", "triage.same", referral_id=r.id),
                   execute("Separate matter", "triage.separate", referral_id=r.id)]
    panel = (" · closed panel" if r.closed_panel else "") + (" · transfer" if transfer else "")
    buttons: list[Any] = actions
    return ac.Container(separator=True, items=[
        ac.TextBlock(text=f"{r.victim_first_name}{panel}", weight=act.FontWeight.BOLDER,
                     wrap=True),
        facts(rows),
        text_input(note_id, "Reason or note", multiline=False, max_length=500),
        ac.ActionSet(actions=buttons),
    ])


def _transfer_rows(transfer: TransferIn) -> list[tuple[str, str]]:
    rows = [("Transfer from", f"{transfer.from_marac} (case {transfer.case_number})"),
            ("Earlier plan", transfer.earlier_plan or "none written")]
    rows += [("Earlier action", line) for line in transfer.earlier_actions]
    return rows


# What the referrer is told, in their personal chat: their own referral, so its reference
# and the victim's first name may be shown there.

def accepted_notice(reference: str, first_name: str, meeting_at: datetime,
                    slot_at: datetime | None) -> ac.AdaptiveCard:
    slot = f" Expected slot: {slot_at:%H:%M}." if slot_at is not None else ""
    return build([
        heading("Referral accepted"),
        paragraph(f"Your referral {reference} for {first_name} was accepted: it will be heard "
                  f"at the MARAC on {meeting_at:%A %d %B %Y}, starting {meeting_at:%H:%M}."
                  + slot),
        paragraph("The perpetrator must not be told of the referral or the meeting."),
    ])


def declined_notice(reference: str, first_name: str, reason: str) -> ac.AdaptiveCard:
    return build([
        heading("Referral declined"),
        paragraph(f"Your referral {reference} for {first_name} was declined."),
        facts([("Reason", reason)]),
    ])


def question_card(referral_id: int, reference: str, first_name: str, question: str,
                  note: str | None = None) -> ac.AdaptiveCard:
    """Triage asks the referrer for more; their answer puts the referral back in triage."""
    items: list[object] = [heading("More information needed")]
    if note:
        items.append(ac.TextBlock(text=note, wrap=True, weight=act.FontWeight.BOLDER))
    items += [
        paragraph(f"Triage needs more information on your referral {reference} for "
                  f"{first_name} before deciding."),
        facts([("Question", question)]),
        text_input("answer", "Your answer", multiline=True, max_length=2000),
    ]
    return build(items, [execute("Send answer", "triage.answer", referral_id=referral_id)])


def answered_card(reference: str) -> ac.AdaptiveCard:
    return build([heading("Answer sent"),
                  paragraph(f"Thank you: referral {reference} is back with triage, "
                            "with your answer beside the question.")])
