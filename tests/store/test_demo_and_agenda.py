"""The demo MARAC, and the agenda anyone in its channel can see."""

import itertools
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dialogs.actor import identify
from dialogs.agenda import next_agenda
from dialogs.demo import DEMO_PEOPLE, DEMO_TENANT, WESTBROOK_MARAC, WESTBROOK_PEOPLE, seed_demo
from storage.models import Marac, Person, Role, RoleGrant


async def test_demo_seeds_every_role_once(store, clock):
    async with store.unit_of_work() as session:
        assert await seed_demo(session, clock.now())
    async with store.unit_of_work() as session:
        assert not await seed_demo(session, clock.now())
    async with store.unit_of_work() as session:
        roles = set((await session.scalars(select(RoleGrant.role))).all())
        people = await session.scalar(select(func.count()).select_from(Person))
        second = await session.scalar(select(Marac.id).where(Marac.name == WESTBROOK_MARAC))
    assert roles == set(Role)
    assert people == len(DEMO_PEOPLE) + len(WESTBROOK_PEOPLE)  # Riverside's, and Westbrook's
    assert second is not None


async def test_agenda_lists_cases_in_slot_order_twenty_minutes_apart(store, clock):
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
        marac_id = await session.scalar(select(Marac.id))
        assert marac_id is not None
        agenda = await next_agenda(session, marac_id, clock.now())
    assert agenda.meeting_starts_at is not None
    local = agenda.meeting_starts_at.astimezone(ZoneInfo("Europe/London"))
    assert (local.weekday(), local.hour, local.minute) == (2, 9, 30)  # Wednesday 09:30
    assert [line.first_name for line in agenda.lines] == ["Amy", "Bethan", "Chloe", "Dina"]
    gaps = {b.starts_at - a.starts_at for a, b in itertools.pairwise(agenda.lines)}
    assert gaps == {timedelta(minutes=20)}


async def test_roles_come_from_the_store_for_the_marac_in_view(store, clock):
    coordinator = DEMO_PEOPLE[0]
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
        marac_id = await session.scalar(select(Marac.id))
        here = await identify(session, tenant_id=DEMO_TENANT,
                              aad_object_id=coordinator.aad_object_id,
                              display_name="Cara Okafor", marac_id=marac_id)
        elsewhere = await identify(session, tenant_id=DEMO_TENANT,
                                   aad_object_id=coordinator.aad_object_id,
                                   display_name="Cara Okafor", marac_id=None)
        other_tenant = await identify(session, tenant_id="another-tenant",
                                      aad_object_id=coordinator.aad_object_id,
                                      display_name="Cara Okafor", marac_id=marac_id)
    assert here.roles == {Role.COORDINATOR}
    assert elsewhere.roles == frozenset()
    assert other_tenant.roles == frozenset() and not other_tenant.is_known
