"""Checks every card against what Teams accepts: adaptive-cards-py's Teams target validates
the card's schema (version 1.5) and its size (28 KB)."""

from __future__ import annotations

from typing import Any

from adaptive_cards.card import AdaptiveCard
from adaptive_cards.validation import CardValidatorFactory


def teams_findings(card: AdaptiveCard | dict[str, Any]) -> list[str]:
    model = card if isinstance(card, AdaptiveCard) else AdaptiveCard.model_validate(card)
    validator = CardValidatorFactory.create_validator_microsoft_teams()
    if validator.validate(model, debug=False).is_ok():
        return []
    return [f"{f.failure.value}: {f.message} {f.message_additional}" for f in validator.details()]


def assert_valid_for_teams(card: AdaptiveCard | dict[str, Any]) -> None:
    findings = teams_findings(card)
    assert not findings, f"card not valid for Teams: {findings}"
