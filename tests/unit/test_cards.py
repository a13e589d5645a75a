"""Every card the code can produce is valid for Teams (schema and size)."""

from datetime import UTC, datetime, timedelta

import pytest
from adaptive_cards.card import AdaptiveCard

from cards.agenda import agenda_card
from cards.help import help_card
from cards.welcome import welcome_card
from dialogs.agenda import Agenda, AgendaLine
from tests.cards_check import assert_valid_for_teams, teams_findings

START = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
FULL_AGENDA = Agenda("Riverside MARAC", START, tuple(
    AgendaLine(slot, START + timedelta(minutes=20 * (slot - 1)), f"RIV-2026-{slot:03d}", name)
    for slot, name in enumerate(["Amy", "Bethan", "Chloe"] * 10, start=1)
))

EVERY_CARD = {
    "welcome in a MARAC": welcome_card("Riverside MARAC"),
    "welcome elsewhere": welcome_card(None),
    "help with roles": help_card([("help", "List."), ("agenda", "Show.")], ["chair"], "channel"),
    "help without roles": help_card([("help", "List.")], [], "personal chat"),
    "agenda with 30 cases": agenda_card(FULL_AGENDA),
    "agenda without cases": agenda_card(Agenda("Riverside MARAC", START, ())),
    "agenda without a meeting": agenda_card(Agenda("Riverside MARAC", None, ())),
}


@pytest.mark.parametrize("name", EVERY_CARD)
def test_card_is_valid_for_teams(name: str):
    assert_valid_for_teams(EVERY_CARD[name])
    assert EVERY_CARD[name].to_dict()["version"] == "1.5"


def test_the_validator_does_refuse_a_card_teams_would_not_take():
    oversized = welcome_card("x" * 40_000)
    assert teams_findings(oversized)
    assert teams_findings(AdaptiveCard.model_validate({"type": "AdaptiveCard", "version": "1.5"}))


def test_agenda_in_a_channel_shows_case_numbers_and_first_names_only():
    text = str(agenda_card(FULL_AGENDA).to_dict())
    assert "RIV-2026-001 · Amy" in text
    assert "09:30" in text and "09:50" in text  # 20-minute slots, London time
