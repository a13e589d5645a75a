"""bot.turns.replies.Message as the activity botbuilder sends."""

from __future__ import annotations

from botbuilder.schema import Activity, ActivityTypes, Attachment, InputHints

from bot.turns.replies import Message


def activity_of(message: Message, message_id: str | None = None) -> Activity:
    """Built field by field (no msrest deserialization), as MessageFactory builds its own."""
    if not message.attachments:
        return Activity(type=ActivityTypes.message, id=message_id, text=message.text or "",
                        input_hint=InputHints.accepting_input,
                        channel_data=message.channel_data, summary=message.summary)
    return Activity(type=ActivityTypes.message, id=message_id, text=message.text,
                    channel_data=message.channel_data, summary=message.summary,
                    attachment_layout="list", attachments=[
                        Attachment(content_type=a.get("contentType"), content=a.get("content"),
                                   name=a.get("name"), content_url=a.get("contentUrl"))
                        for a in message.attachments])
