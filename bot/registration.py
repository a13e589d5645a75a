"""The coordinator's `register`: a channel or chat becomes their MARAC's, and is welcomed."""

from __future__ import annotations

from botbuilder.schema import Activity

from bot.conversation import seen
from bot.replies import card_reply, text_reply
from bot.request import CommandHandler, Request
from cards.welcome import welcome_card
from dialogs.registration import RegistrationError, choose, coordinated_by, register


async def _register(request: Request) -> Activity:
    session = request.session
    try:
        marac = choose(await coordinated_by(session, request.context.actor.person_id),
                       request.arguments)
        registered = await register(session, seen(request.activity), marac,
                                    request.clock.now())
    except RegistrationError as refused:
        return text_reply(str(refused))
    if not registered.installation.should_welcome:
        return text_reply(f"This conversation is already the {registered.marac_name}'s.")
    return card_reply(welcome_card(registered.marac_name), "MARAC bot: welcome")


REGISTRATION_HANDLERS: dict[str, CommandHandler] = {"register": _register}
