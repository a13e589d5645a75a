"""Who sent a turn and from where: what the rest of the bot needs of Teams' activity, read
once by bot.teams.conversation.arrival_of."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dialogs.installation import ConversationSeen
from storage.models import ConversationKind


@dataclass(frozen=True)
class Arrival:
    activity_id: str | None  # for the replay check: Teams may deliver a message twice
    conversation_id: str
    kind: ConversationKind
    tenant_id: str | None
    team_id: str | None  # a channel's team: a team's MARAC is found by it
    place: str  # where a meeting runs: the conversation, or a channel's thread's channel
    sender_id: str | None  # the Teams user id (1:1 messages are addressed to it)
    sender_aad_object_id: str
    sender_name: str
    reply_to_id: str  # the card a button was pressed on
    text: str  # what was typed, without the @mention of the bot
    seen: Callable[[], ConversationSeen]  # the conversation as stored on registration
