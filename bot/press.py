"""A card button pressed: who pressed it where, with what inputs, and how to answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from adaptive_cards.card import AdaptiveCard
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Context
from cards.base import CARD_CONTENT_TYPE
from dialogs.clock import Clock

MESSAGE_TYPE = "application/vnd.microsoft.activity.message"


@dataclass(frozen=True)
class Press:
    session: AsyncSession
    context: Context
    data: dict[str, Any]
    message_id: str
    clock: Clock
    activity: Activity
    # Shared cards to replace for everyone once the change is committed: (message id, card).
    updates: list[tuple[str, Activity]] = field(default_factory=list)
    # New messages for the presser's conversation, sent once the change is committed.
    posts: list[Activity] = field(default_factory=list)

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


def card_answer(card: AdaptiveCard) -> InvokeAnswer:
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": json.loads(card.to_json())}


def message_answer(text: str) -> InvokeAnswer:
    return {"statusCode": 200, "type": MESSAGE_TYPE, "value": text}


