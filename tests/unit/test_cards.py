"""Every card the code can produce is valid for Teams (schema and size)."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from adaptive_cards.card import AdaptiveCard
from hypothesis import given, settings
from hypothesis import strategies as st

import cards.meeting as meeting_cards
from cards.agenda import agenda_card
from cards.base import as_json
from cards.help import help_card
from cards.import_report import import_report_card
from cards.meeting import Present, attendance_card, case_card, case_details_card, summary_card
from cards.referral import filled_referral_form, referral_form_card, referral_summary_card
from cards.triage import triage_card
from cards.welcome import welcome_card
from dialogs.agenda import Agenda, AgendaLine, PlannedLine
from dialogs.case_work import ActionLine, CaseView, InformationLine, SharedCase
from dialogs.earlier_plan import EarlierAction
from dialogs.meeting import Slot
from dialogs.meeting_record import Summary
from dialogs.police_feed import ImportReport
from dialogs.referrals import summary_of
from storage.models import Case, CaseStatus, Referral, ReferralStatus
from tests.cards_check import assert_valid_for_teams, teams_findings

START = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
FULL_AGENDA = Agenda("Riverside MARAC", START, tuple(
    AgendaLine(slot, START + timedelta(minutes=20 * (slot - 1)), f"RIV-2026-{slot:03d}", name)
    for slot, name in enumerate(["Amy", "Bethan", "Chloe"] * 10, start=1)
))

DETAILED = Agenda("Riverside MARAC", START, tuple(
    AgendaLine(slot, START + timedelta(minutes=20 * (slot - 1)), f"RIV-2026-{slot:03d}", "Amy",
               reasons=("visible_high_risk", "repeat"), repeat=True, closed_panel=slot > 10,
               breaches_target=slot == 3,
               actions=tuple(PlannedLine("IDVA Service", "victim", "Contact the victim. " * 5,
                                         n == 3) for n in range(4)))
    for slot in range(1, 13)
))
REFERRAL = Referral(
    id=7, victim_first_name="Amy", victim_reference="VR-1", dash_yes_count=15,
    qualifying_reasons=["visible_high_risk"], received_on=date(2026, 11, 20),
    honour_based_violence=True, status=ReferralStatus.PENDING, risk_level="high",
    decision_explanation="Heard: 15 of 24 answers were yes (14 needed).", triage_note="",
    duplicate_of_id=None,
)
AGENCIES = ["Police", "IDVA Service", "Children's Social Care", "Health", "Housing", "Probation"]
FEED = ImportReport(
    listed=[(2, REFERRAL)], linked=[(n, REFERRAL) for n in range(3, 30)],
    refused=[(n, "The incident date must be a date like 2026-11-24, not 'yesterday'.")
             for n in range(30, 60)],
)

OPEN_CASE = Case(number="RIV-2026-001", victim_first_name="Amy", status=CaseStatus.OPEN,
                 declaration_pending=True, exceptional="", victim_contact="Imogen",
                 exceptional_note="")
CASE_VIEW = CaseView(
    OPEN_CASE, REFERRAL, ("Is the victim very frightened?",) * 14,
    tuple(InformationLine(a, "Two call-outs this year. " * 10) for a in AGENCIES),
    tuple(ActionLine("Police", "Priya", "Flag the address. " * 5, "victim", "repeat call-outs",
                     date(2026, 12, 9), n == 0) for n in range(12)),
)
REPEAT_VIEW = replace(CASE_VIEW, earlier=tuple(
    EarlierAction("RIV-2026-001", "Police", "Flag the address. " * 5, outcome,
                  "Moved out of the area. " * 20 if outcome != "not done" else "")
    for outcome in ("done", "could not be done", "not done") * 4))
SUMMARY = Summary(("RIV-2026-001",), ("RIV-2026-002",), ("RIV-2026-003",), (), 3600, 3725,
                  (("Police", 3), ("IDVA Service", 2)))

EVERY_CARD = {
    "welcome in a MARAC": welcome_card("Riverside MARAC"),
    "welcome elsewhere": welcome_card(None),
    "help with roles": help_card([("help", "List."), ("agenda", "Show.")], ["chair"], "channel"),
    "help without roles": help_card([("help", "List.")], [], "personal chat"),
    "agenda with 30 cases": agenda_card(FULL_AGENDA),
    "agenda without cases": agenda_card(Agenda("Riverside MARAC", START, ())),
    "agenda without a meeting": agenda_card(Agenda("Riverside MARAC", None, ())),
    "agenda in personal chat, 12 cases": agenda_card(DETAILED, detailed=True),
    "agenda in a channel, 12 cases": agenda_card(DETAILED),
    "referral form": referral_form_card(AGENCIES, date(2026, 11, 24)),
    "referral form with a problem": referral_form_card(
        AGENCIES, date(2026, 11, 24), {"victim_first_name": "Amy"}, 12, "Please give x."),
    "referral summary": referral_summary_card(summary_of(REFERRAL, "Police")),
    "triage, empty": triage_card([]),
    "triage, ten waiting": triage_card([summary_of(REFERRAL, "Police", "VR-0")] * 10, "Done."),
    "police feed report": import_report_card("feed.csv", FEED),
    "attendance, nobody yet": attendance_card("Riverside MARAC", [], ["Police"], AGENCIES,
                                              ["RIV-2026-001"]),
    "attendance, twelve present": attendance_card(
        "Riverside MARAC", [Present(f"P{n}", AGENCIES[n % 6], "agency_representative")
                            for n in range(12)], [], AGENCIES,
        [f"RIV-2026-{n:03d}" for n in range(1, 13)]),
    "case card, open": case_card(SharedCase.of(OPEN_CASE), Slot(1200, 700), (2, 3), AGENCIES),
    "case card, overrun": case_card(SharedCase.of(OPEN_CASE), Slot(1200, -125), (2, 3), AGENCIES),
    "case details": case_details_card(CASE_VIEW, Slot(1200, 700)),
    "case details at a repeat hearing": case_details_card(REPEAT_VIEW, Slot(1200, 700)),
    "meeting summary": summary_card("Riverside MARAC", SUMMARY),
}


@pytest.mark.parametrize("name", EVERY_CARD)
def test_card_is_valid_for_teams(name: str):
    assert_valid_for_teams(EVERY_CARD[name])
    assert EVERY_CARD[name].to_dict()["version"] == "1.5"


@pytest.mark.parametrize("name", EVERY_CARD)
def test_a_card_as_json_is_the_card_adaptive_cards_py_writes(name: str):
    """cards.base.as_json, which replies and press answers use, builds the dict directly;
    it is to the letter what adaptive-cards-py's to_json writes."""
    card = EVERY_CARD[name]
    assert json.dumps(as_json(card)) == json.dumps(json.loads(card.to_json()))


def test_the_validator_does_refuse_a_card_teams_would_not_take():
    oversized = welcome_card("x" * 40_000)
    assert teams_findings(oversized)
    assert teams_findings(AdaptiveCard.model_validate({"type": "AdaptiveCard", "version": "1.5"}))


def test_the_shared_case_card_shows_no_case_papers():
    shared = str(case_card(SharedCase.of(OPEN_CASE), Slot(1200, -125), (2, 3), AGENCIES).to_dict())
    assert "RIV-2026-001 · Amy" in shared and "Overrun: 2 min 5 s" in shared
    assert "declaration" in shared and "frightened" not in shared and "Imogen" not in shared
    details = str(case_details_card(CASE_VIEW, Slot(1200, 700)).to_dict())
    assert "frightened" in details and "Updates the victim: Imogen" in details


def test_agenda_in_a_channel_hides_reasons_and_plans_that_personal_chat_shows():
    channel, personal = str(agenda_card(DETAILED).to_dict()), str(
        agenda_card(DETAILED, detailed=True).to_dict())
    assert "visible high risk" not in channel and "Contact the victim" not in channel
    assert "visible high risk" in personal and "Contact the victim" in personal
    assert "Closed panel" in channel


def test_agenda_in_a_channel_shows_case_numbers_and_first_names_only():
    text = str(agenda_card(FULL_AGENDA).to_dict())
    assert "RIV-2026-001 · Amy" in text
    assert "09:30" in text and "09:50" in text  # 20-minute slots, London time


def test_a_shared_agenda_card_shows_one_word_of_a_name_kept_before_the_rule():
    """Issue 13, finding 4: a two-word name stored earlier never reaches the shared channel."""
    from datetime import UTC, datetime

    from cards.agenda import agenda_card
    from dialogs.agenda import Agenda, AgendaLine

    when = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    card = agenda_card(Agenda("Riverside MARAC", when, (
        AgendaLine(1, when, "RIV-2026-006", "Amy Smith"),)))
    assert "RIV-2026-006 · Amy" in card.to_json() and "Smith" not in card.to_json()


FORM_KEYS = sorted({item["id"] for item in referral_form_card(AGENCIES, START.date()).to_dict()
                    ["body"] if "id" in item} | {"not_on_the_form"})


@settings(max_examples=150, deadline=None)
@given(values=st.dictionaries(st.sampled_from(FORM_KEYS), st.one_of(
           st.none(), st.sampled_from(["", "yes", "no", "false", "true", "2026-11-20", "0"]),
           st.text(max_size=12), st.integers(0, 30))),
       yes_count=st.one_of(st.none(), st.integers(0, 24)),
       problem=st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=30)),
       marac_id=st.one_of(st.none(), st.integers(1, 3)))
def test_the_referral_form_filled_in_on_a_kept_drawing_is_the_form_drawn_afresh(
        values, yes_count, problem, marac_id):
    drawn = referral_form_card(AGENCIES, START.date(), values, yes_count, problem, marac_id)
    filled = filled_referral_form(AGENCIES, START.date(), values, yes_count, problem, marac_id)
    assert filled == json.loads(drawn.to_json())


@settings(max_examples=60, deadline=None)
@given(agencies=st.lists(st.sampled_from(AGENCIES), min_size=1, max_size=6, unique=True),
       numbers=st.lists(st.sampled_from([f"RIV-2026-{n:03d}" for n in range(1, 13)]),
                        max_size=12, unique=True),
       status=st.sampled_from([CaseStatus.OPEN, CaseStatus.LISTED, CaseStatus.CLOSED]),
       number=st.sampled_from(["RIV-2026-001", "RIV-2026-012", 'ODD-"2026"-1']))
def test_cards_drawn_on_kept_inputs_and_buttons_are_the_cards_drawn_afresh(
        agencies, numbers, status, number):
    """The attendance and case cards keep their inputs and buttons for the same agencies
    and agenda: a card drawn on kept ones is, to the letter, the card drawn afresh, and a
    card drawn for other agencies, another agenda and another case in between changes
    neither. Every button of a case card names its own case."""
    def case_numbered(number: str) -> SharedCase:
        return SharedCase.of(Case(number=number, victim_first_name="Amy", status=status,
                                  declaration_pending=False, exceptional="", victim_contact=""))

    def drawn(agencies: list[str], numbers: list[str], number: str) -> list[dict[str, object]]:
        return [json.loads(attendance_card("Riverside MARAC", [], ["Police"], agencies,
                                           numbers).to_json()),
                json.loads(case_card(case_numbered(number), Slot(1200, 700), (2, 3),
                                     agencies).to_json())]

    meeting_cards._attendance_inputs.cache_clear()
    meeting_cards._case_button_forms.cache_clear()
    afresh = drawn(agencies, numbers, number)
    others = drawn(["Other agency"], ["OTH-2026-001"], "OTH-2026-001")
    assert drawn(agencies, numbers, number) == afresh
    assert "Other agency" not in json.dumps(afresh) and "Other agency" in json.dumps(others)
    assert set(_cases_named(afresh[1])) == {number}
    assert set(_cases_named(others[1])) == {"OTH-2026-001"}


def _cases_named(element: object) -> list[object]:
    """The case each Action.Execute in a card's JSON names."""
    if isinstance(element, list):
        return [case for item in element for case in _cases_named(item)]
    if not isinstance(element, dict):
        return []
    named = [element["data"]["case"]] if element.get("type") == "Action.Execute" else []
    return named + [case for value in element.values() for case in _cases_named(value)]
