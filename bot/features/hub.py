"""`hub CASE 24h|3d|no` (the chair, once the case is closed): whether the referring agency
must update children's services (the HUB), and by when; its representatives are told.
`hub CASE contacted` (the referring agency's representative): the HUB has been updated. The
prompt to chase, 2 working days on, is the timer's (bot.proactive.plan_delivery)."""

from __future__ import annotations

from bot.proactive import outbox
from bot.turns.registry import CHAIRS, PERSONAL_ONLY, REPRESENTATIVES, command
from bot.turns.replies import Message, text_reply
from bot.turns.request import Request
from dialogs import hub
from dialogs.hub import HubError


@command("hub", "Record the children's services (HUB) update a closed case needs, or that "
         "it was made.", "hub CASE 24h/3d/no/contacted", roles=CHAIRS | REPRESENTATIVES,
         places=PERSONAL_ONLY, menu=False)
async def _hub(request: Request) -> Message:
    number, _, what = request.arguments.strip().partition(" ")
    if not number or not what.strip():
        raise HubError("Name the case and the update, e.g. **hub RIV-2026-001 24h**.")
    actor, now = request.context.actor, request.clock.now()
    if what.strip().lower() == "contacted":
        return text_reply(await hub.contacted(request.session, request.marac_id, number,
                                              actor.person_id, now))
    done = await hub.record(request.session, request.marac_id, number, what, actor.roles,
                            actor.person_id, now)
    follow_up = done.follow_up
    if not follow_up.needed:
        return text_reply(f"Recorded: {done.case_number} needs no HUB update.")
    within = "24 hours" if follow_up.within_hours == 24 else "3 days"
    for person_id in done.told:
        outbox.enqueue(request.session, text_reply(
            f"{done.case_number}: as the referring agency, update children's services (the "
            f"HUB) within {within}, then type **hub {done.case_number} contacted**.",
            f"HUB update: {done.case_number}"), "hub update", now, person_id=person_id)
    return text_reply(f"Recorded: the referring agency updates the HUB on {done.case_number} "
                      f"within {within}; its representatives have been told.")

