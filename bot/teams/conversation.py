"""Reading Teams' description of where an activity came from."""

from __future__ import annotations

import json
import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount

from bot.turns.arrival import Arrival
from dialogs.installation import ConversationSeen, without_names
from storage.models import ConversationKind

_LEADING_MENTION = re.compile(r"^\s*<at[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)


def arrival_of(activity: Activity) -> Arrival:
    sender = activity.from_property or ChannelAccount()
    return Arrival(
        activity_id=activity.id, conversation_id=activity.conversation.id,
        kind=kind_of(activity), tenant_id=tenant_of(activity), team_id=team_of(activity),
        place=meeting_place(activity), sender_id=sender.id,
        sender_aad_object_id=sender.aad_object_id or "", sender_name=sender.name or "",
        reply_to_id=activity.reply_to_id or "",
        text=command_text(activity) if activity.type == "message" else "",
        seen=lambda: seen(activity))


def seen(activity: Activity) -> ConversationSeen:
    channel_data: dict[str, Any] = activity.channel_data or {}
    reference = TurnContext.get_conversation_reference(activity)
    return ConversationSeen(
        conversation_id=activity.conversation.id,
        kind=kind_of(activity),
        tenant_id=tenant_of(activity),
        team_id=team_of(activity),
        channel_id=(channel_data.get("channel") or {}).get("id"),
        service_url=activity.service_url or "",
        reference_json=json.dumps(without_names(reference.serialize())),
    )


def team_of(activity: Activity) -> str | None:
    """The team of a channel conversation (a team's MARAC is found by it), else None."""
    channel_data: dict[str, Any] = activity.channel_data or {}
    team_id: str | None = (channel_data.get("team") or {}).get("id")
    return team_id


def kind_of(activity: Activity) -> ConversationKind:
    channel_data: dict[str, Any] = activity.channel_data or {}
    if channel_data.get("meeting"):
        return ConversationKind.MEETING
    conversation_type = activity.conversation.conversation_type or "personal"
    try:
        return ConversationKind(conversation_type)
    except ValueError:
        return ConversationKind.PERSONAL


def tenant_of(activity: Activity) -> str | None:
    channel_data: dict[str, Any] = activity.channel_data or {}
    # botbuilder 4.17 maps the conversation's "tenantID", so Teams' "tenantId" lands in its
    # additional properties; channelData.tenant.id is what Teams always sends.
    extra = getattr(activity.conversation, "additional_properties", None) or {}
    tenant = (activity.conversation.tenant_id or extra.get("tenantId")
              or (channel_data.get("tenant") or {}).get("id"))
    return str(tenant) if tenant else None


def command_text(activity: Activity) -> str:
    """What was typed, without the @mention of the bot and without Teams' HTML spacing."""
    text = activity.text or ""
    for entity in activity.entities or []:
        properties = entity.additional_properties or {}
        mentioned = properties.get("mentioned")
        said = properties.get("text")
        if (str(entity.type or "").lower() == "mention" and isinstance(mentioned, dict)
                and mentioned.get("id") == activity.recipient.id and isinstance(said, str)):
            text = text.replace(said, " ")
    text = _LEADING_MENTION.sub(" ", text)
    return text.replace("&nbsp;", " ").strip()


def meeting_place(activity: Activity) -> str:
    """Where a meeting runs: the conversation, or for a channel the channel itself, whatever
    thread a message or card press comes from ("19:...;messageid=...")."""
    return activity.conversation.id.split(";")[0]
