"""Checks every card against what Teams accepts: adaptive-cards-py's Teams target validates
the card's schema (version 1.5) and its size (28 KB).

Teams' chart elements (Chart.VerticalBar, Chart.Pie, ...) are not in adaptive-cards-py; each is
validated against Microsoft's own models of the Adaptive Cards hub schema (the
microsoft-teams-cards package of the Teams SDK), must name no property that schema does not
have, and must carry a fallback, which stands in for it in adaptive-cards-py's check."""

from __future__ import annotations

import json
from typing import Any

import microsoft_teams.cards as teams
from adaptive_cards.card import AdaptiveCard
from adaptive_cards.validation import CardValidatorFactory
from pydantic import BaseModel, ValidationError

TEAMS_LIMIT = 28 * 1024
CHARTS: dict[str, type[BaseModel]] = {
    "Chart.VerticalBar": teams.VerticalBarChart,
    "Chart.VerticalBar.Grouped": teams.GroupedVerticalBarChart,
    "Chart.HorizontalBar": teams.HorizontalBarChart,
    "Chart.HorizontalBar.Stacked": teams.StackedHorizontalBarChart,
    "Chart.Line": teams.LineChart,
    "Chart.Pie": teams.PieChart,
    "Chart.Donut": teams.DonutChart,
    "Chart.Gauge": teams.GaugeChart,
}
CONTAINERS = ("body", "items", "columns")


def teams_findings(card: AdaptiveCard | dict[str, Any]) -> list[str]:
    findings: list[str] = []
    if isinstance(card, dict):
        if len(json.dumps(card).encode()) > TEAMS_LIMIT:
            findings.append(f"size: the card is over Teams' {TEAMS_LIMIT} bytes")
        card = _charts_checked(card, findings)
    model = card if isinstance(card, AdaptiveCard) else AdaptiveCard.model_validate(card)
    validator = CardValidatorFactory.create_validator_microsoft_teams()
    if not validator.validate(model, debug=False).is_ok():
        findings += [f"{f.failure.value}: {f.message} {f.message_additional}"
                     for f in validator.details()]
    return findings


def assert_valid_for_teams(card: AdaptiveCard | dict[str, Any]) -> None:
    findings = teams_findings(card)
    assert not findings, f"card not valid for Teams: {findings}"


def charts_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart elements of a card, at any depth."""
    found = []
    for element in _elements(card):
        if element.get("type") in CHARTS:
            found.append(element)
    return found


def _elements(node: dict[str, Any]) -> list[dict[str, Any]]:
    elements = []
    for key in CONTAINERS:
        for child in node.get(key) or []:
            elements += [child, *_elements(child)]
    return elements


def _charts_checked(node: dict[str, Any], findings: list[str]) -> dict[str, Any]:
    """A copy of the card with each chart checked and replaced by its fallback."""
    node = dict(node)
    for key in CONTAINERS:
        if key in node:
            node[key] = [_chart_checked(child, findings) for child in node[key]]
    return node


def _chart_checked(element: dict[str, Any], findings: list[str]) -> dict[str, Any]:
    kind = element.get("type")
    if kind not in CHARTS:
        return _charts_checked(element, findings)
    try:
        chart = CHARTS[kind].model_validate(element)
    except ValidationError as error:
        findings.append(f"{kind}: {error}")
        return {"type": "TextBlock", "text": "invalid chart"}
    findings += [f"{kind}: unknown property {name!r}" for name in _unknown(chart)]
    fallback = element.get("fallback")
    if not isinstance(fallback, dict):
        findings.append(f"{kind}: no fallback element for clients that cannot draw it")
        return {"type": "TextBlock", "text": "no fallback"}
    return _chart_checked(fallback, findings)


def _unknown(model: BaseModel) -> list[str]:
    """Properties the schema does not have, at any depth (the models allow extras)."""
    names = list((model.model_extra or {}).keys())
    for key, value in model.__dict__.items():
        if key == "fallback":  # checked by adaptive-cards-py, in the chart's place
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                names += _unknown(item)
    return names
