"""The bot being added to (or removed from) a team, group chat, meeting or personal chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation, ConversationKind, Marac


@dataclass(frozen=True)
class ConversationSeen:
    """What Teams tells us about a conversation, enough to message it again later."""

    conversation_id: str
    kind: ConversationKind
    tenant_id: str | None
    team_id: str | None
    channel_id: str | None
    service_url: str
    reference_json: str


@dataclass(frozen=True)
class Installation:
    marac_id: int | None
    should_welcome: bool


async def record_installation(
    session: AsyncSession, seen: ConversationSeen, now: datetime, marac_id: int | None = None
) -> Installation:
    """Store (or refresh) the conversation reference; welcome each conversation once only.
    Only for a conversation the bot may keep (dialogs.registration): its MARAC's, or the
    personal chat of someone a MARAC knows.

    Teams sends both installationUpdate and conversationUpdate on install, often at the same
    moment, so the insert is an upsert and the welcome is claimed by one conditional update.
    """
    marac_id = marac_id or await _marac_for(session, seen)
    values: dict[str, Any] = {
        "conversation_id": seen.conversation_id,
        "kind": seen.kind,
        "tenant_id": seen.tenant_id,
        "team_id": seen.team_id,
        "channel_id": seen.channel_id,
        "service_url": seen.service_url,
        "reference": seen.reference_json,
        "marac_id": marac_id,
        "installed_at": now,
    }
    refreshed = {k: values[k] for k in ("service_url", "reference", "marac_id")}
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Conversation).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Conversation.conversation_id],
            set_={**refreshed, "removed_at": None},
        )
    )
    claimed = await session.execute(
        update(Conversation)
        .where(
            Conversation.conversation_id == seen.conversation_id,
            Conversation.welcomed_at.is_(None),
        )
        .values(welcomed_at=now)
    )
    return Installation(marac_id=marac_id, should_welcome=claimed.rowcount == 1)  # type: ignore[attr-defined]


async def record_removal(session: AsyncSession, conversation_id: str, now: datetime) -> None:
    await session.execute(
        update(Conversation)
        .where(Conversation.conversation_id == conversation_id)
        .values(removed_at=now, welcomed_at=None)
    )


async def marac_of_conversation(session: AsyncSession, seen: ConversationSeen) -> int | None:
    return await _marac_for(session, seen)


async def _marac_for(session: AsyncSession, seen: ConversationSeen) -> int | None:
    if seen.team_id is None:
        stored = await session.scalar(
            select(Conversation.marac_id).where(
                Conversation.conversation_id == seen.conversation_id
            )
        )
        return stored
    return await session.scalar(select(Marac.id).where(Marac.team_id == seen.team_id))


def without_names(reference: dict[str, Any]) -> dict[str, Any]:
    """A conversation reference as kept: the Teams ids that routing needs, none of the display
    names Teams sends with them (a person's full name, a chat's title)."""
    kept = dict(reference)
    for part in ("user", "bot", "conversation"):
        if isinstance(kept.get(part), dict):
            kept[part] = {k: v for k, v in kept[part].items() if k != "name"}
    return kept
