"""The audit trail stores each press as it turned out: a press the command table lets
through but the MARAC's rules refuse inside its handler (a referral triaged already, a case
whose planning is closed, someone else's action) is stored as refused, with the reason the
presser was told; a press that went through is stored as done. (Another MARAC's referral
is now refused before the handler: a button acts in the MARAC of the referral it names,
where the presser holds no role; tests/store/test_marac_scope.py.)"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from sqlalchemy import select

from bot.teams.conversation import arrival_of
from bot.turns.pipeline import handle_press
from bot.turns.press import read_invoke
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT
from storage.models import ActionFollowUp, ActionStatus, AuditEvent
from tests.store.plan_factory import follow_up_of, heard, tick
from tests.store.referral_factory import card_payload, refer

PEOPLE = {p.full_name.split()[0]: p for p in DEMO_PEOPLE}


def _press(who: str, verb: str, data: dict[str, Any], *, channel: bool) -> Activity:
    person = PEOPLE[who]
    conversation = ({"id": f"{DEMO_TEAM};messageid=7", "conversationType": "channel",
                     "tenantId": DEMO_TENANT} if channel else
                    {"id": f"a:personal-{who}", "conversationType": "personal",
                     "tenantId": DEMO_TENANT})
    return Activity().deserialize({
        "type": "invoke", "name": "adaptiveCard/action", "id": f"press-{who}-{verb}",
        "channelId": "msteams", "serviceUrl": "http://localhost/", "replyToId": "card-1",
        "from": {"id": person.teams_user_id, "aadObjectId": person.aad_object_id,
                 "name": person.full_name},
        "recipient": {"id": "bot"}, "conversation": conversation,
        "channelData": {"tenant": {"id": DEMO_TENANT},
                        **({"team": {"id": DEMO_TEAM}} if channel else {})},
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}}})


async def press(store, clock, who: str, verb: str, data: dict[str, Any], *,
                channel: bool = False) -> dict[str, Any]:
    activity = _press(who, verb, data, channel=channel)
    invoke = read_invoke(activity.name, activity.value)
    assert invoke is not None and invoke.button is not None
    answer, _, _ = await handle_press(arrival_of(activity), invoke, store, clock)
    return answer


async def trail(store, verb: str) -> list[tuple[str, str, str]]:
    async with store.unit_of_work() as session:
        rows = (await session.scalars(select(AuditEvent).where(AuditEvent.action == verb)
                                      .order_by(AuditEvent.id))).all()
        return [(row.subject, row.outcome, row.detail) for row in rows]


async def test_refusals_inside_the_handler_are_audited_as_refused_with_their_reason(
        store, clock):
    h = await heard(store, clock)  # the first case heard; its planning closed by `next`
    await tick(store, clock)  # the plan disseminated: each owner has their action's card

    # A referral triaged already: accepted, then declined by the coordinator.
    ours = await refer(store, clock, h.demo.marac_id, card_payload())
    await press(store, clock, "Cara", "triage.accept", {"referral_id": ours.id})
    await press(store, clock, "Cara", "triage.decline",
                {"referral_id": ours.id, f"note_{ours.id}": "Below the threshold."})
    assert [outcome for _, outcome, _ in await trail(store, "triage.accept")] == ["done"]
    assert await trail(store, "triage.decline") == [
        (str(ours.id), "refused",
         "This referral was already accepted, so it cannot be marked declined.")]

    # A case whose planning is closed, in the meeting's channel.
    answer = await press(store, clock, "Priya", "case.action",
                         {"case": h.number, "agency": "Police", "owner": "Priya",
                          "description": "Too late."}, channel=True)
    closed = f"{h.number} is not open for planning now."
    assert answer["value"] == closed
    assert await trail(store, "case.action") == [(h.number, "refused", closed)]

    # Someone else's action: Imogen presses Done on Priya's.
    priya_s = await follow_up_of(store, h.actions["Priya"])
    answer = await press(store, clock, "Imogen", "action.done",
                         {"follow_up": priya_s, "note": "Not mine to close."})
    not_hers = ("Only the action's owner, their agency or the coordinator can answer for "
                "this action.")
    assert answer["value"] == not_hers
    assert await trail(store, "action.done") == [("", "refused", not_hers)]
    async with store.unit_of_work() as session:
        follow_up = await session.get_one(ActionFollowUp, priya_s)
        assert follow_up.status is ActionStatus.OPEN  # nothing changed

    # And her own goes through, audited as done.
    await press(store, clock, "Priya", "action.done", {"follow_up": priya_s, "note": "Served."})
    assert [outcome for _, outcome, _ in await trail(store, "action.done")] == [
        "refused", "done"]
