"""Children's services (HUB) follow-ups (issue 17; 001 §4, §6): on closing Amy's case the chair
records that the referring agency (IDVA Service) updates the HUB within 24 hours; Imogen, its
representative, is told. With no contact recorded, 2 working days later the children's
services representative (Sam) is prompted to chase, once, however often the timer runs; a
contact recorded in time means no chase. Each step is a version of the plan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dialogs import hub
from dialogs.hub import HubError
from dialogs.refusal import Refusal
from storage.database import Store
from storage.models import Case, Marac, Role
from tests.store.plan_factory import outbox, recipients, tick, versions
from tests.store.test_transfers import heard_with_referral

CHAIR = frozenset({Role.CHAIR})


async def recorded(store, clock, h, when: str = "24h"):
    async with store.unit_of_work() as session:
        return await hub.record(session, h.demo.marac_id, h.number, when, CHAIR,
                                h.demo.chair, clock.now())


async def two_working_days_on(store, clock) -> None:
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac).where(Marac.case_prefix == "RIV"))
        assert marac is not None
        due = hub.chase_at(marac, clock.now())
    clock.set(due - timedelta(minutes=1))
    await tick(store, clock)
    assert await recipients(store, "hub chase") == []  # not before its time
    clock.set(due)


async def test_no_contact_in_two_working_days_prompts_childrens_services_once(
        store, clock, database_url):
    h, _ = await heard_with_referral(store, clock)
    done = await recorded(store, clock, h)
    assert done.told == (h.demo.people["Imogen"],)
    assert done.follow_up.due_at == clock.now() + timedelta(hours=24)
    await two_working_days_on(store, clock)
    await tick(store, clock)
    assert await recipients(store, "hub chase") == ["Sam"]
    await tick(store, clock)
    restarted = Store.from_url(database_url)  # another process on the same database
    try:
        await tick(restarted, clock)
    finally:
        await restarted.engine.dispose()
    assert await recipients(store, "hub chase") == ["Sam"]  # once, across a restart
    changes = [v.change for v in await versions(store, h.number)]
    assert "within 24 hours" in changes[-2] and "prompted to chase IDVA Service" in changes[-1]


async def test_a_contact_recorded_in_time_means_no_chase(store, clock):
    h, _ = await heard_with_referral(store, clock)
    await recorded(store, clock, h, "3d")
    async with store.unit_of_work() as session:
        said = await hub.contacted(session, h.demo.marac_id, h.number,
                                   h.demo.people["Imogen"], clock.now())
    assert said.startswith("Recorded")
    await two_working_days_on(store, clock)
    await tick(store, clock)
    assert await recipients(store, "hub chase") == []
    changes = [v.change for v in await versions(store, h.number)]
    assert "within 3 days" in changes[-2] and "HUB) updated" in changes[-1]


async def test_no_update_needed_is_recorded_and_never_chased(store, clock):
    h, _ = await heard_with_referral(store, clock)
    done = await recorded(store, clock, h, "no")
    assert not done.follow_up.needed and done.told == ()
    clock.set(clock.now() + timedelta(days=10))
    await tick(store, clock)
    assert await recipients(store, "hub chase") == []


@pytest.mark.parametrize(("when", "roles", "case", "who"), [
    ("soon", CHAIR, 0, "Chris"),  # not 24h, 3d or no
    ("24h", frozenset({Role.COORDINATOR}), 0, "Chris"),  # only the chair
    ("24h", CHAIR, 1, "Chris"),  # a case not yet closed
])
async def test_refusals_change_nothing(store, clock, when, roles, case, who):
    h, _ = await heard_with_referral(store, clock)
    with pytest.raises(Refusal):
        async with store.unit_of_work() as session:
            await hub.record(session, h.demo.marac_id, h.demo.numbers[case], when, roles,
                             h.demo.people[who], clock.now())
    await recorded(store, clock, h)
    with pytest.raises(HubError, match="already recorded"):
        await recorded(store, clock, h)
    with pytest.raises(HubError, match="referring agency's representative"):
        async with store.unit_of_work() as session:
            await hub.contacted(session, h.demo.marac_id, h.number, h.demo.people["Priya"],
                                clock.now())
    async with store.unit_of_work() as session:
        closed = await session.scalar(select(Case).where(Case.number == h.number))
        assert closed is not None
    assert len(await outbox(store, "hub chase")) == 0
