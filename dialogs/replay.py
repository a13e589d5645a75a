"""Each typed message is acted on once, however often Teams delivers it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import core
from storage.models import ProcessedMessage

# One statement for SQLite and PostgreSQL alike. As text, not the dialects' insert() with
# on_conflict_do_nothing(), which SQLAlchemy cannot cache and so compiles on every message.
_FIRST_DELIVERY = text(
    "INSERT INTO processed_message (conversation_id, activity_id, at) "
    "VALUES (:conversation_id, :activity_id, :at) "
    "ON CONFLICT (conversation_id, activity_id) DO NOTHING"
).bindparams(bindparam("at", type_=ProcessedMessage.__table__.c.at.type))


async def first_delivery(session: AsyncSession, conversation_id: str, activity_id: str,
                         now: datetime) -> bool:
    """True the first time this message is seen; False for a retry or a replay."""
    inserted = await core(session, _FIRST_DELIVERY, {
        "conversation_id": conversation_id, "activity_id": activity_id, "at": now})
    return bool(inserted.rowcount)
