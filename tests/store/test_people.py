"""Roles per MARAC: granted and revoked by the coordinator, never leaving a MARAC without
one; and a case's audit trail for the operations manager."""

import pytest
from sqlalchemy import select

from dialogs import people
from dialogs.actor import identify
from dialogs.audit import Where, record
from dialogs.demo import DEMO_PEOPLE, DEMO_TENANT, seed_demo
from storage.models import Marac, Role


async def seeded(store, clock) -> int:
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
        marac_id = await session.scalar(select(Marac.id))
        assert marac_id is not None
        return marac_id


async def test_grant_and_revoke_change_what_someone_may_do(store, clock):
    marac_id = await seeded(store, clock)
    owen = DEMO_PEOPLE[6]
    async with store.unit_of_work() as session:
        person = await people.person_named(session, marac_id, "owen")
        assert await people.grant(session, marac_id, person, people.parse_role("chair"))
        assert not await people.grant(session, marac_id, person, Role.CHAIR)
    async with store.unit_of_work() as session:
        actor = await identify(session, tenant_id=DEMO_TENANT,
                               aad_object_id=owen.aad_object_id, display_name="Owen",
                               marac_id=marac_id)
        assert actor.roles == {Role.OBSERVER, Role.CHAIR}
        person = await people.person_named(session, marac_id, "Owen")
        assert await people.revoke(session, marac_id, person, Role.CHAIR)
    async with store.unit_of_work() as session:
        listed = {m.first_name: m.roles for m in await people.members(session, marac_id)}
    assert listed["Owen"] == (Role.OBSERVER,)


async def test_the_last_coordinator_cannot_be_revoked(store, clock):
    marac_id = await seeded(store, clock)
    with pytest.raises(people.PeopleError, match="keeps at least one coordinator"):
        async with store.unit_of_work() as session:
            cara = await people.person_named(session, marac_id, "Cara")
            await people.revoke(session, marac_id, cara, Role.COORDINATOR)


@pytest.mark.parametrize(("word", "sentence"), [
    ("king", "'king' is not a role"), ("chair Nobody", None)])
async def test_unknown_roles_and_people_are_refused_in_a_sentence(store, clock, word, sentence):
    marac_id = await seeded(store, clock)
    async with store.unit_of_work() as session:
        if sentence:
            with pytest.raises(people.PeopleError, match=sentence):
                people.parse_role(word)
        else:
            with pytest.raises(people.PeopleError, match="'Nobody' matches 0"):
                await people.person_named(session, marac_id, "Nobody")


async def test_the_audit_trail_of_a_case_names_who_did_what(store, clock):
    marac_id = await seeded(store, clock)
    async with store.unit_of_work() as session:
        cara = await identify(session, tenant_id=DEMO_TENANT,
                              aad_object_id=DEMO_PEOPLE[0].aad_object_id, display_name="Cara",
                              marac_id=marac_id)
        where = Where(marac_id, "channel", "19:x")
        record(session, cara, where, "case.view", clock.now(), subject="RIV-2026-001")
        record(session, cara, where, "next", clock.now(), subject="RIV-2026-001",
               refused="Only a chair of this MARAC can use 'next'.")
        record(session, cara, where, "case.view", clock.now(), subject="RIV-2026-002")
    async with store.unit_of_work() as session:
        trail = await people.audit_of(session, marac_id, "RIV-2026-001")
    assert [(e.action, e.outcome, e.who) for e in trail] == [
        ("next", "refused", "Cara"), ("case.view", "done", "Cara")]
