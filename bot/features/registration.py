"""The coordinator's `register`: a channel or chat becomes their MARAC's, and is welcomed."""

from __future__ import annotations

from bot.turns.registry import COORDINATORS, MEETING_PLACES, command
from bot.turns.replies import Message, card_reply, text_reply
from bot.turns.request import Request
from cards.welcome import welcome_card
from dialogs.registration import choose, coordinated_by, register


@command("register", "Make this channel or chat your MARAC's, so that the bot works here.",
         "register [MARAC NAME]", roles=COORDINATORS, places=MEETING_PLACES, menu=False,
         before_registration=True)
async def _register(request: Request) -> Message:
    session = request.session
    marac = choose(await coordinated_by(session, request.context.actor.person_id),
                   request.arguments)
    registered = await register(session, request.arrival.seen(), marac, request.clock.now())
    if not registered.installation.should_welcome:
        return text_reply(f"This conversation is already the {registered.marac_name}'s.")
    return card_reply(welcome_card(registered.marac_name), "MARAC bot: welcome")

