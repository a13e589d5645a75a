"""Turning cards and sentences into the activities botbuilder sends."""

from __future__ import annotations

import json

from adaptive_cards.card import AdaptiveCard
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity


def card_reply(card: AdaptiveCard) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(json.loads(card.to_json())))


def text_reply(text: str) -> Activity:
    return MessageFactory.text(text)
