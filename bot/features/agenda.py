"""`agenda`: the next meeting's case list; its detail only in personal chat, to those
entitled to case papers."""

from __future__ import annotations

from botbuilder.schema import Activity

from bot.teams.replies import card_reply
from bot.turns.registry import EVERY_ROLE, Place, command
from bot.turns.request import Request
from cards.agenda import agenda_card
from dialogs.agenda import next_agenda
from storage.models import Role


@command("agenda", "Show the next meeting's agenda: case numbers, first names and slot times.",
         "agenda", roles=EVERY_ROLE)
async def _agenda(request: Request) -> Activity:
    agenda = await next_agenda(request.session, request.marac_id, request.clock.now())
    entitled = request.context.actor.roles - {Role.OBSERVER}  # observers get no case papers
    return card_reply(agenda_card(
        agenda, detailed=request.context.place is Place.PERSONAL and bool(entitled)))
