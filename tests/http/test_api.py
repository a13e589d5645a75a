"""POST /api/messages and GET /healthz over real HTTP: bad input gets a 4xx and stores
nothing; with an app id, only a valid Bot Framework token gets in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from bot.config import Settings
from bot.teams.app import create_app
from cards.notice import SOMETHING_WENT_WRONG
from dialogs.clock import FixedClock
from dialogs.demo import DEMO_TENANT, seed_demo
from storage.database import Store
from storage.models import AuditEvent, Conversation
from tests.clock import pinned_now
from tests.http.connector import Connector
from tests.http.openid_server import SigningAuthority

APP_ID = "5f1c9a52-8a7e-4c2b-9d1e-3b7a6c0e2f11"


def activity(service_url: str, **overrides: object) -> dict[str, object]:
    return {
        "type": "installationUpdate", "action": "add", "channelId": "msteams",
        "serviceUrl": service_url, "id": "a1",
        "from": {"id": "user-id-0", "aadObjectId": "0d3a1c00-0000-4000-8000-000000000001"},
        "recipient": {"id": "bot"},
        "conversation": {"id": "personal-chat-id", "conversationType": "personal",
                         "tenantId": DEMO_TENANT},
        **overrides,
    }


@pytest.fixture
async def connector() -> AsyncIterator[tuple[Connector, str]]:
    fake = Connector()
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


async def client_for(settings: Settings, store: Store) -> TestClient:
    client = TestClient(TestServer(create_app(settings, store, FixedClock(pinned_now()))))
    await client.start_server()
    return client


async def conversations(store: Store) -> int:
    async with store.unit_of_work() as session:
        return await session.scalar(select(func.count()).select_from(Conversation)) or 0


@pytest.fixture
async def anonymous(database_url: str) -> AsyncIterator[tuple[TestClient, Store]]:
    store = Store.from_url(database_url)
    async with store.unit_of_work() as session:
        await seed_demo(session, pinned_now())
    client = await client_for(Settings(database_url=database_url), store)
    yield client, store
    await client.close()


async def test_another_organisation_is_told_and_nothing_is_stored(anonymous, connector):
    client, store = anonymous
    fake, service_url = connector
    for kind in ("installationUpdate", "message"):
        response = await client.post("/api/messages", json=activity(
            service_url, type=kind, text="help",
            conversation={"id": "a-chat", "conversationType": "personal",
                          "tenantId": "another-tenant"}))
        assert response.status == 201
    assert await conversations(store) == 0
    assert [a.get("text") for a in fake.sent] == [
        "This MARAC bot is not set up for your organisation, so I can't help here."]


async def test_healthz_says_the_database_is_reachable(anonymous):
    client, _ = anonymous
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "reachable"}


async def test_healthz_reports_an_unreachable_database(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'marac.db'}"
    client = await client_for(Settings(database_url=url), Store.from_url(url))
    response = await client.get("/healthz")
    assert response.status == 503
    await client.close()


@pytest.mark.parametrize(("body", "content_type", "status", "reason"), [
    ("{not json", "application/json", 400, "The body is not valid JSON."),
    ('{"type": "message"}', "text/plain", 415, "Activities must be sent as application/json."),
    ("[1, 2, 3]", "application/json", 400, "The body is not a Bot Framework activity."),
    ('{"type": "message"}', "application/json", 400, "The body is not a Bot Framework activity."),
    ('{"type": 7, "conversation": {"id": "x"}}', "application/json", 400,
     "The body is not a Bot Framework activity."),
    ('{"type": "message", "conversation": "x", "serviceUrl": "http://x", "from": {"id": "u"},'
     ' "recipient": {"id": "b"}}', "application/json", 400,
     "The body is not a Bot Framework activity."),
])
async def test_malformed_requests_are_refused_and_store_nothing(anonymous, body, content_type,
                                                                status, reason):
    client, store = anonymous
    response = await client.post("/api/messages", data=body,
                                 headers={"Content-Type": content_type})
    assert response.status == status
    assert (await response.json())["error"] == reason
    assert await conversations(store) == 0


async def test_an_oversized_body_is_refused(anonymous):
    client, store = anonymous
    response = await client.post("/api/messages", data=b"{" + b" " * 300_000 + b"}",
                                 headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert await conversations(store) == 0


async def test_anonymous_install_is_recorded_and_welcomed(anonymous, connector):
    client, store = anonymous
    fake, service_url = connector
    response = await client.post("/api/messages", json=activity(service_url))
    assert response.status == 201
    assert await conversations(store) == 1
    assert [a["attachments"][0]["contentType"] for a in fake.sent] == [
        "application/vnd.microsoft.card.adaptive"]


GROUP = {"id": "19:unregistered@thread.v2", "conversationType": "groupChat",
         "tenantId": DEMO_TENANT}
STRANGER = {"id": "user-id-9", "aadObjectId": "0d3a1c00-0000-4000-8000-0000000000ff"}


@pytest.mark.parametrize(("sender", "conversation", "said"), [
    (None, GROUP, "I am not set up in this conversation and keep nothing from it; a MARAC "
     "coordinator can register it by typing **register** here."),
    (STRANGER, None, "I am not set up for you and keep nothing from this chat; ask your MARAC "
     "coordinator to add you."),
], ids=["a group chat no MARAC registered", "the personal chat of someone no MARAC knows"])
async def test_an_install_where_the_bot_may_keep_nothing_is_answered_once_and_kept_nowhere(
        anonymous, connector, sender, conversation, said):
    client, store = anonymous
    fake, service_url = connector
    where = {"conversation": conversation} if conversation else {}
    who = {"from": sender} if sender else {}
    added = {"type": "conversationUpdate", "membersAdded": [{"id": "bot"}]}
    for overrides in ({}, added):  # Teams announces an install both ways
        response = await client.post("/api/messages", json=activity(
            service_url, **where, **who, **overrides))
        assert response.status == 201
    assert [a.get("text") for a in fake.sent] == [said]
    assert await conversations(store) == 0


async def test_a_failing_turn_tells_the_user_one_plain_sentence(tmp_path, connector):
    url = f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}"  # every query fails
    fake, service_url = connector
    client = await client_for(Settings(database_url=url), Store.from_url(url))
    response = await client.post("/api/messages", json=activity(
        service_url, type="message", text="help"))
    await client.close()
    assert response.status == 201
    assert [a.get("text") for a in fake.sent] == [SOMETHING_WENT_WRONG]


@pytest.fixture(scope="module")
def authority() -> SigningAuthority:
    return SigningAuthority()


@pytest.fixture
async def secured(database_url: str, authority: SigningAuthority
                  ) -> AsyncIterator[tuple[TestClient, Store]]:
    settings = Settings(app_id=APP_ID, app_password="secret", database_url=database_url,
                        openid_metadata_url=authority.metadata_url)
    store = Store.from_url(database_url)
    client = await client_for(settings, store)
    yield client, store
    await client.close()


def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("forge", ["missing", "not a jwt", "attacker's key", "expired",
                                   "wrong audience", "wrong issuer", "other service url",
                                   "no expiry"])
async def test_with_an_app_id_a_bad_token_gets_401_and_reaches_nothing(secured, authority, forge):
    client, store = secured
    service_url = "https://smba.example/emea/"
    tokens = {
        "missing": None,
        "not a jwt": "Bearer abc.def",
        "attacker's key": authority.token(audience=APP_ID, service_url=service_url,
                                          key=attacker_key()),
        "expired": authority.token(audience=APP_ID, service_url=service_url, expires_in=-3600),
        "wrong audience": authority.token(audience="someone-else", service_url=service_url),
        "wrong issuer": authority.token(audience=APP_ID, service_url=service_url,
                                        issuer="https://evil.example"),
        "other service url": authority.token(audience=APP_ID, service_url="https://evil.example"),
        "no expiry": authority.token(audience=APP_ID, service_url=service_url, expires_in=None),
    }
    token = tokens[forge]
    headers = {"Authorization": token if token is None or token.startswith("Bearer")
               else f"Bearer {token}"} if token else {}
    response = await client.post("/api/messages", json=activity(service_url), headers=headers)
    assert response.status == 401
    assert await conversations(store) == 0


async def test_with_an_app_id_a_hostile_body_is_refused_before_the_token(secured):
    """Issue 13, finding 8: these reached a 5xx before the token was even checked."""
    client, store = secured
    for body in (b'{"type": "message", "value": ' + b"[" * 3000 + b"]" * 3000 + b"}",
                 b'{"type": "message", "text": "\xc3\x28"}',
                 b'{"type": "message", "id": ' + b"9" * 5000 + b"}"):
        response = await client.post("/api/messages", data=body,
                                     headers={"Content-Type": "application/json"})
        assert response.status == 400, await response.text()
    assert await conversations(store) == 0


async def test_with_an_app_id_a_valid_token_gets_in(secured, authority):
    client, _ = secured
    service_url = "https://smba.example/emea/"
    token = authority.token(audience=APP_ID, service_url=service_url)
    # A typing activity needs no reply, so nothing has to reach the real connector.
    response = await client.post("/api/messages", json=activity(service_url, type="typing"),
                                 headers={"Authorization": f"Bearer {token}"})
    assert response.status == 201


async def test_each_refusal_is_answered_in_a_sentence_and_audited_once(anonymous, connector):
    client, store = anonymous
    fake, service_url = connector
    owen = {"id": "user-id-5", "aadObjectId": "0d3a1c00-0000-4000-8000-000000000007"}
    channel = {"id": "19:riverside-marac@thread.tacv2", "conversationType": "channel",
               "tenantId": DEMO_TENANT}
    for text in ("next", "triage"):
        response = await client.post("/api/messages", json=activity(
            service_url, type="message", text=text, conversation=channel, id=text,
            **{"from": owen},
            channelData={"tenant": {"id": DEMO_TENANT},
                         "team": {"id": "19:riverside-marac@thread.tacv2"}}))
        assert response.status == 201
    assert [a.get("text") for a in fake.sent] == [
        "Only a chair of this MARAC can use 'next'; ask your coordinator if you need it.",
        "'triage' can only be used in a personal chat."]
    async with store.unit_of_work() as session:
        refused = (await session.scalars(select(AuditEvent).where(
            AuditEvent.outcome == "refused").order_by(AuditEvent.id))).all()
    assert [(a.action, a.aad_object_id, a.place) for a in refused] == [
        ("next", owen["aadObjectId"], "channel"), ("triage", owen["aadObjectId"], "channel")]


async def test_a_message_teams_delivers_twice_is_acted_on_once(anonymous, connector):
    client, store = anonymous
    fake, service_url = connector
    cara = {"id": "user-id-0", "aadObjectId": "0d3a1c00-0000-4000-8000-000000000001"}
    again = activity(service_url, type="message", text="help", id="m-42", **{"from": cara})
    for _ in range(3):
        assert (await client.post("/api/messages", json=again)).status == 201
    assert len(fake.sent) == 1  # one help card, not three
    other = activity(service_url, type="message", text="help", id="m-43", **{"from": cara})
    assert (await client.post("/api/messages", json=other)).status == 201
    assert len(fake.sent) == 2
