"""A repeat hearing reviews the last plan (issue 17): the case view lists each of the earlier
hearing's actions with its outcome: done with its note, could not be done with its reason, or
not done; the earlier plan's copied lines are then not listed twice on the case card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cards.meeting import case_details_card
from dialogs import acknowledgement, case_work
from dialogs.acknowledgement import Verb
from dialogs.carry import carry
from dialogs.meeting import MeetingError, Slot
from storage.models import Case, CaseStatus, Referral, Role
from tests.store.plan_factory import follow_up_of, heard, tick
from tests.store.referral_factory import refer


async def answer(store, clock, h, owner: str, verb: Verb, text: str) -> None:
    follow_up = await follow_up_of(store, h.actions[owner])
    async with store.unit_of_work() as session:
        await acknowledgement.answer(session, follow_up, h.demo.people[owner], verb, text,
                                     clock.now())


async def repeat_of_the_first_case(store, clock, h) -> None:
    """The meeting's second case is a repeat of the first (heard and closed)."""
    earlier, repeat = (await refer(store, clock, h.demo.marac_id),
                       await refer(store, clock, h.demo.marac_id))
    async with store.unit_of_work() as session:
        await session.execute(update(Case).where(Case.number == h.number)
                              .values(referral_id=earlier.id))
        await session.execute(update(Case).where(Case.number == h.demo.numbers[1])
                              .values(referral_id=repeat.id))
        await session.execute(update(Referral).where(Referral.id == repeat.id)
                              .values(repeat_of_id=earlier.id))


async def test_the_repeat_hearings_case_view_shows_each_earlier_actions_outcome(store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    await answer(store, clock, h, "Imogen", Verb.DONE, "Safety plan agreed with Amy.")
    await answer(store, clock, h, "Priya", Verb.CANNOT, "Amy declined the marker.")
    await repeat_of_the_first_case(store, clock, h)
    clock.set(clock.now() + timedelta(minutes=20))
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == h.demo.numbers[1]))
        assert case is not None
        seen = await case_work.view(session, case, h.demo.marac_id)
    assert [(a.case_number, a.agency, a.shown) for a in seen.earlier] == [
        (h.number, "Police", "could not be done: Amy declined the marker."),
        (h.number, "IDVA Service", "done: Safety plan agreed with Amy."),
        (h.number, "Probation", "not done"),  # withheld from Probation: never followed up
    ]
    shown = str(case_details_card(seen, Slot(1200, 700)).to_dict())
    assert f"The last plan ({h.number})" in shown
    assert "could not be done: Amy declined the marker." in shown


async def test_a_first_hearing_has_no_earlier_plan_to_review(store, clock):
    h = await heard(store, clock, close=False)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == h.number))
        assert case is not None
        assert (await case_work.view(session, case, h.demo.marac_id)).earlier == ()


async def test_the_chair_carries_an_unfinished_action_into_the_new_plan_once(store, clock):
    h = await heard(store, clock)
    await tick(store, clock)
    await answer(store, clock, h, "Imogen", Verb.DONE, "Safety plan agreed with Amy.")
    await answer(store, clock, h, "Priya", Verb.CANNOT, "Amy declined the marker.")
    await repeat_of_the_first_case(store, clock, h)
    due = (clock.now().date() + timedelta(days=14)).isoformat()
    chair = frozenset({Role.CHAIR})
    for _ in range(2):  # the same press twice adds it once
        async with store.unit_of_work() as session:
            case = await session.scalar(select(Case).where(Case.number == h.demo.numbers[1]))
            assert case is not None and case.status is CaseStatus.OPEN
            carried = await carry(session, case, h.actions["Priya"], due, chair, h.demo.chair,
                                  clock.now().date())
    async with store.unit_of_work() as session:
        case = await session.get_one(Case, carried.case_id)
        seen = await case_work.view(session, case, h.demo.marac_id)
        with pytest.raises(MeetingError, match="was done"):
            await carry(session, case, h.actions["Imogen"], due, chair, h.demo.chair,
                        clock.now().date())
        with pytest.raises(MeetingError, match="not one of the last plan's"):
            await carry(session, case, carried.id, due, chair, h.demo.chair,
                        clock.now().date())
    assert [(a.agency, a.due_on.isoformat() if a.due_on else None) for a in seen.actions
            if not a.from_earlier_plan] == [("Police", due)]
    card = str(case_details_card(seen, Slot(1200, 700)).to_dict())
    assert "Carry into this plan: 1. Police" in card and "2. Probation" in card
    assert "Carry into this plan: 1. IDVA Service" not in card  # done: nothing to carry
