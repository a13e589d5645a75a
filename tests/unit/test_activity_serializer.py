"""bot.teams.connector.ActivitySerializer: the same request bodies as msrest's own serializer,
with plain-JSON card content put in as it is."""

from __future__ import annotations

import enum
from datetime import date

from botbuilder.schema import Activity, Attachment, ChannelAccount, ConversationAccount
from botbuilder.schema.teams import FileInfoCard
from botframework.connector import models
from msrest import Serializer

from bot.teams.connector import ActivitySerializer
from bot.teams.messages import activity_of
from bot.turns.replies import card_reply, text_reply
from cards.help import help_card
from cards.welcome import welcome_card

CLASSES = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}


class Colour(enum.StrEnum):
    RED = "red"


def _activities() -> list[Activity]:
    card = activity_of(card_reply(welcome_card("Riverside MARAC"), "Welcome"))
    card.conversation = ConversationAccount(id="19:abc", tenant_id="t")
    card.recipient, card.from_property = ChannelAccount(id="u"), ChannelAccount(id="b")
    card.channel_data = {"notification": {"alert": True}}
    two = activity_of(card_reply(help_card([("help", "List the commands.")], ["Chair"],
                                           "channel"), "Help"))
    two.attachments.append(Attachment(content_type="application/vnd.microsoft.teams.card.file.info",
                                      content=FileInfoCard(unique_id="x", file_type="xlsx"),
                                      name="plan.xlsx"))
    odd = Activity(type="message", attachments=[
        Attachment(content_type="x", content={"when": date(2026, 1, 2), "colour": Colour.RED}),
        Attachment(content_type="y", content={"n": [1, 2.5, True, None, "s"]})])
    return [card, two, odd, activity_of(text_reply("plain words"))]


def test_bodies_are_msrest_own():
    stock, fast = Serializer(CLASSES), ActivitySerializer(CLASSES)
    for activity in _activities():
        before = [a.content for a in activity.attachments or []]
        assert fast.body(activity, "Activity") == stock.body(activity, "Activity")
        assert [a.content for a in activity.attachments or []] == before  # left as it was


def test_plain_card_content_is_passed_as_it_is():
    activity = _activities()[0]
    body = ActivitySerializer(CLASSES).body(activity, "Activity")
    assert body["attachments"][0]["content"] is activity.attachments[0].content
