"""A card button pressed: who pressed it where, with what inputs, and how to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adaptive_cards.card import AdaptiveCard
from sqlalchemy.ext.asyncio import AsyncSession

from bot.turns.access import Context
from bot.turns.arrival import Arrival
from bot.turns.registry import Command, find_button
from bot.turns.replies import Message
from cards.base import CARD_CONTENT_TYPE, as_json
from dialogs.clock import Clock

MESSAGE_TYPE = "application/vnd.microsoft.activity.message"


@dataclass(frozen=True)
class Invoke:
    """An Action.Execute press as Teams sent it, read once: its verb, its data, and the
    button of the table the verb names (None when the verb or the data make no sense)."""

    verb: str
    data: dict[str, Any]
    button: Command | None


def read_invoke(name: str | None, value: Any) -> Invoke | None:
    """The press an adaptiveCard/action invoke carries; None for anything else (another
    invoke, or a card action that is not an Action.Execute)."""
    action = value.get("action") if isinstance(value, dict) else None
    if name != "adaptiveCard/action" or not isinstance(action, dict) or (
            action.get("type") != "Action.Execute"):
        return None
    verb, data = action.get("verb"), action.get("data")
    if not isinstance(verb, str) or not isinstance(data, dict):
        return Invoke(str(verb or ""), {}, None)
    return Invoke(verb, data, find_button(verb))


@dataclass(frozen=True)
class Press:
    session: AsyncSession
    context: Context
    data: dict[str, Any]
    message_id: str
    clock: Clock
    arrival: Arrival
    # Shared cards to replace for everyone once the change is committed: (message id, card).
    updates: list[tuple[str, Message]] = field(default_factory=list)
    # New messages for the presser's conversation, sent once the change is committed.
    posts: list[Message] = field(default_factory=list)

    @property
    def marac_id(self) -> int:
        assert self.context.marac_id is not None
        return self.context.marac_id

    @property
    def person_id(self) -> int | None:
        return self.context.actor.person_id


# The body of an adaptiveCard/action invoke response, as Teams reads it. Built as a plain
# dict: botbuilder's msrest model cannot serialize the message form, whose value is a string.
InvokeAnswer = dict[str, Any]


def card_answer(card: AdaptiveCard | dict[str, Any]) -> InvokeAnswer:
    """A card built with adaptive-cards-py, or already its JSON."""
    value = card if isinstance(card, dict) else as_json(card)
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": value}


def message_answer(text: str) -> InvokeAnswer:
    return {"statusCode": 200, "type": MESSAGE_TYPE, "value": text}


