"""The Teams activity handler: installation, removal and typed commands."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
)
from sqlalchemy import select

from bot.access import context_of
from bot.card_actions import handle_card_action
from bot.conversation import seen
from bot.police_feed import FILE_DOWNLOAD_INFO, handle_feed_file
from bot.replies import card_reply
from bot.router import handle_message
from cards.welcome import welcome_card
from dialogs.clock import Clock
from dialogs.installation import record_installation, record_removal
from storage.database import Store
from storage.models import Marac

log = logging.getLogger(__name__)


class MaracBot(TeamsActivityHandler):
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        files = [a for a in activity.attachments or [] if a.content_type == FILE_DOWNLOAD_INFO]
        if files:
            reply = await handle_feed_file(activity, files[0], self.store, self.clock)
        else:
            reply = await handle_message(activity, self.store, self.clock)
        if reply is not None:
            await turn_context.send_activity(reply)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        return await handle_card_action(turn_context.activity, invoke_value.action or {},
                                        self.store, self.clock)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._installed(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        async with self.store.unit_of_work() as session:
            await record_removal(session, turn_context.activity.conversation.id,
                                 self.clock.now())

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if any(m.id == turn_context.activity.recipient.id for m in members_added):
            await self._installed(turn_context)

    async def on_teams_members_added(
        self, teams_members_added: list[ChannelAccount], team_info: object,
        turn_context: TurnContext,
    ) -> None:
        await self.on_members_added_activity(teams_members_added, turn_context)

    async def _installed(self, turn_context: TurnContext) -> None:
        async with self.store.unit_of_work() as session:
            installation = await record_installation(
                session, seen(turn_context.activity), self.clock.now()
            )
            # In a personal chat the MARAC is the installer's own, if they serve one.
            marac_id = installation.marac_id or (
                await context_of(session, turn_context.activity)).marac_id
            marac_name = (
                await session.scalar(select(Marac.name).where(Marac.id == marac_id))
                if marac_id else None
            )
        if installation.should_welcome:
            log.info("installed in %s", turn_context.activity.conversation.id)
            await turn_context.send_activity(card_reply(welcome_card(marac_name)))
