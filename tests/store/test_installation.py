"""Conversation references are stored for every install, and each conversation is welcomed
once, on SQLite and on PostgreSQL."""

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select

from dialogs.demo import DEMO_TEAM, seed_demo
from dialogs.installation import ConversationSeen, record_installation, record_removal
from storage.models import Conversation, ConversationKind


def channel(conversation_id: str = DEMO_TEAM, team_id: str | None = DEMO_TEAM,
            service_url: str = "https://smba.example/emea/") -> ConversationSeen:
    return ConversationSeen(
        conversation_id=conversation_id, kind=ConversationKind.CHANNEL, tenant_id="tenant",
        team_id=team_id, channel_id=conversation_id, service_url=service_url,
        reference_json=json.dumps({"conversation": {"id": conversation_id},
                                   "serviceUrl": service_url}),
    )


async def test_first_install_is_welcomed_and_linked_to_its_marac(store, clock):
    async with store.unit_of_work() as session:
        await seed_demo(session, clock.now())
    async with store.unit_of_work() as session:
        installed = await record_installation(session, channel(), clock.now())
    assert installed.should_welcome and installed.marac_id is not None
    async with store.unit_of_work() as session:
        stored = await session.scalar(select(Conversation))
    assert stored is not None
    assert stored.marac_id == installed.marac_id
    assert json.loads(stored.reference)["serviceUrl"] == "https://smba.example/emea/"
    assert stored.installed_at == clock.now()


async def test_a_conversation_outside_any_marac_is_recorded_without_one(store, clock):
    async with store.unit_of_work() as session:
        installed = await record_installation(session, channel("19:other", "19:other"),
                                              clock.now())
    assert installed.should_welcome and installed.marac_id is None


async def test_install_events_arriving_together_welcome_once(store, clock):
    async def install() -> bool:
        async with store.unit_of_work() as session:
            return (await record_installation(session, channel(), clock.now())).should_welcome

    welcomed = await asyncio.gather(*(install() for _ in range(5)))
    assert welcomed.count(True) == 1
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 1


async def test_a_new_service_url_replaces_the_old_one_without_a_second_welcome(store, clock):
    async with store.unit_of_work() as session:
        await record_installation(session, channel(), clock.now())
    async with store.unit_of_work() as session:
        again = await record_installation(session, channel(service_url="https://smba.example/uk/"),
                                          clock.now() + timedelta(days=1))
    assert not again.should_welcome
    async with store.unit_of_work() as session:
        stored = await session.scalar(select(Conversation))
    assert stored is not None and stored.service_url == "https://smba.example/uk/"


async def test_removed_then_added_again_is_welcomed_again(store, clock):
    async with store.unit_of_work() as session:
        await record_installation(session, channel(), clock.now())
    async with store.unit_of_work() as session:
        await record_removal(session, DEMO_TEAM, clock.now())
    async with store.unit_of_work() as session:
        again = await record_installation(session, channel(), clock.now())
    assert again.should_welcome
