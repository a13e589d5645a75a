"""Agencies own their actions (issue 13, finding 6): a representative agrees actions for their
own agency only; the chair and the coordinator for any agency present at the meeting or that
sent research on the case. A refusal is one sentence and stores nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from dialogs import case_work
from storage.models import Case, PlannedAction
from tests.store.meeting_factory import next_case, started
from tests.store.test_closed_panel import CHRIS, PRIYA, an_action, press_in_channel
from tests.turns import handle_card_action


async def actions(store) -> list[str]:
    async with store.unit_of_work() as session:
        return list((await session.scalars(select(PlannedAction.owner).order_by(
            PlannedAction.id))).all())


async def press(store, clock, person, number, **fields):
    activity, action = press_in_channel(person, "case.action", case=number,
                                        **an_action(clock, **fields))
    answer, _, _ = await handle_card_action(activity, action, store, clock)
    return answer


async def test_a_representative_agrees_actions_for_their_own_agency_only(store, clock):
    await started(store, clock)
    _, number = await next_case(store, clock)
    answer = await press(store, clock, PRIYA, number, agency="Housing", owner="Hannah")
    assert answer["value"] == ("You can agree actions for your own agency only; Housing's "
                               "representative, the chair or the coordinator agrees its "
                               "actions.")
    assert await actions(store) == []
    answer = await press(store, clock, PRIYA, number, agency="Police", owner="Priya")
    assert answer["type"].endswith("adaptive")
    assert await actions(store) == ["Priya"]


async def test_the_chair_agrees_for_agencies_present_or_sending_research(store, clock):
    demo = await started(store, clock)
    _, number = await next_case(store, clock)
    answer = await press(store, clock, CHRIS, number, agency="Housing", owner="Hannah")
    assert answer["value"] == (f"Housing is not at this meeting and sent no research on "
                               f"{number}, so no action can be agreed for it.")
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == number))
        await case_work.add_information(session, case, demo.agencies["Housing"],
                                        "Tenancy flagged.", False, None, clock.now())
    answer = await press(store, clock, CHRIS, number, agency="Housing", owner="Hannah")
    assert answer["type"].endswith("adaptive")
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(PlannedAction)) == 1
