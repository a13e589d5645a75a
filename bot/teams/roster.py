"""Reading a MARAC team's roster through botbuilder's Teams roster API, page by page, when the
bot is installed in the team and whenever members are added, so that the outbox can open a
1:1 chat (create_conversation) with representatives who have never written to the bot. The
reads go through the turn's connector client, so they are paced and retried like every other
request (bot.teams.sending)."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from bot.teams.conversation import tenant_of
from dialogs.roster import Member, record_members
from storage.database import Store

log = logging.getLogger(__name__)

PAGE_SIZE = 500  # the most Teams gives in one page


async def learn_roster(turn_context: TurnContext, store: Store) -> int:
    """Record the Teams id of every member of the turn's team (or chat) the store knows; how
    many were new. A roster that cannot be read is logged: the welcome still goes out, and the
    next members-added event reads it again."""
    tenant = tenant_of(turn_context.activity) or ""
    learnt, token = 0, None
    try:
        while True:
            page = await TeamsInfo.get_paged_members(turn_context, token, PAGE_SIZE)
            members = [Member(m.aad_object_id or "", m.id or "") for m in page.members or []]
            async with store.unit_of_work() as session:
                learnt += await record_members(session, tenant, members)
            token = page.continuation_token
            if not token:
                break
    except Exception as error:  # the connector refused or could not be reached
        log.warning("could not read the roster of %s: %s",
                    turn_context.activity.conversation.id, error)
    if learnt:
        log.info("learnt %d Teams ids from the roster of %s", learnt,
                 turn_context.activity.conversation.id)
    return learnt
