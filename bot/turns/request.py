"""One typed command with everything its handler needs, and the shape of a handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.turns.access import Context
from bot.turns.arrival import Arrival
from bot.turns.posts import Post
from bot.turns.replies import Message
from dialogs.clock import Clock


@dataclass(frozen=True)
class Request:
    """One command, with everything a command needs to answer it."""

    session: AsyncSession
    context: Context
    arguments: str
    clock: Clock
    arrival: Arrival

    @property
    def marac_id(self) -> int:
        assert self.context.marac_id is not None  # refusal() lets no MARAC command through
        return self.context.marac_id


CommandHandler = Callable[[Request], Awaitable[Message | list[Post]]]


