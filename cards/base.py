"""What every MARAC card shares: the version Teams renders, a heading, and the dict form
botbuilder sends as an attachment."""

from __future__ import annotations

from typing import Any, Final

from adaptive_cards import card as ac
from adaptive_cards import types as act

CARD_VERSION: Final = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def as_json(card: ac.AdaptiveCard) -> dict[str, Any]:
    """The card's JSON as adaptive-cards-py writes it (`to_json`), built as a dict directly
    rather than written out and read back."""
    return card.model_dump(mode="json", exclude_none=True, by_alias=True, warnings=False)


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


def execute(title: str, verb: str, **data: Any) -> ac.ActionExecute:
    """A Universal Action: Teams sends it to the bot as an adaptiveCard/action invoke."""
    return ac.ActionExecute(title=title, verb=verb, data={"verb": verb, **data})


def text_input(id_: str, label: str, value: str = "", *, required: bool = False,
               multiline: bool = False, max_length: int | None = None) -> ac.InputText:
    return ac.InputText(id=id_, label=label, value=value or None, is_required=required or None,
                        is_multiline=multiline or None, max_length=max_length)


def choice_input(id_: str, label: str, choices: list[tuple[str, str]], value: str = "",
                 *, required: bool = False) -> ac.InputChoiceSet:
    return ac.InputChoiceSet(id=id_, label=label, value=value or None,
                             is_required=required or None,
                             choices=[ac.InputChoice(title=t, value=v) for t, v in choices])
