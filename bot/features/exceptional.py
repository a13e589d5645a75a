"""`mark CASE exceptional death|moved NOTE`: the coordinator, before the meeting, marks a listed
case exceptional (dialogs.exceptional); in the meeting the chair uses `exceptional`."""

from __future__ import annotations

from bot.turns.registry import COORDINATORS, PERSONAL_ONLY, command
from bot.turns.replies import Message, text_reply
from bot.turns.request import Request
from dialogs import exceptional
from dialogs.meeting import EXCEPTIONS


@command("mark", "Before the meeting, mark a listed case exceptional: death, or moved out of "
         "area; it stays on the agenda for information, with no action planning.",
         "mark CASE exceptional death/moved NOTE", roles=COORDINATORS, places=PERSONAL_ONLY,
         menu=False)
async def _mark(request: Request) -> Message:
    case = await exceptional.mark_before(request.session, request.marac_id,
                                         request.context.actor.roles,
                                         request.context.actor.person_id, request.arguments)
    return text_reply(f"{case.number} is exceptional ({EXCEPTIONS[case.exceptional]}): it "
                      "stays on the agenda for information, and no actions will be planned.")
