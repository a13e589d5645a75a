"""Typed commands and card presses, served from the activity's JSON.

They are nearly every activity a meeting sends. botbuilder's adapter would read each into
msrest's models (its deserializer walks every field against the schema), open a turn context,
and send each reply and card update back through msrest's serializer. Here the few fields the
bot reads become an Activity field by field, the turn is served by the same MaracBot methods,
and replies and card updates go to the Bot Connector as the JSON they already are, with the
connector client's pacing, token and session but not msrest (bot.teams.connector.send_json).
botbuilder still checks the token, and serves every other activity."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    DeliveryModes,
    Entity,
)
from botframework.connector.aio import ConnectorClient

from bot.features.police_feed import FILE_DOWNLOAD_INFO
from bot.teams.connector import send_json
from bot.turns.replies import Message

PLAIN_TYPES = frozenset({ActivityTypes.message, ActivityTypes.invoke})
_TEXT_FIELDS = ("id", "text", "name", "channelId", "serviceUrl", "replyToId", "locale")


def activity_of_json(body: dict[str, Any]) -> Activity | None:
    """The fields of a message or an invoke the bot reads, as botbuilder's Activity; None
    for any other activity, or one whose fields are not the shapes Teams sends (botbuilder's
    deserializer then reads it, or refuses it)."""
    if body.get("type") not in PLAIN_TYPES or body.get("deliveryMode") not in (
            None, DeliveryModes.normal):
        return None
    sender, recipient, conversation = (body.get(k) for k in ("from", "recipient",
                                                              "conversation"))
    if not (isinstance(sender, dict) and isinstance(recipient, dict)
            and isinstance(conversation, dict)):
        return None
    if any(not isinstance(body.get(k), str | None) for k in _TEXT_FIELDS):
        return None
    attachments = body.get("attachments") or []
    if not _objects(attachments) or any(a.get("contentType") == FILE_DOWNLOAD_INFO
                                        for a in attachments):
        return None  # a file sent to the bot is botbuilder's to read
    return Activity(
        type=body["type"], id=body.get("id"), text=body.get("text"), name=body.get("name"),
        value=body.get("value"), channel_id=body.get("channelId"),
        service_url=body.get("serviceUrl"), reply_to_id=body.get("replyToId"),
        locale=body.get("locale"), channel_data=body.get("channelData"),
        from_property=_account(sender), recipient=_account(recipient),
        conversation=ConversationAccount(
            id=conversation.get("id"), conversation_type=conversation.get("conversationType"),
            tenant_id=conversation.get("tenantId"), is_group=conversation.get("isGroup")),
        entities=[_entity(e) for e in body.get("entities") or []],
        attachments=[Attachment(content_type=a.get("contentType"), content=a.get("content"))
                     for a in attachments])


def _account(account: dict[str, Any]) -> ChannelAccount:
    return ChannelAccount(id=account.get("id"), name=account.get("name"),
                          aad_object_id=account.get("aadObjectId"), role=account.get("role"))


def _entity(entity: dict[str, Any]) -> Entity:
    """As msrest reads one: its type, and the rest (a mention's text) kept beside it."""
    read = Entity(type=entity.get("type"))
    read.additional_properties = {k: v for k, v in entity.items() if k != "type"}
    return read


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


class PlainReplies:
    """Replies and card updates in the conversation an activity came from, as botbuilder
    addresses them (TurnContext.apply_conversation_reference), sent as plain JSON."""

    def __init__(self, client: ConnectorClient, body: dict[str, Any]) -> None:
        self._client = client
        self._address = {key: value for key, value in (
            ("from", body["recipient"]), ("recipient", body["from"]),
            ("conversation", body["conversation"]), ("channelId", body.get("channelId")),
            ("serviceUrl", body.get("serviceUrl")), ("locale", body.get("locale")),
            ("replyToId", body.get("id"))) if value is not None}
        self._conversation = quote(str(body["conversation"].get("id")), safe="")
        self._replied_to = body.get("id")

    async def send(self, message: Message) -> str | None:
        path = f"/v3/conversations/{self._conversation}/activities"
        if self._replied_to:
            path += "/" + quote(self._replied_to, safe="")
        sent = await send_json(self._client, "POST", path, self._addressed(message))
        answer_id = sent.get("id")
        return answer_id if isinstance(answer_id, str) else None

    async def update(self, message_id: str, message: Message) -> None:
        path = f"/v3/conversations/{self._conversation}/activities/{quote(message_id, safe='')}"
        await send_json(self._client, "PUT", path, {**self._addressed(message), "id": message_id})

    def _addressed(self, message: Message) -> dict[str, Any]:
        body = message.serialize()
        body.setdefault("inputHint", "acceptingInput")
        return {**body, **self._address}
