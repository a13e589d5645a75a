"""The closed panel by construction (issue 13, findings 2 and 3): Share, Add action and the
victim's contact on a closed-panel case are refused to anyone not admitted, and nothing is
stored; the agenda lists a closed-panel case without detail to them, and never lists the
actions agreed in a meeting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botbuilder.schema import Activity
from sqlalchemy import func, select

from dialogs.agenda import Viewer, next_agenda
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT
from storage.models import ActionOrigin, AgencyInformation, Case, PlannedAction, Role
from tests.store.meeting_factory import case_named, next_case, started
from tests.turns import handle_card_action

CHRIS, PRIYA = DEMO_PEOPLE[1], DEMO_PEOPLE[3]


def press_in_channel(person: Any, verb: str, **data: Any) -> tuple[Activity, dict[str, Any]]:
    action = {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **data}}
    activity = Activity().deserialize({
        "type": "invoke", "name": "adaptiveCard/action", "id": f"press-{verb}-{person.full_name}",
        "channelId": "msteams", "serviceUrl": "http://x/", "replyToId": "card-1",
        "from": {"id": person.teams_user_id, "aadObjectId": person.aad_object_id,
                 "name": person.full_name},
        "recipient": {"id": "bot"},
        "conversation": {"id": f"{DEMO_TEAM};messageid=1", "conversationType": "channel",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}, "team": {"id": DEMO_TEAM}},
        "value": {"action": action}})
    return activity, action


def an_action(clock: Any, **changes: str) -> dict[str, str]:
    return {"agency": "Police", "owner": "Priya", "description": "Move her to the refuge on "
            "Mill Street", "for_whom": "victim", "risk": "Threats to kill",
            "due_on": (clock.now().date() + timedelta(days=7)).isoformat(), **changes}


async def closed_panel_open(store, clock) -> tuple[Any, str]:
    demo = await started(store, clock)
    _, opened = await next_case(store, clock)
    async with store.unit_of_work() as session:  # heard in the closed panel (002)
        case = await session.scalar(select(Case).where(Case.number == opened))
        case.closed_panel = True
    assert opened is not None
    return demo, opened


async def stored(store, model) -> int:
    async with store.unit_of_work() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_share_and_add_action_are_refused_to_a_representative_not_admitted(store, clock):
    demo, number = await closed_panel_open(store, clock)
    for verb, data in (("case.information", {"information": "Two call-outs this month.",
                                             "not_involved": "false"}),
                       ("case.action", an_action(clock))):
        activity, action = press_in_channel(PRIYA, verb, case=number, **data)
        answer, updates, _ = await handle_card_action(activity, action, store, clock)
        assert answer["value"] == (f"{number} is heard in a closed panel: only the chair and "
                                   "the people admitted to it see or add to it."), verb
        assert updates == []
    assert await stored(store, AgencyInformation) == 0
    assert await stored(store, PlannedAction) == 0

    async with store.unit_of_work() as session:  # the chair admits Priya
        case = await session.scalar(select(Case).where(Case.number == number))
        case.admitted_person_ids = [demo.people["Priya"]]
    activity, action = press_in_channel(PRIYA, "case.action", case=number, **an_action(clock))
    answer, _, _ = await handle_card_action(activity, action, store, clock)
    assert answer["type"].endswith("adaptive"), answer
    assert await stored(store, PlannedAction) == 1


async def test_the_chair_may_name_the_contact_of_a_closed_panel_case(store, clock):
    _, number = await closed_panel_open(store, clock)
    activity, action = press_in_channel(CHRIS, "case.contact", case=number,
                                        victim_contact="Imogen")
    answer, _, _ = await handle_card_action(activity, action, store, clock)
    assert answer["type"].endswith("adaptive"), answer
    assert (await case_named(store, number)).victim_contact == "Imogen"


async def test_the_agenda_withholds_closed_panel_detail_and_meeting_actions(store, clock):
    demo = await started(store, clock)
    open_number, closed_number = demo.numbers[0], demo.numbers[1]
    async with store.unit_of_work() as session:
        cases = {c.number: c for c in (await session.scalars(select(Case))).all()}
        cases[closed_number].closed_panel = True
        for number, origin, text in (
                (open_number, ActionOrigin.PREPOPULATED, "Refer to the IDVA"),
                (open_number, ActionOrigin.MEETING, "Agreed in the meeting: a panic alarm"),
                (closed_number, ActionOrigin.PREPOPULATED, "Refuge at 4 Mill Street")):
            session.add(PlannedAction(case_id=cases[number].id, origin=origin,
                                      for_whom="victim", description=text))
    representative = Viewer(frozenset({Role.AGENCY_REPRESENTATIVE}), demo.people["Priya"])
    chair = Viewer(frozenset({Role.CHAIR}), demo.chair)
    async with store.unit_of_work() as session:
        seen = {line.case_number: line for line in (
            await next_agenda(session, demo.marac_id, clock.now(), representative)).lines}
        by_chair = {line.case_number: line for line in (
            await next_agenda(session, demo.marac_id, clock.now(), chair)).lines}
    assert [a.description for a in seen[open_number].actions] == ["Refer to the IDVA"]
    assert seen[closed_number].withheld and seen[closed_number].actions == ()
    assert [a.description for a in by_chair[closed_number].actions] == [
        "Refuge at 4 Mill Street"]
