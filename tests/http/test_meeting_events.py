"""Teams' own meeting events, over HTTP through /api/messages and botbuilder's real connector
client to a local connector (the Playground has no meeting surface): the Teams meeting
starting opens the MARAC meeting in its chat; its end with the MARAC meeting still open
reminds the chair privately, once; someone joining its call shows on the attendance card as
joined, not yet confirmed, until they confirm."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import Settings
from bot.proactive.timers import Timers
from bot.teams.app import create_adapter, create_app
from dialogs.demo import DEMO_PEOPLE, DEMO_TENANT
from dialogs.installation import ConversationSeen
from dialogs.registration import register
from storage.models import ConversationKind, Marac, Meeting, MeetingStatus, OutboxMessage
from tests.http.test_meeting_timers import UpdatingConnector
from tests.store.meeting_factory import Demo, seed

MEETING_CHAT = "19:meeting_riverside@thread.v2"
PEOPLE = {p.full_name.split()[0]: p for p in DEMO_PEOPLE}


@pytest.fixture
async def connector() -> AsyncIterator[tuple[UpdatingConnector, str]]:
    fake = UpdatingConnector()
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


@pytest.fixture
async def demo(store, clock, connector) -> Demo:
    """The demo MARAC, its Teams meeting's chat registered as its own."""
    _, service_url = connector
    demo = await seed(store, clock)
    reference = {"bot": {"id": "28:marac-bot"}, "conversation": {"id": MEETING_CHAT},
                 "serviceUrl": service_url, "channelId": "msteams"}
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, demo.marac_id)
        await register(session, ConversationSeen(
            MEETING_CHAT, ConversationKind.MEETING, DEMO_TENANT, None, None, service_url,
            json.dumps(reference)), marac, clock.now())
    return demo


@pytest.fixture
async def bot(store, clock, demo) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(Settings(timer_seconds=0), store, clock)))
    await client.start_server()
    yield client
    await client.close()


def event(service_url: str, name: str, value: dict[str, Any], who: str = "Chris"
          ) -> dict[str, Any]:
    return {
        "type": "event", "name": name, "value": value, "channelId": "msteams", "id": name,
        "serviceUrl": service_url,
        "from": {"id": PEOPLE[who].teams_user_id, "aadObjectId": PEOPLE[who].aad_object_id},
        "recipient": {"id": "28:marac-bot"},
        "conversation": {"id": MEETING_CHAT, "conversationType": "groupChat",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}, "meeting": {"id": "MCMeetingId"}},
    }


def started(service_url: str) -> dict[str, Any]:
    return event(service_url, "application/vnd.microsoft.meetingStart", {
        "Id": "MCMeetingId", "MeetingType": "Scheduled", "JoinUrl": "https://teams.example/j",
        "Title": "Riverside MARAC", "StartTime": "2026-12-02T09:30:00Z"})


def ended(service_url: str) -> dict[str, Any]:
    return event(service_url, "application/vnd.microsoft.meetingEnd", {
        "Id": "MCMeetingId", "MeetingType": "Scheduled", "JoinUrl": "https://teams.example/j",
        "Title": "Riverside MARAC", "EndTime": "2026-12-02T11:30:00Z"})


def joined(service_url: str, *who: str) -> dict[str, Any]:
    return event(service_url, "application/vnd.microsoft.meetingParticipantJoin", {
        "members": [{"user": {"id": PEOPLE[w].teams_user_id, "name": PEOPLE[w].full_name,
                              "aadObjectId": PEOPLE[w].aad_object_id, "tenantId": DEMO_TENANT},
                     "meeting": {"inMeeting": True, "role": "Attendee"}} for w in who]})


async def post(client: TestClient, activity: dict[str, Any]) -> None:
    response = await client.post("/api/messages", json=activity)
    assert response.status in (200, 201), await response.text()


def texts_of(activity: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)
    walk(activity.get("attachments"))
    return found


async def meeting_of(store, demo: Demo) -> Meeting:
    async with store.unit_of_work() as session:
        return await session.get_one(Meeting, demo.meeting_id)


async def test_the_teams_meeting_starting_opens_the_marac_meeting_in_its_chat(
        store, demo, bot, connector):
    fake, service_url = connector
    await post(bot, started(service_url))
    meeting = await meeting_of(store, demo)
    assert (meeting.status, meeting.conversation_id) == (MeetingStatus.RUNNING, MEETING_CHAT)
    assert meeting.teams_meeting_id == "MCMeetingId"  # its notifications are addressed to it
    agenda, attendance, opened = fake.sent
    assert {a["conversation_id"] for a in fake.sent} == {MEETING_CHAT}
    assert texts_of(attendance)[0] == "Riverside MARAC: attendance"
    assert opened["text"].startswith("The meeting is open.")
    await post(bot, started(service_url))  # Teams says it again: nothing is posted twice
    assert len(fake.sent) == 3 + 1 and fake.sent[-1]["text"] == (
        "The meeting is already running here.")


async def test_the_teams_meeting_ending_reminds_the_chair_once(store, clock, demo, bot,
                                                                 connector):
    fake, service_url = connector
    await post(bot, started(service_url))
    before = len(fake.sent)
    for _ in range(2):  # Teams may send the end twice
        await post(bot, ended(service_url))
    assert len(fake.sent) == before  # nothing said in the meeting chat
    await Timers(store, create_adapter(Settings()), clock, app_id="").deliver()
    async with store.unit_of_work() as session:
        reminders = (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.purpose == "meeting not ended"))).all()
    assert [m.person_id for m in reminders] == [demo.chair]
    (opened,) = fake.opened
    assert opened["members"] == [{"id": PEOPLE["Chris"].teams_user_id}]
    (reminder,) = fake.sent[before:]
    assert reminder["summary"] == "MARAC meeting still open"
    assert "type **end** there" in reminder["text"]


async def test_the_teams_meeting_ending_after_the_marac_meeting_says_nothing(
        store, clock, demo, bot, connector):
    fake, service_url = connector
    await post(bot, ended(service_url))  # no MARAC meeting was ever open here
    async with store.unit_of_work() as session:
        assert not (await session.scalars(select(OutboxMessage))).all()
    assert not fake.sent


async def test_a_participant_joining_shows_as_joined_not_yet_confirmed(store, demo, bot,
                                                                        connector):
    fake, service_url = connector
    await post(bot, started(service_url))
    attendance_id = (await meeting_of(store, demo)).attendance_message_id
    assert attendance_id
    await post(bot, joined(service_url, "Priya", "Imogen"))
    (updated,) = fake.updated
    assert updated["activity_id"] == attendance_id
    assert "Joined, not yet confirmed: Priya, Imogen" in texts_of(updated)
    assert updated["summary"] == "Attendance"
    await post(bot, joined(service_url, "Priya"))  # already shown: the card is left alone
    assert len(fake.updated) == 1

    # Priya confirms: she moves from joined to present.
    response = await bot.post("/api/messages", json={
        **event(service_url, "", {}, who="Priya"), "type": "invoke",
        "name": "adaptiveCard/action", "replyToId": attendance_id,
        "value": {"action": {"type": "Action.Execute", "verb": "attendance.confirm",
                             "data": {"role": "agency_representative", "agency": "Police"}}}})
    assert response.status == 200, await response.text()
    latest = texts_of(fake.updated[-1])
    assert "Joined, not yet confirmed: Imogen" in latest, latest


async def test_a_join_event_teams_garbled_changes_nothing(store, demo, bot, connector):
    fake, service_url = connector
    await post(bot, started(service_url))
    await post(bot, event(service_url, "application/vnd.microsoft.meetingParticipantJoin",
                          {"members": "everyone"}))
    assert not fake.updated
