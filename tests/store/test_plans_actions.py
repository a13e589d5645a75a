"""Acknowledgement in chat and new information after the meeting (../shared/MARAC.md, "After
the meeting"): each owner gets their action's card; Acknowledge, Done (note) and Cannot
complete (reason required) are answered once each, the last telling the coordinator and the
operations manager and changing the plan; reminders at 2 working days unacknowledged and on the
due date fire once each, across a restart; `my actions`; an update that raises the risk tells
the referring agency to update children's services within 24 hours."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from dialogs import acknowledgement
from dialogs.acknowledgement import Verb
from dialogs.plan_updates import add_update
from dialogs.plans import NotEntitled, Plan, PlanError
from dialogs.working_days import WorkingCalendar
from storage.database import Store
from storage.models import ActionFollowUp, ActionStatus, Case, PlanUpdate, Role
from tests.store.plan_factory import (
    follow_up_of,
    heard,
    outbox,
    planned,
    press,
    recipients,
    tick,
    versions,
)
from tests.store.referral_factory import refer

LONDON = ZoneInfo("Europe/London")
REP = frozenset({Role.AGENCY_REPRESENTATIVE})


async def disseminated(store, clock, **options):
    h = await heard(store, clock, **options)
    await tick(store, clock)
    return h


async def answer(store, clock, h, owner: str, verb: Verb, text: str = "", by: str | None = None):
    follow_up = await follow_up_of(store, h.actions[owner])
    async with store.unit_of_work() as session:
        return await acknowledgement.answer(session, follow_up, h.demo.people[by or owner],
                                            verb, text, clock.now())


def refused(sentence: str, kind: type[Exception] = PlanError):
    return pytest.raises(kind, match=f"^{re.escape(sentence)}$")


async def test_each_owner_is_sent_their_own_actions_card(store, clock):
    await disseminated(store, clock)
    cards = await outbox(store, "action")
    assert await recipients(store, "action") == ["Imogen", "Priya"]  # Probation is withheld
    text = " ".join(str(m.activity) for m in cards)
    assert "action.acknowledge" in text and "action.cannot" in text


async def test_acknowledge_is_recorded_once(store, clock):
    h = await disseminated(store, clock)
    first = await answer(store, clock, h, "Priya", Verb.ACKNOWLEDGE)
    again = await answer(store, clock, h, "Priya", Verb.ACKNOWLEDGE)
    assert (first.changed, again.changed) == (True, False)
    assert first.action.status is ActionStatus.ACKNOWLEDGED
    assert first.version is None  # receipt, not a change to the plan
    assert len(await versions(store, h.number)) == 1


async def test_done_with_a_note_makes_a_new_version_saying_who_and_why(store, clock):
    h = await disseminated(store, clock)
    clock.set(clock.now() + timedelta(days=1))
    done = await answer(store, clock, h, "Priya", Verb.DONE, "Order served on Friday.")
    assert done.action.status is ActionStatus.DONE
    assert (await answer(store, clock, h, "Priya", Verb.DONE, "again")).changed is False
    first, second = await versions(store, h.number)
    assert second.changed_by_person_id == h.demo.people["Priya"]
    assert second.change == "Action done: Police safety step for the victim."
    assert second.reason == "Order served on Friday."
    statuses = [(a.agency, a.status, a.note) for a in Plan.from_json(second.content).actions]
    assert ("Police", "done", "Order served on Friday.") in statuses
    assert Plan.from_json(first.content).actions[0].status == "open"


async def test_cannot_complete_needs_a_reason_and_tells_coordinator_and_manager(store, clock):
    h = await disseminated(store, clock)
    with refused("Say why the action cannot be completed."):
        await answer(store, clock, h, "Imogen", Verb.CANNOT, "   ")
    answered = await answer(store, clock, h, "Imogen", Verb.CANNOT,
                            "The victim has moved out of area.")
    assert answered.action.status is ActionStatus.CANNOT_COMPLETE
    assert sorted(answered.tell) == sorted([h.demo.people["Cara"], h.demo.people["Olu"]])
    (_, second) = await versions(store, h.number)
    assert second.reason == "The victim has moved out of area."
    assert second.change.startswith("Action cannot be completed: IDVA Service")
    with refused("This action is already marked cannot be completed; ask the coordinator to "
                 "change the plan."):
        await answer(store, clock, h, "Imogen", Verb.DONE, "done after all")


async def test_the_cannot_complete_button_queues_the_notices(store, clock):
    h = await disseminated(store, clock)
    follow_up = await follow_up_of(store, h.actions["Imogen"])
    answer_body = await press(store, clock, h, "Imogen", "action.cannot",
                              {"follow_up": str(follow_up), "reason": "Moved out of area."})
    assert answer_body["type"] == "application/vnd.microsoft.card.adaptive"
    assert await recipients(store, "action cannot be completed") == ["Cara", "Olu"]
    (notice, _) = await outbox(store, "action cannot be completed")
    assert "Imogen says an action on" in notice.activity["text"]
    assert "Moved out of area." in notice.activity["text"]
    await press(store, clock, h, "Imogen", "action.cannot",
                {"follow_up": str(follow_up), "reason": "Moved out of area."})
    assert len(await outbox(store, "action cannot be completed")) == 2  # not told twice


async def test_only_the_owner_their_agency_or_the_coordinator_may_answer(store, clock):
    h = await disseminated(store, clock)
    with refused("Only the action's owner, their agency or the coordinator can answer for "
                 "this action.", NotEntitled):
        await answer(store, clock, h, "Priya", Verb.DONE, by="Imogen")
    follow_up = await follow_up_of(store, h.actions["Priya"])
    body = await press(store, clock, h, "Imogen", "action.done",
                       {"follow_up": str(follow_up), "note": "x"})
    assert body["type"] == "application/vnd.microsoft.activity.message"  # shows nothing
    assert (await answer(store, clock, h, "Priya", Verb.ACKNOWLEDGE, by="Cara")).changed


async def test_my_actions_lists_open_actions_across_cases(store, clock):
    h = await disseminated(store, clock)
    async with store.unit_of_work() as session:
        mine = await acknowledgement.open_actions(session, h.demo.people["Priya"])
    assert [(a.case_number, a.agency) for a in mine] == [(h.number, "Police")]
    await answer(store, clock, h, "Priya", Verb.DONE, "Served.")
    async with store.unit_of_work() as session:
        assert await acknowledgement.open_actions(session, h.demo.people["Priya"]) == []


# --- reminders ------------------------------------------------------------------------------

async def reminded(store) -> tuple[list[str], list[str]]:
    return (await recipients(store, "action acknowledge"), await recipients(store, "action due"))


async def test_unacknowledged_actions_are_reminded_after_two_working_days_once(
        store, clock, database_url):
    h = await disseminated(store, clock)
    async with store.unit_of_work() as session:
        sent = (await session.scalars(select(ActionFollowUp.card_sent_at))).first()
    assert sent is not None
    local = sent.astimezone(LONDON)
    due_day = WorkingCalendar().add(local.date(), 2)
    reminder_at = datetime.combine(due_day, local.time(), tzinfo=LONDON)
    await answer(store, clock, h, "Imogen", Verb.ACKNOWLEDGE)  # Imogen acknowledged in time
    clock.set(reminder_at - timedelta(minutes=1))
    await tick(store, clock)
    assert await reminded(store) == ([], [])
    clock.set(reminder_at)
    restarted = Store.from_url(database_url)
    try:
        await tick(restarted, clock)
        await tick(restarted, clock)
    finally:
        await restarted.close()
    await tick(store, clock)
    assert await reminded(store) == (["Priya"], [])


async def test_open_actions_are_reminded_on_their_due_date_once(store, clock):
    h = await disseminated(store, clock)
    action = await planned(store, h.actions["Priya"])
    assert action.due_on is not None
    await answer(store, clock, h, "Priya", Verb.ACKNOWLEDGE)
    await answer(store, clock, h, "Imogen", Verb.DONE, "Safety plan agreed.")
    nine = datetime.combine(action.due_on, time(9), tzinfo=LONDON)
    clock.set(nine - timedelta(minutes=1))
    await tick(store, clock)
    assert (await reminded(store))[1] == []
    clock.set(nine)
    await tick(store, clock)
    clock.set(nine + timedelta(days=3))
    await tick(store, clock)
    assert (await reminded(store))[1] == ["Priya"]  # Imogen's is done: no reminder
    (note,) = await outbox(store, "action due")
    assert "is due today" in note.activity["text"]


# --- new information after the meeting ------------------------------------------------------

async def add(store, clock, h, who: str, text: str, raised: bool, key: str = "k1",
              roles=REP):
    async with store.unit_of_work() as session:
        return await add_update(session, h.demo.marac_id, h.number, text, raised, roles,
                                h.demo.people[who], clock.now(), key)


async def test_an_update_that_raises_the_risk_tells_the_referring_agency(store, clock):
    h = await heard(store, clock, close=False)
    referral = await refer(store, clock, h.demo.marac_id)  # referred by the IDVA service
    async with store.unit_of_work() as session:
        await session.execute(update(Case).where(Case.number == h.number)
                              .values(referral_id=referral.id))
    from tests.store.meeting_factory import next_case

    await next_case(store, clock)
    await tick(store, clock)
    clock.set(clock.now() + timedelta(days=2))
    updated = await add(store, clock, h, "Priya", "He was seen outside her house.", True)
    assert updated.tell == (h.demo.people["Imogen"],) and updated.tell_is_referrer
    assert updated.children_services_by == clock.now() + timedelta(hours=24)
    (_, second) = await versions(store, h.number)
    assert (second.change, second.changed_by_person_id) == (
        "New information: the risk is raised.", h.demo.people["Priya"])
    (line,) = Plan.from_json(second.content).updates
    assert (line.by, line.text, line.risk_raised) == (
        "Priya (Police)", "He was seen outside her house.", True)
    again = await add(store, clock, h, "Priya", "He was seen outside her house.", True)
    assert again.repeated and len(await versions(store, h.number)) == 2


async def test_without_a_referring_agency_the_coordinator_is_told(store, clock):
    h = await disseminated(store, clock)
    updated = await add(store, clock, h, "Imogen", "New threats by text.", True)
    assert (updated.tell, updated.tell_is_referrer) == ((h.demo.people["Cara"],), False)
    plain = await add(store, clock, h, "Imogen", "She has a new phone.", False, key="k2")
    assert plain.tell == () and plain.children_services_by is None


async def test_updates_need_text_a_plan_and_an_entitled_person(store, clock):
    h = await heard(store, clock, close=False, probation_rep=True)
    with refused(f"{h.number} has no plan yet: updates are added after the meeting has "
                 "closed the case."):
        await add(store, clock, h, "Priya", "Too early.", False)
    from tests.store.meeting_factory import next_case

    await next_case(store, clock)
    await tick(store, clock)
    with refused("Write the new information."):
        await add(store, clock, h, "Priya", "  ", False)
    with pytest.raises(NotEntitled, match="has not signed"):
        await add(store, clock, h, "Pat", "Probation news.", True)
    async with store.unit_of_work() as session:
        assert (await session.scalars(select(PlanUpdate))).all() == []

