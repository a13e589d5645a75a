"""Connector clients are built once, not per turn; requests are signed with a held token;
the sender reads Teams' answers and the Bot Connector's URLs as Teams writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from msrest.pipeline import Request
from msrest.universal_http import ClientRequest

from bot.config import Settings
from bot.teams.app import create_adapter
from bot.teams.connector import BearerToken, CachedBotFrameworkAuthentication
from bot.teams.sending import Pacing, PacingPolicy, Route, _seconds, route_of

TENANT = "6a1f0c2e-5d0b-4c55-9a3e-7f3c4b2d9e10"


def anonymous() -> CachedBotFrameworkAuthentication:
    configuration = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant",
                                    APP_TENANTID="")
    return CachedBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication(configuration))


def message(service_url: str) -> Activity:
    return Activity(type="message", id="m1", channel_id="msteams", service_url=service_url,
                    from_property=ChannelAccount(id="user-id-0"),
                    recipient=ChannelAccount(id="28:bot"),
                    conversation=ConversationAccount(id="a:1:1-user-id-0"))


async def test_the_adapter_is_built_on_the_cached_authentication():
    adapter = create_adapter(Settings())
    assert isinstance(adapter.bot_framework_authentication, CachedBotFrameworkAuthentication)


async def test_turns_share_one_connector_client_per_service_url_and_audience():
    authentication = anonymous()
    clients = []
    for _ in range(3):
        result = await authentication.authenticate_request(message("https://smba.example/emea/"),
                                                           "")
        clients.append(await result.connector_factory.create("https://smba.example/emea/",
                                                             result.audience))
    other = await result.connector_factory.create("https://smba.example/amer/", result.audience)
    assert clients[0] is clients[1] is clients[2]
    assert other is not clients[0]
    assert other.config.pipeline is not clients[0].config.pipeline
    await authentication.close()


async def test_turns_share_one_user_token_client():
    authentication = anonymous()
    result = await authentication.authenticate_request(message("https://smba.example/"), "")
    first = await authentication.create_user_token_client(result.claims_identity)
    assert await authentication.create_user_token_client(result.claims_identity) is first


class Credentials:
    def __init__(self, app_id: str) -> None:
        self.microsoft_app_id = app_id
        self.fetched = 0

    def get_access_token(self) -> str:
        self.fetched += 1
        return f"token-{self.fetched}"


class Next:
    def __init__(self) -> None:
        self.headers: list[str | None] = []

    async def send(self, request: Request, **kwargs: Any) -> None:
        self.headers.append(request.http_request.headers.get("Authorization"))


async def sign(policy: BearerToken) -> None:
    await policy.send(Request(ClientRequest("POST", "https://smba.example/v3/x")))


async def test_requests_are_signed_with_a_token_fetched_only_when_old():
    now = [0.0]
    credentials = Credentials("5f1c9a52-8a7e-4c2b-9d1e-3b7a6c0e2f11")
    policy = BearerToken(credentials, clock=lambda: now[0])
    policy.next = after = Next()
    await sign(policy)
    now[0] = 200.0
    await sign(policy)
    now[0] = 500.0
    await sign(policy)
    assert after.headers == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


async def test_an_anonymous_bot_sends_no_token():
    credentials = Credentials("")
    policy = BearerToken(credentials)
    policy.next = after = Next()
    await sign(policy)
    assert after.headers == [None] and credentials.fetched == 0


def test_the_conversation_comes_from_the_url_and_the_tenant_from_the_body():
    base = "https://smba.trafficmanager.net/emea"
    activity = json.dumps({"type": "message", "conversation": {"id": "x", "tenantId": TENANT}})
    assert route_of(f"{base}/v3/conversations/19%3Ameeting%40thread.v2/activities/1",
                    activity) == Route("19:meeting@thread.v2", TENANT)
    assert route_of(f"{base}/v3/conversations", json.dumps({"tenantId": TENANT})) == Route(
        None, TENANT)
    assert route_of(f"{base}/v3/conversations/a%3A1/members", None) == Route("a:1", "")


async def test_botbuilder_s_own_requests_are_paced_by_the_route_in_their_body():
    class Noting(Pacing):
        routes: list[Route] = []

        async def deliver(self, route, attempt, status_of):  # type: ignore[no-untyped-def]
            self.routes.append(route)

    policy = PacingPolicy(Noting())
    policy.next = Next()
    sent = ClientRequest("POST", "https://smba/v3/conversations/a%3A1/activities")
    sent.data = json.dumps({"conversation": {"tenantId": TENANT}})
    await policy.send(Request(sent))
    assert Noting.routes == [Route("a:1", TENANT)]


def test_retry_after_is_read_as_seconds_or_as_a_date():
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert _seconds("12", now.timestamp()) == 12.0
    assert _seconds(later, now.timestamp()) == 30.0
    assert _seconds("soon", now.timestamp()) is None
    assert _seconds(None, now.timestamp()) is None


def test_the_backoff_grows_with_jitter_up_to_a_ceiling_but_waits_as_long_as_asked():
    least, most = Pacing(jitter=lambda: 0.0), Pacing(jitter=lambda: 1.0)
    assert [least.backoff(n, None) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert [most.backoff(n, None) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert most.backoff(20, None) == 60.0
    assert least.backoff(1, "9") == 9.0


async def test_lanes_quiet_for_longer_than_their_windows_are_forgotten():
    now = [0.0]

    async def no_wait(seconds: float) -> None:
        now[0] += seconds

    pacing = Pacing(clock=lambda: now[0], sleep=no_wait)

    async def ok() -> int:
        return 200

    await pacing.deliver(Route("a:1", TENANT), ok, lambda status: (status, None))
    now[0] = 3601.0
    await pacing.deliver(Route("a:2", TENANT), ok, lambda status: (status, None))
    assert sorted(pacing._lanes) == [("conversation", "a:2"), ("tenant", TENANT)]
