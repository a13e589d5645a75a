"""`apologies`, typed or pressed on the case list: a representative who cannot attend the next
meeting sends apologies and may name a deputy from their agency, who is sent the case list
(dialogs.apologies)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.proactive import outbox
from bot.turns.press import InvokeAnswer, Press, message_answer
from bot.turns.registry import PERSONAL_ONLY, REPRESENTATIVES, button, command
from bot.turns.replies import Message, card_reply, text_reply
from bot.turns.request import Request
from cards.circulation import case_list_card
from dialogs import apologies
from dialogs.circulation import case_list_of
from dialogs.ids import row_id
from storage.models import Marac


@command("apologies", "Send apologies for the next meeting, naming a deputy from your agency "
         "if one attends for you.", "apologies [DEPUTY'S FIRST NAME]", roles=REPRESENTATIVES,
         places=PERSONAL_ONLY, menu=False)
async def _apologies(request: Request) -> Message:
    now = request.clock.now()
    sent = await apologies.send(request.session, request.marac_id,
                                request.context.actor.person_id, request.arguments, now)
    return text_reply(await _sent(request.session, request.marac_id, sent, now))


@button("apologies.send", "Send apologies for the meeting of the case list, naming a deputy "
        "if one attends for you.", roles=REPRESENTATIVES, places=PERSONAL_ONLY)
async def _apologies_pressed(press: Press) -> InvokeAnswer:
    now = press.clock.now()
    deputy = press.data.get("deputy", "")
    sent = await apologies.send(press.session, press.marac_id, press.person_id,
                                deputy[:60] if isinstance(deputy, str) else "", now,
                                row_id(press.data.get("meeting")))
    return message_answer(await _sent(press.session, press.marac_id, sent, now))


async def _sent(session: AsyncSession, marac_id: int, sent: apologies.Sent, now: datetime
                ) -> str:
    """What the sender is told; the deputy is sent the case list."""
    marac = await session.get_one(Marac, marac_id)
    when = sent.meeting.starts_at.astimezone(ZoneInfo(marac.timezone))
    said = f"Apologies sent for the meeting on {when:%A %d %B at %H:%M}."
    if sent.deputy is None:
        return said + (" Please return your agency's research on each case before then, from "
                       "the case list.")
    case_list = await case_list_of(session, marac, sent.meeting, (sent.deputy.id,))
    outbox.enqueue(session, card_reply(case_list_card(case_list), f"Case list: {marac.name}"),
                   "case list", now, person_id=sent.deputy.id)
    return said + (f" {sent.deputy.first_name} attends as your agency's deputy at that meeting "
                   "only and has been sent the case list.")
