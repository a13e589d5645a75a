"""`publish agenda`: the coordinator circulates the next meeting's case list now."""

from __future__ import annotations

from bot.proactive.circulation import publish_case_list
from bot.turns.registry import COORDINATORS, command
from bot.turns.replies import Message, text_reply
from bot.turns.request import Request


@command("publish", "Circulate the next meeting's case list to the agencies now.",
         "publish agenda", roles=COORDINATORS)
async def _publish(request: Request) -> Message:
    if request.arguments.strip().lower() != "agenda":
        return text_reply("Type **publish agenda** to circulate the next meeting's case list.")
    now = request.clock.now()
    published = await publish_case_list(request.session, request.marac_id, now)
    if published is None:
        return text_reply("There is no meeting coming up to circulate a case list for.")
    return text_reply(f"The case list of {len(published.entries)} cases is on its way to "
                      f"{len(published.recipients)} people.")
