"""`help`: the commands this person may use here, from the table."""

from __future__ import annotations

from bot.turns import registry
from bot.turns.replies import Message, card_reply
from bot.turns.request import Request
from cards.help import help_card


@registry.command("help", "List the commands you can use here.", "help", roles=None)
async def _help(request: Request) -> Message:
    context = request.context
    listed = registry.available(context.actor.roles, context.place)
    roles = sorted(role.label for role in context.actor.roles)
    return card_reply(help_card([(c.usage, c.summary) for c in listed], roles,
                                context.place.value), "Help")
