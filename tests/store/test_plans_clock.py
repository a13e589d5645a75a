"""The 48-hour clock (../shared/MARAC.md, "After the meeting"), with the clock moved instead of
slept: a plan still undelivered 36 hours after the meeting alerts the coordinators, at 48 hours
the operations manager, each once, across a restart; a delivery that fails for good is
reported to the coordinators once; `dissemination` shows sent, pending, failed and withheld
against the time left."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from dialogs import dissemination
from storage.database import Store
from storage.models import MailMessage, OutboxMessage
from tests.store.meeting_factory import next_case
from tests.store.plan_factory import (
    add_mailbox,
    deliveries,
    dissemination_of,
    end_meeting,
    heard,
    outbox,
    recipients,
    tick,
)

HOUR = timedelta(hours=1)


async def meeting_ended(store, clock, **options):
    h = await heard(store, clock, **options)
    await tick(store, clock)
    clock.set(clock.now() + timedelta(minutes=40))
    ended = await end_meeting(store, clock)
    await tick(store, clock)
    return h, ended


async def alerts(store) -> tuple[list[str], list[str]]:
    return (await recipients(store, "dissemination 36h"),
            await recipients(store, "dissemination 48h"))


async def test_undelivered_plans_alert_the_coordinator_at_36_hours_and_the_manager_at_48(
        store, clock, database_url):
    h, ended = await meeting_ended(store, clock)
    clock.set(ended + 36 * HOUR - timedelta(minutes=1))
    await tick(store, clock)
    assert await alerts(store) == ([], [])
    clock.set(ended + 36 * HOUR)
    await tick(store, clock)
    assert await alerts(store) == (["Cara"], [])
    (alert,) = await outbox(store, "dissemination 36h")
    assert "have still not reached every agency 36 hours" in alert.activity["text"]
    assert f"- {h.number}: not yet with " in alert.activity["text"]
    assert "Children's Social Care (pending)" in alert.activity["text"]
    assert "12 h 00 min left of 48" in alert.activity["text"]
    assert f"- {h.demo.numbers[1]}: not yet with " in alert.activity["text"]  # one message
    clock.set(ended + 40 * HOUR)
    await tick(store, clock)
    restarted = Store.from_url(database_url)  # a fresh bot process over the same database
    try:
        await tick(restarted, clock)
        assert await alerts(store) == (["Cara"], [])  # once, whatever the restarts
        clock.set(ended + 48 * HOUR)
        await tick(restarted, clock)
        await tick(restarted, clock)
    finally:
        await restarted.close()
    assert await alerts(store) == (["Cara"], ["Olu"])
    (late,) = await outbox(store, "dissemination 48h")
    assert "48 hours after the meeting" in late.activity["text"]
    assert "0 h 00 min past the 48-hour deadline" in late.activity["text"]
    clock.set(ended + 72 * HOUR)
    await tick(store, clock)
    assert await alerts(store) == (["Cara"], ["Olu"])


async def deliver_everything(store, clock) -> None:
    async with store.unit_of_work() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.purpose == "plan")
                              .values(delivered_at=clock.now()))
        await session.execute(update(MailMessage).values(delivered_at=clock.now()))


async def test_plans_delivered_in_time_raise_no_alert(store, clock):
    h = await heard(store, clock, close=False)
    await add_mailbox(store, h.demo.agencies["Health"], "marac@health.example.nhs.uk")
    await next_case(store, clock)
    await tick(store, clock)
    ended = await end_meeting(store, clock)
    await tick(store, clock)
    clock.set(ended + 2 * HOUR)
    await deliver_everything(store, clock)
    for hours in (36, 48, 60):
        clock.set(ended + hours * HOUR)
        await tick(store, clock)
    assert await alerts(store) == ([], [])


async def test_a_plan_the_meeting_has_not_ended_for_raises_no_alert(store, clock):
    await heard(store, clock)
    await tick(store, clock)
    clock.set(clock.now() + 72 * HOUR)  # the meeting was never ended: no clock runs
    await tick(store, clock)
    assert await alerts(store) == ([], [])


async def test_a_delivery_that_failed_for_good_is_reported_to_the_coordinator_once(store, clock):
    h, _ = await meeting_ended(store, clock)
    first = await dissemination_of(store, h.number)
    (sams,) = [d.outbox_id for d in await deliveries(store)
               if d.dissemination_id == first.id and d.person_id == h.demo.people["Sam"]]
    async with store.unit_of_work() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == sams)
            .values(failed_at=clock.now(), last_error="No Teams id is known for this person."))
    await tick(store, clock)
    await tick(store, clock)
    assert await recipients(store, "dissemination failed") == ["Cara"]
    (notice,) = await outbox(store, "dissemination failed")
    assert "Children's Social Care (Teams message to Sam)" in notice.activity["text"]
    assert "No Teams id is known" in notice.activity["text"]
    assert h.number in notice.activity["text"]


async def test_dissemination_shows_each_agency_and_the_time_left(store, clock):
    h, ended = await meeting_ended(store, clock)
    async with store.unit_of_work() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.purpose == "plan",
                                        OutboxMessage.person_id == h.demo.people["Priya"])
            .values(delivered_at=ended + HOUR))
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.purpose == "plan",
                                        OutboxMessage.person_id == h.demo.people["Sam"])
            .values(last_error="No Teams id is known for this person yet."))
    clock.set(ended + 10 * HOUR)
    async with store.unit_of_work() as session:
        states = await dissemination.status(session, h.demo.marac_id, clock.now())
    first = next(s for s in states if s.number == h.number)
    assert {a.agency: a.state for a in first.agencies} == {
        "Police": "delivered", "IDVA Service": "pending", "Children's Social Care": "pending",
        "Health": "failed", "Probation": "withheld"}
    assert (first.count("delivered"), first.count("pending"), first.count("failed"),
            first.count("withheld")) == (1, 2, 1, 1)
    assert first.deadline_at is not None and first.deadline_at - clock.now() == 38 * HOUR
    sam = next(a for a in first.agencies if a.agency == "Children's Social Care")
    assert sam.detail == "No Teams id is known for this person yet."
    assert first.delivered_at is None  # not every agency has it yet
