"""Cases are purged once the retention period after their meeting has passed, and the purge
is audited without repeating what was purged."""

from datetime import timedelta

from sqlalchemy import func, select

from dialogs.retention import purge_expired
from storage.models import AuditEvent, Case, PlannedAction, Referral
from tests.store.referral_factory import accept, card_payload, refer, seeded


async def count(store, model) -> int:
    async with store.unit_of_work() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_a_case_is_kept_for_the_retention_period_then_purged_and_audited(store, clock):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id, card_payload(yes=15))
    placement = (await accept(store, clock, marac_id, referral.id)).placement
    assert placement is not None
    heard = placement.meeting.starts_at

    clock.set(heard + timedelta(days=6 * 365 - 1))
    async with store.unit_of_work() as session:
        await purge_expired(session, clock.now())  # the demo's earlier meeting goes
    assert await count(store, Referral) == 1 and await count(store, Case) == 1

    clock.set(heard + timedelta(days=6 * 365 + 1))
    async with store.unit_of_work() as session:
        purged = await purge_expired(session, clock.now())
    assert purged and purged[0].referrals == 1
    assert await count(store, Referral) == 0
    assert await count(store, PlannedAction) == 0
    assert await count(store, Case) == 0  # the demo's cases too: their meeting is as old
    async with store.unit_of_work() as session:
        audit = (await session.scalars(select(AuditEvent))).all()
    assert [(a.action, a.aad_object_id) for a in audit] == [("purge", "system")] * 2
    assert all("Amy" not in a.detail for a in audit)


async def test_a_plans_delivered_message_outlives_the_outbox_purge_and_goes_with_its_case(
        store, clock):
    """A delivered plan message is the record of the plan's dissemination (the report's
    48 hours): the 30-day outbox purge keeps it (it was refused by the plan delivery's
    foreign key), and the case's own purge takes it."""
    from bot.proactive import outbox
    from storage.models import OutboxMessage, PlanDelivery
    from tests.store.plan_factory import end_meeting, heard, tick

    await heard(store, clock)
    await end_meeting(store, clock)
    await tick(store, clock)
    async with store.unit_of_work() as session:
        for message in await outbox.claim_due(session, clock.now()):
            outbox.settle(message, clock.now(), None)
    held = await count(store, PlanDelivery)
    assert held

    clock.set(clock.now() + timedelta(days=31))
    async with store.unit_of_work() as session:
        await purge_expired(session, clock.now())
    async with store.unit_of_work() as session:
        kept = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.id.in_(select(PlanDelivery.outbox_id))))
        assert kept and await session.scalar(select(func.count()).select_from(OutboxMessage)
                                             ) == kept  # the other messages went

    clock.set(clock.now() + timedelta(days=6 * 365))
    async with store.unit_of_work() as session:
        await purge_expired(session, clock.now())
    assert await count(store, PlanDelivery) == 0 and await count(store, OutboxMessage) == 0
