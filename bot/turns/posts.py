"""What a command answers with: one or more messages, some of whose ids must be kept (the
attendance card and each case card are updated in place later)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.turns.replies import Message
from storage.models import Case, Meeting

Recorder = Callable[[AsyncSession, str], Awaitable[None]]


@dataclass(frozen=True)
class Post:
    message: Message
    record: Recorder | None = None  # stores the id Teams gave the posted message


def keep_attendance_card(meeting_id: int) -> Recorder:
    async def record(session: AsyncSession, message_id: str) -> None:
        await session.execute(update(Meeting).where(Meeting.id == meeting_id)
                              .values(attendance_message_id=message_id))
    return record


def keep_case_card(case_id: int) -> Recorder:
    async def record(session: AsyncSession, message_id: str) -> None:
        await session.execute(update(Case).where(Case.id == case_id)
                              .values(card_message_id=message_id))
    return record
