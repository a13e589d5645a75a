"""bot.turns.access.context_of: who is acting, in which MARAC, with which roles, from one query;
the tenant check folded into it raises NotThisTenant."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import Activity
from sqlalchemy import select

from bot.teams.conversation import arrival_of
from bot.turns.access import NotThisTenant, context_of
from bot.turns.arrival import Arrival
from bot.turns.registry import Place, find
from dialogs.demo import DEMO_TEAM, DEMO_TENANT, seed_demo
from storage.models import Marac, Meeting, MeetingStatus, Person, Role

CARA = "0d3a1c00-0000-4000-8000-000000000001"
PRIYA = "0d3a1c00-0000-4000-8000-000000000004"


def _activity(aad: str, *, channel: bool = True, tenant: str = DEMO_TENANT,
              user_id: str = "user-id-3") -> Arrival:
    """Who is acting and from where, as bot.teams reads it from Teams' activity."""
    body: dict[str, Any] = {
        "type": "message", "id": "m1", "channelId": "msteams", "serviceUrl": "http://x/",
        "from": {"id": user_id, "aadObjectId": aad, "name": "Someone Else"},
        "recipient": {"id": "bot"},
        "conversation": ({"id": f"{DEMO_TEAM};messageid=1", "conversationType": "channel",
                          "tenantId": tenant} if channel else
                         {"id": "a-chat", "conversationType": "personal", "tenantId": tenant}),
        "channelData": {"tenant": {"id": tenant},
                        **({"team": {"id": DEMO_TEAM}} if channel else {})},
    }
    return arrival_of(Activity().deserialize(body))


async def test_roles_marac_stand_in_and_tenant(store, clock):
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
        marac_id = await session.scalar(select(Marac.id))
        priya = await session.scalar(select(Person).where(Person.aad_object_id == PRIYA))
        assert priya is not None

        channel = await context_of(session, _activity(PRIYA))
        assert channel.place is Place.CHANNEL and channel.marac_id == marac_id
        assert channel.actor.roles == {Role.AGENCY_REPRESENTATIVE, Role.TRIAGE_MEMBER}
        assert channel.actor.person_id == priya.id and channel.actor.first_name == "Priya"

        personal = await context_of(session, _activity(CARA, channel=False,
                                                       user_id="a-new-id"))
        assert personal.marac_id == marac_id and personal.actor.roles == {Role.COORDINATOR}
        cara = await session.scalar(select(Person).where(Person.aad_object_id == CARA))
        await session.refresh(cara)
        assert cara.teams_user_id == "a-new-id"  # learnt from the activity

        stranger = await context_of(session, _activity("nobody", channel=False))
        assert stranger.actor.person_id is None and stranger.actor.roles == frozenset()
        assert stranger.actor.first_name == "Someone" and stranger.marac_id is None

        meeting = await session.scalar(select(Meeting))
        meeting.status, meeting.conversation_id = MeetingStatus.RUNNING, DEMO_TEAM
        meeting.stand_in_person_id = priya.id
        await session.flush()
        assert Role.CHAIR in (await context_of(session, _activity(PRIYA))).actor.roles

        # `register` counts the roles held in any MARAC, even where the chat is none's.
        register = find("register")
        elsewhere = _activity(CARA, channel=False)
        assert (await context_of(session, elsewhere, register)).actor.roles == {
            Role.COORDINATOR}

        assert (await context_of(session, _activity(PRIYA), tenants=frozenset())).marac_id
        with pytest.raises(NotThisTenant):
            await context_of(session, _activity(PRIYA, tenant="another-tenant"),
                             tenants=frozenset())
        with pytest.raises(NotThisTenant):
            await context_of(session, _activity(PRIYA, tenant=""), tenants=frozenset())
        allowed = await context_of(session, _activity(PRIYA, tenant="another-tenant"),
                                   tenants=frozenset({"another-tenant"}))
        assert allowed.actor.person_id is None


async def test_a_message_is_first_delivered_once(store, clock):
    from dialogs.replay import first_delivery
    from storage.models import ProcessedMessage
    async with store.unit_of_work() as session:
        assert await first_delivery(session, "chat", "m1", clock.now())
        assert not await first_delivery(session, "chat", "m1", clock.now())
        assert await first_delivery(session, "chat", "m2", clock.now())
    async with store.unit_of_work() as session:
        stored = (await session.scalars(select(ProcessedMessage))).all()
        assert [(m.activity_id, m.at) for m in stored] == [("m1", clock.now()),
                                                          ("m2", clock.now())]
