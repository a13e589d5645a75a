"""What every MARAC card shares: the version Teams renders, a heading, and the dict form
botbuilder sends as an attachment."""

from __future__ import annotations

from typing import Any, Final

from adaptive_cards import card as ac
from adaptive_cards import types as act

CARD_VERSION: Final = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def heading(text: str) -> ac.TextBlock:
    return ac.TextBlock(text=text, size=act.FontSize.LARGE, weight=act.FontWeight.BOLDER,
                        wrap=True, style=act.TextBlockStyle.HEADING)


def paragraph(text: str, *, subtle: bool = False) -> ac.TextBlock:
    return ac.TextBlock(text=text, wrap=True, is_subtle=subtle or None)


def facts(pairs: list[tuple[str, str]]) -> ac.FactSet:
    return ac.FactSet(facts=[ac.Fact(title=title, value=value) for title, value in pairs])


def build(items: list[Any], actions: list[Any] | None = None) -> ac.AdaptiveCard:
    builder = ac.AdaptiveCard.new().version(CARD_VERSION).add_items(items)
    if actions:
        builder = builder.add_actions(actions)
    return builder.create()
