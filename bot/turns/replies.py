"""What the bot answers or sends: a sentence, a card, or a file card, as a plain value in the
Bot Framework's JSON shape. bot.teams turns it into an activity; the outbox stores it as is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adaptive_cards.card import AdaptiveCard

from cards.base import CARD_CONTENT_TYPE, as_json


@dataclass(frozen=True)
class Message:
    text: str | None = None
    attachments: tuple[dict[str, Any], ...] = ()
    channel_data: dict[str, Any] | None = None  # e.g. a notification over a Teams meeting
    summary: str | None = None  # what the message is about, for Teams' notification

    def serialize(self) -> dict[str, Any]:
        """As botbuilder's MessageFactory.text and .attachment serialize theirs."""
        body: dict[str, Any]
        if not self.attachments:
            body = {"type": "message", "text": self.text or "", "inputHint": "acceptingInput"}
        else:
            body = {"type": "message", "attachmentLayout": "list",
                    "attachments": list(self.attachments)}
            if self.text:
                body["text"] = self.text
        if self.channel_data is not None:
            body["channelData"] = self.channel_data
        if self.summary:
            body["summary"] = self.summary
        return body


def card_reply(card: AdaptiveCard | dict[str, Any], summary: str | None = None) -> Message:
    """A card built with adaptive-cards-py, or as JSON where it has no model of an element
    (Teams' charts, cards.report). `summary` is the line Teams shows for it in notifications
    and the chat list: what it is about (a case number, a meeting), never a person's details."""
    content = card if isinstance(card, dict) else as_json(card)
    return Message(attachments=({"contentType": CARD_CONTENT_TYPE, "content": content},),
                   summary=summary)


def attachment_reply(attachment: dict[str, Any]) -> Message:
    return Message(attachments=(attachment,))


def text_reply(text: str, summary: str | None = None) -> Message:
    """A sentence; one the bot sends unasked (through the outbox) needs its `summary`."""
    return Message(text=text, summary=summary)
