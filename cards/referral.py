"""The referral card (victim, perpetrator, referrer, incident and the DASH checklist) and the
summary the referrer gets back. Sent in personal chat only: it names people."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from adaptive_cards import card as ac
from adaptive_cards import types as act

from cards.base import build, choice_input, execute, facts, heading, paragraph, text_input
from dialogs.dash import QUESTIONS
from dialogs.referrals import AGE_BANDS, EQUALITY, ReferralSummary
from dialogs.victim_voice import VOICE, VoiceField

YES_NO = [("No", "false"), ("Yes", "true")]
ANSWERS = [("Yes", "yes"), ("No", "no"), ("Don't know", "dont_know")]


def referral_form_card(agencies: Sequence[str], today: date,
                       values: Mapping[str, object] | None = None,
                       yes_count: int | None = None, problem: str | None = None,
                       marac_id: int | None = None) -> ac.AdaptiveCard:
    """`marac_id` goes with the buttons: in personal chat it is the MARAC referred to."""
    v = {k: str(x) for k, x in (values or {}).items() if x is not None}
    items: list[object] = [heading("Refer a case to the MARAC")]
    if problem:
        items.append(ac.TextBlock(text=problem, wrap=True, color=act.Colors.ATTENTION))
    items += [
        paragraph("Use first names only. The perpetrator is never told of a referral.",
                  subtle=True),
        text_input("victim_first_name", "Victim's first name", v.get("victim_first_name", ""),
                   required=True, max_length=40),
        text_input("victim_reference", "Victim's reference (not their name)",
                   v.get("victim_reference", ""), required=True, max_length=100),
        choice_input("victim_age_band", "Victim's age band", [(b, b) for b in AGE_BANDS],
                     v.get("victim_age_band", ""), required=True),
        text_input("children_in_household", "Children in the household",
                   v.get("children_in_household", "0"), max_length=2),
        *[choice_input(key, f"{label[0].upper()}{label[1:]} (optional)",
                       [(c, c) for c in choices], v.get(key, ""))
          for key, (label, choices) in EQUALITY.items()],
        text_input("perpetrator_first_name", "Perpetrator's first name",
                   v.get("perpetrator_first_name", ""), required=True, max_length=40),
        choice_input("referring_agency", "Referring agency", [(a, a) for a in agencies],
                     v.get("referring_agency", ""), required=True),
        text_input("referrer_name", "Referrer", v.get("referrer_name", ""), required=True),
        ac.InputDate(id="incident_date", label="Incident date", is_required=True,
                     value=v.get("incident_date"), max=today.isoformat()),
        ac.InputDate(id="received_on", label="Date received", is_required=True,
                     value=v.get("received_on", today.isoformat()), max=today.isoformat()),
        text_input("area", "Area", v.get("area", ""), required=True),
        choice_input("honour_based_violence", "Honour-based violence", YES_NO,
                     v.get("honour_based_violence", "false")),
        heading("The victim's voice (optional)"),
        *[_voice_input(f, v.get(f.key, "")) for f in VOICE],
        heading("DASH risk checklist"),
        paragraph(_count_line(yes_count)),
        *[choice_input(q.key, f"{q.number}. {q.text}", ANSWERS, v.get(q.key, ""),
                       required=True) for q in QUESTIONS],
        choice_input("escalation", "Is the abuse escalating?", YES_NO,
                     v.get("escalation", "false")),
        text_input("escalation_detail", "What has escalated", v.get("escalation_detail", ""),
                   multiline=True),
        choice_input("professional_judgement", "Referred on professional judgement?", YES_NO,
                     v.get("professional_judgement", "false")),
        text_input("rationale", "Rationale (needed for professional judgement)",
                   v.get("rationale", ""), multiline=True),
    ]
    marac = {} if marac_id is None else {"marac": marac_id}
    return build(items, [execute("Count yes answers", "referral.count", **marac),
                         execute("Submit referral", "referral.submit", **marac)])


def filled_referral_form(agencies: Sequence[str], today: date,
                         values: Mapping[str, object] | None = None,
                         yes_count: int | None = None, problem: str | None = None,
                         marac_id: int | None = None) -> dict[str, Any]:
    """referral_form_card's card as JSON, the same to the letter (tests/unit/test_cards.py),
    filled in on a drawing kept for its agencies, day and MARAC: Count redraws the form on
    every press, and drawing its sixty inputs was most of what that press cost."""
    if problem:  # a refused submission: rare enough to draw afresh
        return json.loads(referral_form_card(agencies, today, values, yes_count, problem,
                                             marac_id).to_json())
    card = json.loads(_blank_form(tuple(agencies), today, marac_id))
    body: list[dict[str, Any]] = card["body"]
    filled = {k: str(x) for k, x in (values or {}).items() if x is not None}
    for item in body:
        if item.get("id") in filled:
            _fill(item, filled[item["id"]])
        elif item.get("text") == _count_line(None):
            item["text"] = _count_line(yes_count)
    return card


def _fill(item: dict[str, Any], value: str) -> None:
    """As the inputs are drawn: a date keeps what it is given, another input only a value."""
    if value or item["type"] == "Input.Date":
        item["value"] = value
    else:
        item.pop("value", None)


@functools.lru_cache(maxsize=16)
def _blank_form(agencies: tuple[str, ...], today: date, marac_id: int | None) -> str:
    return referral_form_card(agencies, today, marac_id=marac_id).to_json()


def _voice_input(field: VoiceField, value: str) -> Any:
    if field.choices:
        return choice_input(field.key, field.label, [(c, c) for c in field.choices], value)
    return text_input(field.key, field.label, value, multiline=field.limit > 300,
                      max_length=field.limit)


def _count_line(yes_count: int | None) -> str:
    if yes_count is None:
        return "Answer all 24 questions; 14 or more yes answers is visible high risk."
    return f"**{yes_count} of 24** answered yes so far (14 or more is visible high risk)."


def referral_summary_card(referral: ReferralSummary) -> ac.AdaptiveCard:
    outcome = {
        "pending": "Received: it meets the criteria and waits for triage.",
        "possible_duplicate": "Received: it may repeat a referral already open for this "
                              "victim, so the coordinator will confirm or split it.",
        "declined": "Not listed for the MARAC: it is recorded as "
                    f"{referral.risk_level} risk.",
    }.get(referral.status, referral.status)
    return build([
        heading(f"Referral for {referral.victim_first_name}"),
        paragraph(outcome),
        paragraph(referral.decision_explanation),
        facts([
            ("Reference", referral.victim_reference),
            ("DASH", f"{referral.dash_yes_count} of 24 yes"),
            ("Referring agency", referral.agency),
            ("Received", referral.received_on.isoformat()),
            ("Closed panel", "yes (honour-based violence)" if referral.closed_panel else "no"),
        ]),
        *([heading("The victim's voice"), facts(list(referral.victim_voice))]
          if referral.victim_voice else []),
    ])
