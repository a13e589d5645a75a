"""The chair's commands pressed on the meeting's side panel (bot.desk) are answered in the
meeting's conversation as the typed command is: sent at once, keeping the ids of the cards
updated in place later (the case card, the attendance card). Whatever cannot be sent now goes
through the outbox, which retries it (without keeping its id)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from botbuilder.core import BotAdapter, TurnContext

from bot.proactive import outbox
from bot.teams.delivery import address_of
from bot.teams.messages import activity_of
from bot.turns.posts import Post
from storage.database import Store
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
SUMMARY = "The meeting"


class MeetingPoster:
    def __init__(self, adapter: BotAdapter, app_id: str, store: Store) -> None:
        self.adapter, self.app_id, self.store = adapter, app_id, store

    async def post(self, conversation_id: str, posts: list[Post], now: datetime) -> None:
        sent: list[str | None] = []
        try:
            async with self.store.unit_of_work() as session:
                address = await address_of(session, OutboxMessage(
                    conversation_id=conversation_id))

            async def send(context: TurnContext) -> None:
                for post in posts:
                    answer = await context.send_activity(activity_of(post.message))
                    sent.append(answer.id if answer else None)

            await self.adapter.continue_conversation(address.reference, send, self.app_id)
        except Exception as error:  # Undeliverable, or Teams refused: the outbox retries
            log.warning("panel answer not sent at once, queued: %s", error)
        async with self.store.unit_of_work() as session:
            for post, message_id in zip(posts, sent, strict=False):
                if post.record is not None and message_id:
                    await post.record(await session.connection(), message_id)
            for post in posts[len(sent):]:
                message = post.message
                outbox.enqueue(session, replace(message, summary=message.summary or SUMMARY),
                               "meeting", now, conversation_id=conversation_id)
