"""Turning cards and sentences into the activities botbuilder sends."""

from __future__ import annotations

import json

from adaptive_cards.card import AdaptiveCard
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity


def card_reply(card: AdaptiveCard, summary: str) -> Activity:
    """A card, with the line Teams shows for it in notifications and the chat list: what it
    is about (a case number, a meeting), never a person's details."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(json.loads(card.to_json())))
    activity.summary = summary
    return activity


def text_reply(text: str, summary: str | None = None) -> Activity:
    """A sentence; one the bot sends unasked (through the outbox) needs its `summary`."""
    activity = MessageFactory.text(text)
    activity.summary = summary
    return activity
