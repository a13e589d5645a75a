"""`agenda`: the next meeting's case list; its detail only in personal chat, to those
entitled to case papers."""

from __future__ import annotations

from bot.turns.registry import EVERY_ROLE, Place, command
from bot.turns.replies import Message, card_reply
from bot.turns.request import Request
from cards.agenda import agenda_card
from dialogs.actor import gets_case_papers
from dialogs.agenda import Viewer, next_agenda


@command("agenda", "Show the next meeting's agenda: case numbers, first names and slot times.",
         "agenda", roles=EVERY_ROLE)
async def _agenda(request: Request) -> Message:
    actor = request.context.actor
    agenda = await next_agenda(request.session, request.marac_id, request.clock.now(),
                               Viewer(actor.roles, actor.person_id))
    return card_reply(agenda_card(agenda, detailed=request.context.place is Place.PERSONAL
                                  and gets_case_papers(request.context.actor.roles)), "Agenda")
