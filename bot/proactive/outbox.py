"""Delivering the outbox: every message the bot sends on its own (case lists, reminders,
alerts) is first written to the outbox in the same transaction as the change that caused it,
then delivered here with retries and backoff. Nothing is dropped: a message is delivered or
marked failed with its reason.

The recipients are people in the store (professionals) or stored conversations; a perpetrator
is never a Person, so no address the bot can reach belongs to one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.teams.sending import retry_after_seconds
from bot.turns.replies import Message
from storage.models import OutboxMessage

MAX_ATTEMPTS = 8
# How long a claimed message is left to its sender before another replica may take it over:
# longer than one send can take (botbuilder's connector client gives up after 100 s).
LEASE = timedelta(minutes=2)
BATCH = 20


def enqueue(session: AsyncSession, activity: Message, purpose: str, now: datetime, *,
            person_id: int | None = None, conversation_id: str | None = None,
            replaces_activity_id: str | None = None) -> OutboxMessage:
    if (person_id is None) == (conversation_id is None):
        raise ValueError("A message goes to one person or one conversation.")
    if not activity.summary:
        raise ValueError(f"A {purpose} message needs a summary for Teams' notification.")
    message = OutboxMessage(person_id=person_id, conversation_id=conversation_id,
                            replaces_activity_id=replaces_activity_id,
                            activity=activity.serialize(), purpose=purpose, created_at=now,
                            next_attempt_at=now)
    session.add(message)
    return message


def enqueue_render(session: AsyncSession, spec: dict[str, Any], purpose: str, now: datetime,
                   *, conversation_id: str, replaces_activity_id: str | None = None) -> None:
    """A card to draw at delivery time (bot.proactive.circulation.render_now), so that a retry
    or a late delivery never shows an older state than the store holds."""
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
                    per_conversation: int | None = None, conversations: int | None = None,
                    purposes: Collection[str] | None = None) -> list[OutboxMessage]:
    """Due messages, leased to this sender: until the lease runs out no other replica takes
    them, and after it (the sender died mid-send) the next one that looks does. Each claim
    counts an attempt, which is also the claim's token (see settle).

    `busy` conversations (see conversation_of), which this sender is still sending to, are
    left alone; at most `per_conversation` messages of each are claimed, the earliest, so
    that a conversation's messages go out in order and a claim's lease only has to outlast
    a few paced sends; and those of at most `conversations` conversations; only those for
    `purposes`, when given. What is read but not claimed is left as it was."""
    channels = [c for c in busy if not c.startswith("person ")]
    people = [int(c.split(" ", 1)[1]) for c in busy if c.startswith("person ")]
    due = list((await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None),
               OutboxMessage.next_attempt_at <= now,
               *((OutboxMessage.purpose.in_(purposes),) if purposes is not None else ()),
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
           attempt: int | None = None, not_before: datetime | None = None) -> None:
    """Record how the send of `attempt` went. A message once delivered stays delivered; a
    failure of a sender whose lease ran out and whose message was claimed again since
    changes nothing, for the newer attempt decides. A failed message is tried again after
    its backoff, and never before `not_before` (when Teams said it would take it)."""
    if error is None:
        message.delivered_at = message.delivered_at or now
        return
    if message.delivered_at is not None or attempt not in (None, message.attempts):
        return
    message.last_error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.failed_at = now
    else:
        message.next_attempt_at = max(now + backoff(message.attempts), not_before or now)


async def hold(session: AsyncSession, conversation: str, until: datetime,
               unsent: Collection[OutboxMessage] = ()) -> None:
    """Nothing more goes to `conversation` before `until` (Teams asked for a pause there), so
    that none of its later messages overtakes the one put back. Those claimed with it but
    not tried (`unsent`) get their attempt back."""
    for message in unsent:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.attempts == message.attempts)
            .values(attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False))
    to = (OutboxMessage.person_id == int(conversation.split(" ", 1)[1])
          if conversation.startswith("person ") else
          OutboxMessage.conversation_id == conversation)
    await session.execute(
        update(OutboxMessage)
        .where(to, OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None),
               OutboxMessage.next_attempt_at < until)
        .values(next_attempt_at=until).execution_options(synchronize_session=False))


# Teams refuses a message over about 28 KB with 413; sending it again as it was would fail the
# same way, so its short form goes instead: its title and what the message says to do.
TOO_LARGE = "Teams refused it as too large (413)."
SENT_SHORT = "Teams refused it as too large (413): sent in short form."


@dataclass(frozen=True)
class Failure:
    """Why a send failed, as recorded; and, when Teams asked for a pause (429 with
    Retry-After), how long it asked for."""

    reason: str
    retry_after: timedelta | None = None


def failure_of(error: Exception) -> Failure:
    """How a send failed; TOO_LARGE for Teams' size limit."""
    response = getattr(error, "response", None)  # msrest's: aiohttp's or requests' response
    status = getattr(response, "status", None) or getattr(response, "status_code", None)
    if status == 413:
        return Failure(TOO_LARGE)
    asked = retry_after_seconds((getattr(response, "headers", None) or {}).get("Retry-After"))
    if status == 429 and asked is not None:
        return Failure(f"Teams asked for a pause of {asked:.0f} s (429).",
                       timedelta(seconds=asked))
    return Failure(f"{type(error).__name__}: {error}")


def short_form(payload: dict[str, Any]) -> dict[str, Any]:
    """A sentence for a message too large for Teams: the card's title, and its summary (what
    to do to see it all) when it has one."""
    return {"type": "message", "text": f"{_title(payload)}: too long for Teams to show here. "
                                       + (payload.get("summary") or "Ask your MARAC "
                                          "coordinator for it.")}


def _title(payload: dict[str, Any]) -> str:
    for attachment in payload.get("attachments") or []:
        for item in (attachment.get("content") or {}).get("body") or []:
            if item.get("type") == "TextBlock" and item.get("text"):
                return str(item["text"])
    return "A message from the MARAC bot"


class Undeliverable(Exception):
    """Why a message cannot be sent as things stand; retried until it can, or it fails."""


class NoTeamsId(Undeliverable):
    """The person has never been seen in Teams: the app may be installed for them."""

    def __init__(self, message: str, aad_object_id: str) -> None:
        super().__init__(message)
        self.aad_object_id = aad_object_id
