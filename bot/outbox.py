"""Delivering the outbox: every message the bot sends on its own (case lists, reminders,
alerts) is first written to the outbox in the same transaction as the change that caused it,
then delivered here with retries and backoff. Nothing is dropped: a message is delivered or
marked failed with its reason.

The recipients are people in the store (professionals) or stored conversations; a perpetrator
is never a Person, so no address the bot can reach belongs to one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
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
    if not activity.summary:
        raise ValueError(f"A {purpose} message needs a summary for Teams' notification.")
    session.add(OutboxMessage(person_id=person_id, conversation_id=conversation_id,
                              replaces_activity_id=replaces_activity_id,
                              activity=activity.serialize(), purpose=purpose, created_at=now,
                              next_attempt_at=now))


def enqueue_render(session: AsyncSession, spec: dict[str, Any], purpose: str, now: datetime,
                   *, conversation_id: str, replaces_activity_id: str | None = None) -> None:
    """A card to draw at delivery time (bot.circulation.render_now), so that a retry or a
    late delivery never shows an older state than the store holds."""
    session.add(OutboxMessage(conversation_id=conversation_id,
                              replaces_activity_id=replaces_activity_id, activity=spec,
                              purpose=purpose, created_at=now, next_attempt_at=now))


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=15 * 2 ** attempts), timedelta(hours=1))


def conversation_of(message: OutboxMessage) -> str:
    """Which conversation a message goes to: its messages are sent in order, one at a time."""
    if message.conversation_id is not None:
        return message.conversation_id
    return f"person {message.person_id}"  # no conversation id holds a space


async def claim_due(session: AsyncSession, now: datetime, lease: timedelta = LEASE,
                    limit: int = BATCH, *, busy: Collection[str] = (),
                    per_conversation: int | None = None, conversations: int | None = None
                    ) -> list[OutboxMessage]:
    """Due messages, leased to this sender: until the lease runs out no other replica takes
    them, and after it (the sender died mid-send) the next one that looks does. Each claim
    counts an attempt, which is also the claim's token (see settle).

    `busy` conversations (see conversation_of), which this sender is still sending to, are
    left alone; at most `per_conversation` messages of each are claimed, the earliest, so
    that a conversation's messages go out in order and a claim's lease only has to outlast
    a few paced sends; and those of at most `conversations` conversations. What is read but
    not claimed is left as it was."""
    channels = [c for c in busy if not c.startswith("person ")]
    people = [int(c.split(" ", 1)[1]) for c in busy if c.startswith("person ")]
    due = list((await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None),
               OutboxMessage.next_attempt_at <= now,
               *((or_(OutboxMessage.conversation_id.is_(None),
                      OutboxMessage.conversation_id.not_in(channels)),)
                 if channels else ()),
               *((or_(OutboxMessage.person_id.is_(None),
                      OutboxMessage.person_id.not_in(people)),) if people else ()))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )).all())
    if per_conversation is not None or conversations is not None:
        seen: Counter[str] = Counter()
        kept = []
        for message in due:  # in order: the earliest conversations, each one's earliest
            key = conversation_of(message)
            if key not in seen and conversations is not None and len(seen) >= conversations:
                continue
            seen[key] += 1
            if per_conversation is None or seen[key] <= per_conversation:
                kept.append(message)
        due = kept
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


class NoTeamsId(Undeliverable):
    """The person has never been seen in Teams: the app may be installed for them."""

    def __init__(self, message: str, aad_object_id: str) -> None:
        super().__init__(message)
        self.aad_object_id = aad_object_id


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
    return Route(reference, ConversationParameters(
        is_group=False, bot=reference.bot,
        members=[ChannelAccount(id=person.teams_user_id)], tenant_id=person.tenant_id,
        channel_data={"tenant": {"id": person.tenant_id}},
    ))


def _reference(stored: Conversation) -> ConversationReference:
    return ConversationReference().deserialize(json.loads(stored.reference))


def replay(payload: dict[str, Any]) -> Activity:
    return Activity().deserialize(payload)
