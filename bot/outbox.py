"""Delivering the outbox: every message the bot sends on its own (case lists, reminders,
alerts) is first written to the outbox in the same transaction as the change that caused it,
then delivered here with retries and backoff. Nothing is dropped: a message is delivered or
marked failed with its reason.

The recipients are people in the store (professionals) or stored conversations; a perpetrator
is never a Person, so no address the bot can reach belongs to one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, OutboxMessage, Person

MAX_ATTEMPTS = 8
# How long a claimed message is left to its sender before another replica may take it over:
# longer than one send can take (botbuilder's connector client gives up after 100 s).
LEASE = timedelta(minutes=2)
BATCH = 20


def enqueue(session: AsyncSession, activity: Activity, purpose: str, now: datetime, *,
            person_id: int | None = None, conversation_id: str | None = None,
            replaces_activity_id: str | None = None) -> None:
    if (person_id is None) == (conversation_id is None):
        raise ValueError("A message goes to one person or one conversation.")
    session.add(OutboxMessage(person_id=person_id, conversation_id=conversation_id,
                              replaces_activity_id=replaces_activity_id,
                              activity=activity.serialize(), purpose=purpose, created_at=now,
                              next_attempt_at=now))


def enqueue_render(session: AsyncSession, spec: dict[str, Any], purpose: str, now: datetime,
                   *, conversation_id: str, replaces_activity_id: str) -> None:
    """A card to draw at delivery time (bot.circulation.render_now), so that a retry or a
    late delivery never shows an older state than the store holds."""
    session.add(OutboxMessage(conversation_id=conversation_id,
                              replaces_activity_id=replaces_activity_id, activity=spec,
                              purpose=purpose, created_at=now, next_attempt_at=now))


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=15 * 2 ** attempts), timedelta(hours=1))


async def claim_due(session: AsyncSession, now: datetime, lease: timedelta = LEASE,
                    limit: int = BATCH) -> list[OutboxMessage]:
    """Due messages, leased to this sender: until the lease runs out no other replica takes
    them, and after it (the sender died mid-send) the next one that looks does. Each claim
    counts an attempt, which is also the claim's token (see settle)."""
    due = list((await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None),
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )).all())
    for message in due:
        message.attempts += 1
        message.next_attempt_at = now + lease
    return due


def settle(message: OutboxMessage, now: datetime, error: str | None,
           attempt: int | None = None) -> None:
    """Record how the send of `attempt` went. A message once delivered stays delivered; a
    failure of a sender whose lease ran out and whose message was claimed again since
    changes nothing, for the newer attempt decides."""
    if error is None:
        message.delivered_at = message.delivered_at or now
        return
    if message.delivered_at is not None or attempt not in (None, message.attempts):
        return
    message.last_error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.failed_at = now
    else:
        message.next_attempt_at = now + backoff(message.attempts)


class Undeliverable(Exception):
    """Why a message cannot be sent as things stand; retried until it can, or it fails."""


@dataclass(frozen=True)
class Route:
    """A stored conversation to continue, or a person to open a 1:1 chat with."""

    reference: ConversationReference
    personal: ConversationParameters | None = None


async def route_of(session: AsyncSession, message: OutboxMessage) -> Route:
    if message.conversation_id is not None:
        # A channel thread ("19:...;messageid=...") is reached through its channel.
        channel = message.conversation_id.split(";")[0]
        stored = await session.scalar(select(Conversation).where(
            Conversation.conversation_id.in_((message.conversation_id, channel))))
        if stored is None:
            raise Undeliverable("The bot is not in that conversation.")
        reference = _reference(stored)
        reference.conversation.id = message.conversation_id
        return Route(reference)
    person = await session.get(Person, message.person_id)
    if person is None or not person.teams_user_id:
        raise Undeliverable("No Teams id is known for this person yet: they must open a chat "
                            "with the bot once.")
    # Any conversation in the person's tenant gives the service URL and the bot's own id.
    stored = await session.scalar(
        select(Conversation)
        .where(or_(Conversation.tenant_id == person.tenant_id, Conversation.tenant_id.is_(None)))
        .order_by(Conversation.installed_at.desc()).limit(1))
    if stored is None:
        raise Undeliverable("The bot is not installed anywhere in this person's tenant.")
    reference = _reference(stored)
    return Route(reference, ConversationParameters(
        is_group=False, bot=reference.bot,
        members=[ChannelAccount(id=person.teams_user_id)], tenant_id=person.tenant_id,
        channel_data={"tenant": {"id": person.tenant_id}},
    ))


def _reference(stored: Conversation) -> ConversationReference:
    return ConversationReference().deserialize(json.loads(stored.reference))


def replay(payload: dict[str, Any]) -> Activity:
    return Activity().deserialize(payload)
