"""Actions that slip (issue 17): an action still open 2 working days after its due date is
escalated to the coordinator, and after 5 to the operations manager, once each, across a
restart; an action done in time, or one that cannot be completed, is not escalated; a closed
panel's action reaches only those admitted to it, or the chair."""

from __future__ import annotations

from datetime import datetime, timedelta

from dialogs import acknowledgement
from dialogs.acknowledgement import Verb
from dialogs.overdue import escalate_at
from storage.database import Store
from storage.models import Marac
from tests.store.plan_factory import follow_up_of, heard, outbox, planned, recipients, tick

MINUTE = timedelta(minutes=1)


async def disseminated(store, clock, **options):
    h = await heard(store, clock, **options)
    await tick(store, clock)
    return h


async def answer(store, clock, h, owner: str, verb: Verb, text: str = ""):
    follow_up = await follow_up_of(store, h.actions[owner])
    async with store.unit_of_work() as session:
        await acknowledgement.answer(session, follow_up, h.demo.people[owner], verb, text,
                                     clock.now())


async def when(store, h, owner: str, working_days: int) -> datetime:
    action = await planned(store, h.actions[owner])
    assert action.due_on is not None
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, h.demo.marac_id)
        return escalate_at(marac, action.due_on, working_days)


async def escalated(store) -> tuple[list[str], list[str]]:
    return (await recipients(store, "action overdue 2d"),
            await recipients(store, "action overdue 5d"))


async def restarted_ticks(database_url: str, clock, times: int = 2) -> None:
    """The bot restarted (a second Store on the same database) running the timer again."""
    again = Store.from_url(database_url)
    try:
        for _ in range(times):
            await tick(again, clock)
    finally:
        await again.close()


async def test_an_open_action_goes_to_the_coordinator_at_two_working_days_once(
        store, clock, database_url):
    h = await disseminated(store, clock)
    await answer(store, clock, h, "Imogen", Verb.DONE, "Safety plan agreed.")
    await answer(store, clock, h, "Priya", Verb.ACKNOWLEDGE)  # acknowledged, still open
    two = await when(store, h, "Priya", 2)
    assert two.weekday() < 5 and two.hour == 9
    clock.set(two - MINUTE)
    await tick(store, clock)
    assert await escalated(store) == ([], [])
    clock.set(two)
    await restarted_ticks(database_url, clock)
    await tick(store, clock)
    assert await escalated(store) == (["Cara"], [])  # Imogen's is done: not escalated
    (note,) = await outbox(store, "action overdue 2d")
    text = note.activity["text"]
    assert h.number in text and "still open 2 working days" in text and "Police" in text


async def test_the_operations_manager_is_told_at_five_working_days_once(
        store, clock, database_url):
    h = await disseminated(store, clock)
    clock.set(await when(store, h, "Priya", 2))
    await tick(store, clock)
    five = await when(store, h, "Priya", 5)
    clock.set(five - MINUTE)
    await tick(store, clock)
    assert (await escalated(store))[1] == []
    clock.set(five)
    await restarted_ticks(database_url, clock)
    clock.set(five + timedelta(days=10))
    await tick(store, clock)
    assert await escalated(store) == (["Cara", "Cara"], ["Olu", "Olu"])  # two open actions
    note = (await outbox(store, "action overdue 5d"))[0]
    assert "decide on follow-up" in note.activity["text"]


async def test_a_timer_that_was_down_sends_both_escalations_once(store, clock, database_url):
    h = await disseminated(store, clock)
    await answer(store, clock, h, "Imogen", Verb.DONE, "Safety plan agreed.")
    clock.set(await when(store, h, "Priya", 5) + timedelta(days=1))
    await restarted_ticks(database_url, clock, times=3)
    assert await escalated(store) == (["Cara"], ["Olu"])


async def test_an_action_that_cannot_be_completed_is_not_escalated(store, clock):
    h = await disseminated(store, clock)
    await answer(store, clock, h, "Priya", Verb.CANNOT, "The victim has moved away.")
    await answer(store, clock, h, "Imogen", Verb.DONE, "Safety plan agreed.")
    clock.set(await when(store, h, "Priya", 5))
    await tick(store, clock)
    assert await escalated(store) == ([], [])


async def test_a_closed_panels_action_goes_to_the_chair_when_no_coordinator_is_admitted(
        store, clock):
    h = await disseminated(store, clock, closed_panel=True, admitted=("Priya", "Imogen"))
    clock.set(await when(store, h, "Priya", 5))
    await tick(store, clock)
    coordinators, managers = await escalated(store)
    assert set(coordinators) == {"Chris"} and set(managers) == {"Chris"}
