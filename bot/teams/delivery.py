"""Delivering an outbox message (bot.proactive.outbox) to Teams: where it goes, and the send
through botbuilder's adapter, continuing a stored conversation or opening a 1:1 chat."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.proactive.outbox import Failure, NoTeamsId, Undeliverable, failure_of
from bot.teams.meeting_notification import is_notification, send_notification
from storage.models import Conversation, OutboxMessage, Person

Adapter = BotAdapter


@dataclass(frozen=True)
class Address:
    """Where an outbox message goes: a stored conversation to continue, or a person to open
    a 1:1 chat with."""

    reference: ConversationReference
    personal: ConversationParameters | None = None


async def address_of(session: AsyncSession, message: OutboxMessage) -> Address:
    if message.conversation_id is not None:
        # A channel thread ("19:...;messageid=...") is reached through its channel.
        channel = message.conversation_id.split(";")[0]
        stored = await session.scalar(select(Conversation).where(
            Conversation.conversation_id.in_((message.conversation_id, channel))))
        if stored is None:
            raise Undeliverable("The bot is not in that conversation.")
        reference = _reference(stored)
        reference.conversation.id = message.conversation_id
        return Address(reference)
    person = await session.get(Person, message.person_id)
    if person is None or not person.teams_user_id:
        raise NoTeamsId("No Teams id is known for this person yet: they must open a chat "
                        "with the bot once.", person.aad_object_id if person else "")
    # Any conversation in the person's tenant gives the service URL and the bot's own id.
    stored = await session.scalar(
        select(Conversation)
        .where(or_(Conversation.tenant_id == person.tenant_id, Conversation.tenant_id.is_(None)))
        .order_by(Conversation.installed_at.desc()).limit(1))
    if stored is None:
        raise Undeliverable("The bot is not installed anywhere in this person's tenant.")
    reference = _reference(stored)
    return Address(reference, ConversationParameters(
        is_group=False, bot=reference.bot,
        members=[ChannelAccount(id=person.teams_user_id)], tenant_id=person.tenant_id,
        channel_data={"tenant": {"id": person.tenant_id}},
    ))


def _reference(stored: Conversation) -> ConversationReference:
    return ConversationReference().deserialize(json.loads(stored.reference))


def replay(payload: dict[str, Any]) -> Activity:
    return Activity().deserialize(payload)


class TeamsDelivery:
    def __init__(self, adapter: BotAdapter, app_id: str) -> None:
        self.adapter, self.app_id = adapter, app_id

    async def send(self, address: Address, payload: dict[str, Any], replaces: str | None
                   ) -> Failure | None:
        """Send, or replace the message `replaces`; why it failed, or None."""
        failure: Failure | None = None

        async def send(context: TurnContext) -> None:
            # Caught here: botbuilder would hand an error raised in this callback to the
            # adapter's on_turn_error, and the outbox would never know the send failed.
            nonlocal failure
            try:
                if is_notification(payload):
                    await send_notification(context, payload)
                    return
                activity = replay(payload)
                if replaces:
                    activity.id = replaces
                    await context.update_activity(activity)
                else:
                    await context.send_activity(activity)
            except Exception as error:
                failure = failure_of(error)

        try:
            if address.personal is None:
                await self.adapter.continue_conversation(address.reference, send, self.app_id)
            else:
                await self.adapter.create_conversation(
                    self.app_id, send, address.personal, "msteams",
                    address.reference.service_url)
        except Exception as error:  # any failure is retried, then reported, never dropped
            return failure_of(error)  # a new chat Teams throttled, too
        return failure
