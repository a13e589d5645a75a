"""Sending within Teams' limits, through botbuilder's own connector code over real HTTP, to a
connector that enforces the limits: a burst arrives whole, never over a limit, about as fast
as the limits allow; what Teams asks to be retried is retried, as late as it asks; nothing
is dropped in silence. Time is virtual: the sender and the connector share one clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestServer
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.auth import ClaimsIdentity
from botframework.connector.models import ErrorResponseException

from bot.teams.connector import CachedBotFrameworkAuthentication
from bot.teams.plain_turns import PlainReplies
from bot.teams.sending import Answer, Pacing, Route
from bot.turns.replies import text_reply
from tests.http.limited_connector import (
    CONVERSATION_LIMITS,
    TENANT_LIMITS,
    LimitedConnector,
    over_limits,
)

TENANT = "6a1f0c2e-5d0b-4c55-9a3e-7f3c4b2d9e10"
MEETING_CHAT = "19:meeting_riverside@thread.v2"


class VirtualTime:
    """A clock that moves only when someone sleeps, and only once no request is on its way
    (so the connector times each request when the sender did); a sleeper wakes when its
    time comes, or later if another sleeper has already moved the clock further."""

    def __init__(self) -> None:
        self.now = 0.0
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = self.now + seconds
        await asyncio.sleep(0)
        await self.idle.wait()
        self.now = max(self.now, wake)

    def sending(self, change: int) -> None:
        self.in_flight += change
        if self.in_flight:
            self.idle.clear()
        else:
            self.idle.set()


class WatchedPacing(Pacing):
    """Pacing that tells the virtual clock while a request is on its way."""

    def __init__(self, time: VirtualTime, jitter: Callable[[], float]) -> None:
        super().__init__(time.clock, time.sleep, jitter)
        self.time = time

    async def deliver(self, route: Route, attempt: Callable[[], Awaitable[Answer]],
                      status_of: Callable[[Answer], tuple[int, str | None]]) -> Answer:
        async def watched() -> Answer:
            self.time.sending(+1)
            try:
                return await attempt()
            finally:
                self.time.sending(-1)

        return await super().deliver(route, watched, status_of)


@pytest.fixture
async def limited() -> AsyncIterator[tuple[VirtualTime, LimitedConnector, str]]:
    time = VirtualTime()
    fake = LimitedConnector(time.clock)
    async with TestServer(fake.app()) as server:
        yield time, fake, str(server.make_url("/"))


class Bot:
    """botbuilder's CloudAdapter on the cached authentication, its sender on virtual time."""

    def __init__(self, time: VirtualTime, service_url: str,
                 jitter: Callable[[], float] = lambda: 0.5) -> None:
        configuration = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant",
                                        APP_TENANTID="")
        self.authentication = CachedBotFrameworkAuthentication(
            ConfigurationBotFrameworkAuthentication(configuration),
            WatchedPacing(time, jitter))
        self.adapter = CloudAdapter(self.authentication)
        self.service_url = service_url

    def reference(self, conversation: str = MEETING_CHAT) -> ConversationReference:
        return ConversationReference(
            channel_id="msteams", service_url=self.service_url,
            bot=ChannelAccount(id="28:marac-bot"),
            conversation=ConversationAccount(id=conversation, tenant_id=TENANT,
                                             conversation_type="groupChat"))

    async def send(self, activity: Activity, conversation: str = MEETING_CHAT) -> None:
        async def send(context: TurnContext) -> None:
            await context.send_activity(activity)

        await self.adapter.continue_conversation(self.reference(conversation), send, "")

    async def update(self, activity: Activity) -> None:
        async def update(context: TurnContext) -> None:
            await context.update_activity(activity)

        await self.adapter.continue_conversation(self.reference(), update, "")

    async def open_chat(self, member: str) -> None:
        parameters = ConversationParameters(
            is_group=False, bot=ChannelAccount(id="28:marac-bot"),
            members=[ChannelAccount(id=member)], tenant_id=TENANT)

        async def opened(context: TurnContext) -> None:
            pass

        await self.adapter.create_conversation("", opened, parameters, "msteams",
                                               self.service_url)

    async def close(self) -> None:
        await self.authentication.close()


def card(number: int) -> Activity:
    return Activity(type="message", text=f"card {number}", attachments=[])


def fastest(count: int, limits: tuple[tuple[float, int], ...]) -> list[float]:
    """The earliest times `count` sends can go out within sliding-window limits (taking each
    as early as the windows allow is the fastest schedule there is)."""
    times: list[float] = []
    for _ in range(count):
        times.append(max([0.0] + [times[-most] + seconds for seconds, most in limits
                                  if len(times) >= most]))
    return times


async def test_a_burst_of_60_cards_arrives_whole_in_order_within_limits_at_full_speed(limited):
    time, fake, service_url = limited
    bot = Bot(time, service_url)
    await asyncio.gather(*(bot.send(card(n)) for n in range(60)))
    await bot.close()
    stamps = fake.at(MEETING_CHAT)
    assert [a.activity["text"] for a in fake.accepted] == [f"card {n}" for n in range(60)]
    assert fake.refused == []
    assert over_limits(stamps, CONVERSATION_LIMITS) == []
    # 7 at once, 1 a second later, then 8 every 2 s: the 60th can go no sooner than 14 s.
    least = fastest(60, CONVERSATION_LIMITS)[-1]
    assert least == 14.0
    assert least <= stamps[-1] - stamps[0] <= least + 0.1


async def test_412_502_and_504_are_retried_with_growing_backoff(limited):
    time, fake, service_url = limited
    fake.answer_next = [(412, None), (502, None), (504, None)]
    bot = Bot(time, service_url, jitter=lambda: 1.0)  # the whole of each backoff
    await bot.send(card(1))
    await bot.close()
    assert [status for _, status in fake.refused] == [412, 502, 504]
    assert [a.activity["text"] for a in fake.accepted] == ["card 1"]
    assert [at for at, _ in fake.refused] == [0.0, 0.5, 1.5]
    assert fake.accepted[0].at == 3.5


async def test_retry_after_is_honoured_though_the_backoff_would_be_sooner(limited):
    time, fake, service_url = limited
    fake.answer_next = [(429, "7")]
    bot = Bot(time, service_url, jitter=lambda: 0.0)
    await bot.send(card(1))
    await bot.close()
    assert fake.accepted[0].at == 7.0


async def test_a_refusal_not_worth_retrying_fails_at_once(limited):
    time, fake, service_url = limited
    fake.answer_next = [(403, None)]
    bot = Bot(time, service_url)
    with pytest.raises(ErrorResponseException):
        await bot.send(card(1))
    await bot.close()
    assert fake.refused == [(0.0, 403)] and fake.accepted == []


async def test_when_every_attempt_is_refused_the_sender_says_so_rather_than_dropping(limited):
    time, fake, service_url = limited
    attempts = Pacing().attempts
    fake.answer_next = [(502, None)] * attempts
    bot = Bot(time, service_url)
    with pytest.raises(ErrorResponseException):  # the outbox keeps it and tries again later
        await bot.send(card(1))
    await bot.close()
    assert len(fake.refused) == attempts and fake.accepted == []


async def test_two_replicas_sharing_a_conversation_deliver_everything_through_the_429s(limited):
    """Each replica paces only its own sends; together they overrun Teams' limits, and the
    429s and their Retry-After bring every card in all the same."""
    time, fake, service_url = limited
    replicas = [Bot(time, service_url), Bot(time, service_url)]
    await asyncio.gather(*(replicas[n % 2].send(card(n)) for n in range(40)))
    for replica in replicas:
        await replica.close()
    assert sorted(a.activity["text"] for a in fake.accepted) == sorted(
        f"card {n}" for n in range(40))
    assert {status for _, status in fake.refused} == {429}
    assert over_limits(fake.at(MEETING_CHAT), CONVERSATION_LIMITS) == []


async def test_a_tenant_gets_50_requests_a_second_across_its_conversations(limited):
    time, fake, service_url = limited
    bot = Bot(time, service_url)
    await asyncio.gather(*(bot.send(card(n), f"a:1:1-user-{n}") for n in range(120)))
    await bot.close()
    stamps = sorted(a.at for a in fake.accepted)
    assert len(stamps) == 120 and fake.refused == []
    assert over_limits(stamps, TENANT_LIMITS) == []
    least = fastest(120, TENANT_LIMITS)[-1]
    assert least == 2.0
    assert least <= stamps[-1] <= least + 0.05


async def test_card_updates_and_new_chats_go_through_the_same_sender(limited):
    time, fake, service_url = limited
    bot = Bot(time, service_url, jitter=lambda: 1.0)
    fake.answer_next = [(429, "3")]
    await bot.open_chat("user-id-3")
    fake.answer_next = [(412, None)]
    await bot.update(Activity(id="card-1", type="message", text="refreshed"))
    await bot.close()
    assert [(a.method, a.conversation) for a in fake.accepted] == [
        ("POST", "new:user-id-3"), ("PUT", MEETING_CHAT)]
    assert [a.at for a in fake.accepted] == [3.0, 3.5]


async def test_replies_and_card_updates_sent_as_plain_json_go_through_the_same_sender(limited):
    """A typed command's reply and a press's card update (bot.teams.plain_turns) go out
    with the connector client's pacing: the same limits and retries as botbuilder's sends."""
    time, fake, service_url = limited
    bot = Bot(time, service_url, jitter=lambda: 1.0)
    factory = bot.authentication.create_connector_factory(ClaimsIdentity({}, True))
    client = await factory.create(service_url, None)
    replies = PlainReplies(client, {
        "id": "typed-1", "channelId": "msteams", "serviceUrl": service_url,
        "from": {"id": "user-id-0"}, "recipient": {"id": "28:marac-bot"},
        "conversation": {"id": MEETING_CHAT, "tenantId": TENANT}})
    fake.answer_next = [(429, "3")]
    sent = await replies.send(text_reply("Case RIV-2026-002 is now open."))
    fake.answer_next = [(412, None)]
    await replies.update("card-1", text_reply("refreshed"))
    await bot.close()
    assert sent == "sent-1"
    assert [(a.method, a.conversation) for a in fake.accepted] == [
        ("POST", MEETING_CHAT), ("PUT", MEETING_CHAT)]
    assert [a.at for a in fake.accepted] == [3.0, 3.5]


async def test_plain_json_is_signed_with_the_app_s_token_and_names_its_client():
    """send_json's own way out (no msrest pipeline) signs as the pipeline does: the held
    token, fetched once, and msrest's User-Agent."""
    from aiohttp import web

    from bot.teams.connector import BearerToken, JsonSender, Transport

    seen: list[tuple[str | None, str | None, bytes]] = []

    async def accept(request: web.Request) -> web.Response:
        seen.append((request.headers.get("Authorization"), request.headers.get("User-Agent"),
                     await request.read()))
        return web.json_response({"id": "sent-1"})

    app = web.Application()
    app.router.add_post("/v3/conversations/{conversation}/activities", accept)
    credentials = SimpleNamespace(microsoft_app_id="5f1c9a52-8a7e-4c2b-9d1e-3b7a6c0e2f11",
                                  get_access_token=lambda: "token-1")
    transport = Transport(Pacing())
    sender = JsonSender(transport, BearerToken(credentials), "msrest/0 marac")
    async with TestServer(app) as server:
        url = str(server.make_url("/v3/conversations/a%3A1/activities"))
        answers = [await sender.send("POST", url, b'{"text":"hello"}', Route("a:1", TENANT))
                   for _ in range(2)]
    await transport.close()
    assert answers == [(200, b'{"id": "sent-1"}')] * 2
    assert seen == [("Bearer token-1", "msrest/0 marac", b'{"text":"hello"}')] * 2
