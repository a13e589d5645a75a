"""A coordinator registers a channel or chat as their MARAC's; the bot then keeps its
reference and welcomes it once. Registering somewhere that is another MARAC's, or outside the
MARAC's organisation, is refused and changes nothing. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dialogs.demo import DEMO_MARAC, DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT, seed_demo
from dialogs.installation import ConversationSeen
from dialogs.registration import RegistrationError, choose, coordinated_by, register
from storage.models import Conversation, ConversationKind, Marac, Person

GROUP_CHAT = "19:a1b2c3@thread.v2"


def chat(conversation_id: str = GROUP_CHAT, tenant_id: str = DEMO_TENANT,
         team_id: str | None = None) -> ConversationSeen:
    kind = ConversationKind.CHANNEL if team_id else ConversationKind.GROUP_CHAT
    return ConversationSeen(conversation_id, kind, tenant_id, team_id, team_id and
                            conversation_id.split(";")[0], "https://smba.example/emea/",
                            json.dumps({"conversation": {"id": conversation_id}}))


@pytest.fixture
async def riverside(store, clock) -> int:
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
        hillside = Marac(name="Hillside MARAC", area="Hillside", tenant_id=DEMO_TENANT,
                         team_id="19:hillside@thread.tacv2")
        session.add(hillside)
        return await session.scalar(select(Marac.id).where(Marac.name == DEMO_MARAC))


async def marac_named(session, name: str) -> Marac:
    return await session.scalar(select(Marac).where(Marac.name == name))


async def stored(store) -> dict[str, int | None]:
    async with store.unit_of_work() as session:
        return {c.conversation_id: c.marac_id
                for c in (await session.scalars(select(Conversation))).all()}


async def test_a_registered_chat_is_kept_and_welcomed_once(store, clock, riverside):
    for welcomed in (True, False):
        async with store.unit_of_work() as session:
            done = await register(session, chat(), await marac_named(session, DEMO_MARAC),
                                  clock.now())
        assert done.marac_name == DEMO_MARAC
        assert done.installation.should_welcome is welcomed
    assert await stored(store) == {GROUP_CHAT: riverside}


async def test_a_channel_of_a_new_team_binds_the_team(store, clock, riverside):
    async with store.unit_of_work() as session:
        marac = await marac_named(session, DEMO_MARAC)
        marac.team_id = None  # the MARAC has moved to a team of its own
    team = "19:riverside-new@thread.tacv2"
    async with store.unit_of_work() as session:
        await register(session, chat(f"{team};messageid=17", team_id=team),
                       await marac_named(session, DEMO_MARAC), clock.now())
    async with store.unit_of_work() as session:
        assert (await marac_named(session, DEMO_MARAC)).team_id == team
    assert await stored(store) == {team: riverside}  # the channel, not the message thread


@pytest.mark.parametrize(("where", "why"), [
    (chat("19:hillside@thread.tacv2", team_id="19:hillside@thread.tacv2"),
     "This team is already the Hillside MARAC's."),
    (chat("19:elsewhere@thread.tacv2", team_id="19:elsewhere@thread.tacv2"),
     "The Riverside MARAC already runs in another team; a MARAC has one team."),
    (chat(tenant_id="another-tenant"),
     "This conversation is outside the Riverside MARAC's organisation."),
], ids=["another MARAC's team", "a second team", "another tenant"])
async def test_registering_where_the_marac_may_not_be_is_refused(store, clock, riverside,
                                                                  where, why):
    async with store.unit_of_work() as session:
        with pytest.raises(RegistrationError) as refused:
            await register(session, where, await marac_named(session, DEMO_MARAC),
                           clock.now())
    assert str(refused.value) == why
    assert await stored(store) == {}
    async with store.unit_of_work() as session:
        assert (await marac_named(session, DEMO_MARAC)).team_id == DEMO_TEAM


async def test_a_chat_of_another_marac_stays_its(store, clock, riverside):
    async with store.unit_of_work() as session:
        await register(session, chat(), await marac_named(session, "Hillside MARAC"),
                       clock.now())
    async with store.unit_of_work() as session:
        with pytest.raises(RegistrationError, match="already registered to another MARAC"):
            await register(session, chat(), await marac_named(session, DEMO_MARAC),
                           clock.now())
    assert list((await stored(store)).values()) != [riverside]


async def test_a_coordinator_of_several_maracs_names_the_one_meant(store, clock, riverside):
    async with store.unit_of_work() as session:
        cara = await session.scalar(select(Person).where(
            Person.aad_object_id == DEMO_PEOPLE[0].aad_object_id))
        maracs = await coordinated_by(session, cara.id)
        assert [m.name for m in maracs] == [DEMO_MARAC]
        assert choose(maracs, "").name == DEMO_MARAC
        hillside = await marac_named(session, "Hillside MARAC")
        both = [hillside, *maracs]
        assert choose(both, "riverside marac").name == DEMO_MARAC
        with pytest.raises(RegistrationError, match="several MARACs.*register Hillside MARAC"):
            choose(both, "")
        with pytest.raises(RegistrationError, match="You do not coordinate a MARAC called"):
            choose(both, "Lakeside MARAC")
