"""Slot warnings in a Teams meeting's chat also pop up over the meeting: the message the bot
sends through botbuilder's real connector client carries Teams' in-meeting notification, whose
bubble opens a page the bot serves. The Playground has no meeting surface, so a local
connector stands in for Teams here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.config import Settings
from bot.proactive.timers import Timers
from bot.teams.app import create_adapter, create_app
from bot.teams.meeting_notice import MeetingNotice
from dialogs.demo import DEMO_TENANT
from dialogs.installation import ConversationSeen, record_installation
from storage.models import ConversationKind, Meeting, Person
from tests.http.test_meeting_timers import (
    UpdatingConnector,
    connector,  # noqa: F401  (a fixture)
)
from tests.store.meeting_factory import next_case, started

MEETING_CHAT = "19:meeting_riverside@thread.v2"
APP_ID = "5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5"
NOTICE = MeetingNotice(APP_ID, "https://marac.example.gov.uk")
TEAMS_MEETING = "MCMxOTptZWV0aW5nX3JpdmVyc2lkZUB0aHJlYWQudjI="  # Teams' id of the meeting


async def run_in(store, clock, service_url: str, kind: ConversationKind) -> None:
    """The demo meeting, run in a conversation of the given kind, its first case open."""
    demo = await started(store, clock, slot_seconds=60, warning_seconds=20)
    await next_case(store, clock)
    async with store.unit_of_work() as session:
        reference = {"bot": {"id": "28:marac-bot"}, "conversation": {"id": MEETING_CHAT},
                     "serviceUrl": service_url, "channelId": "msteams"}
        await record_installation(session, ConversationSeen(
            MEETING_CHAT, kind, DEMO_TENANT, None, None, service_url, json.dumps(reference)),
            clock.now())
        await session.execute(update(Meeting).where(Meeting.id == demo.meeting_id)
                              .values(conversation_id=MEETING_CHAT))


async def warn(store, clock) -> None:
    timers = Timers(store, create_adapter(Settings()), clock, app_id="")
    timers.meeting_notice = NOTICE
    clock.set(clock.now() + timedelta(seconds=41))
    await timers.tick()


async def test_a_warning_in_a_meeting_chat_pops_up_over_the_meeting(store, clock, connector):  # noqa: F811
    fake, service_url = connector
    await run_in(store, clock, service_url, ConversationKind.MEETING)
    await warn(store, clock)
    [warning] = fake.sent
    assert warning["conversation_id"] == MEETING_CHAT
    assert warning["text"] == "RIV-2026-001: 19 seconds of the slot remain."
    notification = warning["channelData"]["notification"]
    assert notification["alertInMeeting"] is True and notification["alert"] is False
    bubble = urlsplit(notification["externalResourceUrl"])
    assert (bubble.netloc, bubble.path) == ("teams.microsoft.com", f"/l/bubble/{APP_ID}")
    query = {k: v[0] for k, v in parse_qs(bubble.query).items()}
    assert query["completionBotId"] == APP_ID
    page = urlsplit(query["url"])
    assert (page.netloc, page.path) == ("marac.example.gov.uk", "/meeting-notice")
    assert parse_qs(page.query)["text"] == ["RIV-2026-001: 19 seconds of the slot remain."]


async def test_a_warning_in_a_channel_stays_in_the_chat(store, clock, connector):  # noqa: F811
    fake, service_url = connector
    await run_in(store, clock, service_url, ConversationKind.CHANNEL)
    await warn(store, clock)
    [warning] = fake.sent
    assert "notification" not in (warning.get("channelData") or {})


@pytest.fixture
async def client(store) -> TestClient:
    app = create_app(Settings(timer_seconds=0), store=store)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_the_bubble_page_shows_the_warning_and_nothing_it_was_not_given(client):
    text = "RIV-2026-001: 5 minutes of the slot remain.<script>alert(1)</script>"
    issued = parse_qs(urlsplit(parse_qs(urlsplit(NOTICE.bubble_url(text)).query)["url"][0])
                      .query)
    answer = await client.get("/meeting-notice", params={k: v[0] for k, v in issued.items()})
    assert answer.status == 200 and answer.content_type == "text/html"
    page = await answer.text()
    assert "RIV-2026-001: 5 minutes of the slot remain." in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize("query", [
    {"text": "Your case is closed: call 0800 000 000 now."},
    {"text": "Your case is closed.", "sig": "0" * 64},
    {"text": "RIV-2026-001: 5 minutes of the slot remain.", "sig": "forged"},
])
async def test_the_bubble_page_shows_no_text_the_bot_did_not_issue(client, query):
    """Issue 13, finding 9: the page displayed any text given in its query."""
    answer = await client.get("/meeting-notice", params=query)
    assert answer.status == 404
    page = await answer.text()
    assert query["text"] not in page and "not issued by the MARAC bot" in page


@pytest.mark.parametrize("public_url", ["http://marac.example.gov.uk", "marac.example.gov.uk",
                                        "https://"])
def test_a_public_address_that_teams_cannot_open_stops_start_up(public_url):
    from bot.config import ConfigurationError
    with pytest.raises(ConfigurationError, match="PUBLIC_URL must be the bot's https address"):
        Settings.from_env({"PUBLIC_URL": public_url})


def test_in_meeting_notifications_need_an_app_id_and_a_public_address():
    assert Settings.from_env({"PUBLIC_URL": "https://marac.example.gov.uk"}).meeting_notice is None
    assert Settings(app_id=APP_ID, public_url="https://m.example").meeting_notice == MeetingNotice(
        APP_ID, "https://m.example")


class NotifyingConnector(UpdatingConnector):
    """The local connector, also taking Teams' targeted in-meeting notifications."""

    def __init__(self) -> None:
        super().__init__()
        self.notified: list[tuple[str, dict[str, object]]] = []
        self.app.router.add_post("/v1/meetings/{meeting}/notification", self._notify)

    async def _notify(self, request: web.Request) -> web.Response:
        self.notified.append((request.match_info["meeting"], await request.json()))
        return web.json_response({}, status=202)


@pytest.fixture
async def notifying() -> AsyncIterator[tuple[NotifyingConnector, str]]:
    fake = NotifyingConnector()
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


async def test_the_chair_and_stand_in_get_a_targeted_notification_beside_the_chat(
        store, clock, notifying):
    fake, service_url = notifying
    await run_in(store, clock, service_url, ConversationKind.MEETING)
    async with store.unit_of_work() as session:
        people = {p.first_name: p for p in (await session.scalars(select(Person))).all()}
        priya = people["Priya"].id
        await session.execute(update(Meeting).values(
            teams_meeting_id=TEAMS_MEETING, stand_in_person_id=priya))
    await warn(store, clock)
    [warning] = fake.sent  # the room still sees it in the chat
    assert warning["text"] == "RIV-2026-001: 19 seconds of the slot remain."
    [(meeting, notification)] = fake.notified
    assert meeting == TEAMS_MEETING
    assert notification["type"] == "targetedMeetingNotification"
    value = notification["value"]
    assert value["recipients"] == [people["Chris"].teams_user_id, people["Priya"].teams_user_id]
    [surface] = value["surfaces"]
    assert (surface["surface"], surface["contentType"]) == ("meetingStage", "task")
    page = urlsplit(surface["content"]["value"]["url"])
    assert (page.netloc, page.path) == ("marac.example.gov.uk", "/meeting-notice")
    assert parse_qs(page.query)["text"] == ["RIV-2026-001: 19 seconds of the slot remain."]


async def test_without_the_teams_meeting_id_only_the_chat_is_told(store, clock, notifying):
    fake, service_url = notifying
    await run_in(store, clock, service_url, ConversationKind.MEETING)
    await warn(store, clock)
    assert len(fake.sent) == 1 and not fake.notified
