"""What a command answers with: one or more messages, some of whose ids must be kept (the
attendance card and each case card are updated in place later)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.turns.replies import Message
from storage.models import Case, Meeting

# Keeps the id on the connection given: Store.one_statement's, or a unit of work's.
Recorder = Callable[[AsyncConnection, str], Awaitable[None]]


@dataclass(frozen=True)
class Post:
    message: Message
    record: Recorder | None = None  # stores the id Teams gave the posted message


# Built once, run through Core: keeping a posted card's id is one UPDATE, without the ORM's
# bulk-update path (its statement compiled per call, the session's objects searched to
# synchronise).
_KEEP_ATTENDANCE_CARD = (update(Meeting).where(Meeting.id == bindparam("row"))
                         .values(attendance_message_id=bindparam("message_id")))
_KEEP_CASE_CARD = (update(Case).where(Case.id == bindparam("row"))
                   .values(card_message_id=bindparam("message_id")))


def keep_attendance_card(meeting_id: int) -> Recorder:
    async def record(connection: AsyncConnection, message_id: str) -> None:
        await connection.execute(_KEEP_ATTENDANCE_CARD,
                                 {"row": meeting_id, "message_id": message_id})
    return record


def keep_case_card(case_id: int) -> Recorder:
    async def record(connection: AsyncConnection, message_id: str) -> None:
        await connection.execute(_KEEP_CASE_CARD, {"row": case_id, "message_id": message_id})
    return record
