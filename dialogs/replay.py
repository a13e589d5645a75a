"""Each typed message is acted on once, however often Teams delivers it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedMessage


async def first_delivery(session: AsyncSession, conversation_id: str, activity_id: str,
                         now: datetime) -> bool:
    """True the first time this message is seen; False for a retry or a replay."""
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    inserted = await session.execute(
        insert(ProcessedMessage)
        .values(conversation_id=conversation_id, activity_id=activity_id, at=now)
        .on_conflict_do_nothing(index_elements=["conversation_id", "activity_id"]))
    return bool(inserted.rowcount)  # type: ignore[attr-defined]
