"""`apologies`: a representative who cannot attend the next meeting sends apologies and may
name a deputy from their agency, who is sent the case list (dialogs.apologies)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.proactive import outbox
from bot.turns.registry import PERSONAL_ONLY, REPRESENTATIVES, command
from bot.turns.replies import Message, card_reply, text_reply
from bot.turns.request import Request
from cards.circulation import case_list_card
from dialogs import apologies
from dialogs.circulation import case_list_of
from storage.models import Marac


@command("apologies", "Send apologies for the next meeting, naming a deputy from your agency "
         "if one attends for you.", "apologies [DEPUTY'S FIRST NAME]", roles=REPRESENTATIVES,
         places=PERSONAL_ONLY, menu=False)
async def _apologies(request: Request) -> Message:
    now = request.clock.now()
    sent = await apologies.send(request.session, request.marac_id,
                                request.context.actor.person_id, request.arguments, now)
    marac = await request.session.get_one(Marac, request.marac_id)
    when = sent.meeting.starts_at.astimezone(ZoneInfo(marac.timezone))
    said = f"Apologies sent for the meeting on {when:%A %d %B at %H:%M}."
    if sent.deputy is None:
        return text_reply(said + " Please return your agency's research on each case before "
                                 "then, from the case list.")
    case_list = await case_list_of(request.session, marac, sent.meeting, (sent.deputy.id,))
    outbox.enqueue(request.session, card_reply(case_list_card(case_list),
                                               f"Case list: {marac.name}"), "case list", now,
                   person_id=sent.deputy.id)
    return text_reply(said + f" {sent.deputy.first_name} attends as your agency's deputy at "
                             "that meeting only and has been sent the case list.")
