"""Who the case list goes to: the MARAC's representatives, chair and coordinator, but no one
whose agency has not signed the information sharing agreement (the case list names victims)."""

from __future__ import annotations

from sqlalchemy import select

from dialogs.circulation import case_list_due_at, claim_due_case_lists
from dialogs.demo import seed_demo
from storage.models import Agency, Marac, Meeting, Person, Role, RoleGrant


async def test_the_case_list_skips_agencies_without_the_sharing_agreement(store, clock):
    async with store.unit_of_work() as session:
        assert await seed_demo(session, clock.now())
        marac = await session.scalar(select(Marac))
        assert marac is not None
        probation = await session.scalar(select(Agency.id).where(Agency.name == "Probation"))
        pat = Person(tenant_id=marac.tenant_id,
                     aad_object_id="0d3a1c00-0000-4000-8000-000000000009",
                     first_name="Pat", agency_id=probation)
        pat.grants = [RoleGrant(marac_id=marac.id, role=Role.AGENCY_REPRESENTATIVE)]
        session.add(pat)
    async with store.unit_of_work() as session:
        marac = await session.scalar(select(Marac))
        meeting = await session.scalar(select(Meeting))
        assert marac is not None and meeting is not None
        (case_list,) = await claim_due_case_lists(session, case_list_due_at(marac, meeting))
        names = {p.id: p.first_name for p in (await session.scalars(select(Person))).all()}
    assert sorted(names[p] for p in case_list.recipients) == [
        "Cara", "Chris", "Imogen", "Priya", "Sam"]
