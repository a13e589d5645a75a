"""Sending within Teams' limits. Every request the connector clients make (replies, card
updates, proactive sends, new 1:1 chats) passes one `Pacing`, which keeps each conversation
under Teams' per-bot rates and each tenant under the app's, waiting rather than refusing, and
retries what Teams asks to be retried. Time is injected, so tests need not really wait."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from msrest.pipeline import AsyncHTTPPolicy, Request, Response

from bot.ops import telemetry

Answer = TypeVar("Answer")


@dataclass(frozen=True)
class Window:
    seconds: float
    most: int


# https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit
CONVERSATION_WINDOWS: tuple[Window, ...] = (
    Window(1, 7), Window(2, 8), Window(30, 60), Window(3600, 1800))
TENANT_WINDOWS: tuple[Window, ...] = (Window(1, 50),)
RETRIED_STATUSES = frozenset({412, 429, 502, 504})
# Six attempts back off for about 8 to 16 seconds in all (Teams gives a turn 15): past that,
# an in-turn reply fails to on_turn_error and an outbox message waits for its next lease.
# Sends are spaced this much beyond each window's edge, so that a connector timing our
# requests a little later than we do never counts one too many.
MARGIN_SECONDS = 0.001
# The longest Teams' Retry-After is waited for in place: beyond it the refusal is the answer,
# so that an in-turn reply fails within Teams' 15 s and an outbox message goes back to the
# outbox, due when Teams said, rather than holding up the timer's other conversations.
LONGEST_WAIT_SECONDS = 10.0


class Lane:
    """The recent sends of one conversation or tenant."""

    def __init__(self, windows: tuple[Window, ...]) -> None:
        self.windows = windows
        self.sent: deque[float] = deque(maxlen=max(w.most for w in windows))

    def wait(self, now: float) -> float:
        """Seconds until one more send keeps every window under its limit."""
        due = now
        for window in self.windows:
            if len(self.sent) >= window.most:
                due = max(due, self.sent[-window.most] + window.seconds + MARGIN_SECONDS)
        return due - now

    def idle_since(self, now: float) -> bool:
        longest = max(w.seconds for w in self.windows)
        return not self.sent or self.sent[-1] < now - longest


class _Turn:
    """One conversation's queue: its requests take turns."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.queued = 0


@dataclass(frozen=True)
class Route:
    """Whose limits a request counts against; None: no conversation yet (a new chat)."""
    conversation: str | None
    tenant: str


class Pacing:
    """Waits for room in the conversation's and the tenant's windows before each attempt;
    retries 412, 429, 502 and 504 with exponential backoff and jitter, honouring
    Retry-After up to LONGEST_WAIT_SECONDS. One conversation's requests go out one at a
    time, in the order asked, so a retried message is never overtaken by the next."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 jitter: Callable[[], float] = random.random, attempts: int = 6,
                 first_backoff: float = 0.5, longest_backoff: float = 60.0) -> None:
        self.clock, self.sleep, self.jitter = clock, sleep, jitter
        self.attempts = attempts
        self.first_backoff, self.longest_backoff = first_backoff, longest_backoff
        self._lanes: dict[tuple[str, str], Lane] = {}
        self._turns: dict[str, _Turn] = {}
        self._swept_at = float("-inf")

    async def deliver(self, route: Route, attempt: Callable[[], Awaitable[Answer]],
                      status_of: Callable[[Answer], tuple[int, str | None]]) -> Answer:
        """The answer to the last attempt: a success, a status not worth retrying, or the
        last refusal once every attempt is spent (the caller then fails loudly)."""
        if route.conversation is None:
            return await self._attempts(route, attempt, status_of)
        turn = self._turns.setdefault(route.conversation, _Turn())
        turn.queued += 1
        try:
            async with turn.lock:
                return await self._attempts(route, attempt, status_of)
        finally:
            turn.queued -= 1
            if not turn.queued:
                del self._turns[route.conversation]

    async def _attempts(self, route: Route, attempt: Callable[[], Awaitable[Answer]],
                        status_of: Callable[[Answer], tuple[int, str | None]]) -> Answer:
        for tried in range(1, self.attempts + 1):
            await self._room(route)
            answer = await attempt()
            status, retry_after = status_of(answer)
            if status == 429:
                telemetry.throttled()
            if status not in RETRIED_STATUSES or tried == self.attempts:
                return answer
            wait = self.backoff(tried, retry_after)
            if wait > LONGEST_WAIT_SECONDS:
                return answer
            await self.sleep(wait)
        raise AssertionError("unreachable")

    def backoff(self, tried: int, retry_after: str | None) -> float:
        """Full jitter over an exponentially growing ceiling, but never sooner than Teams
        asked (Retry-After)."""
        ceiling = min(self.longest_backoff, self.first_backoff * 2 ** (tried - 1))
        jittered = ceiling / 2 + self.jitter() * ceiling / 2
        asked = _seconds(retry_after, self._wall_now())
        return max(jittered, asked) if asked is not None else jittered

    async def _room(self, route: Route) -> None:
        while True:
            self._forget_idle()
            # Looked up after every wait: a sweep meanwhile may have replaced a quiet lane.
            lanes = [self._lane("tenant", route.tenant, TENANT_WINDOWS)]
            if route.conversation is not None:
                lanes.append(self._lane("conversation", route.conversation,
                                        CONVERSATION_WINDOWS))
            now = self.clock()
            wait = max(lane.wait(now) for lane in lanes)
            if wait < MARGIN_SECONDS / 100:  # rounding, not a real wait
                for lane in lanes:
                    lane.sent.append(now)
                return
            await self.sleep(wait)

    def _lane(self, kind: str, key: str, windows: tuple[Window, ...]) -> Lane:
        lane = self._lanes.get((kind, key))
        if lane is None:
            lane = self._lanes[(kind, key)] = Lane(windows)
        return lane

    def _forget_idle(self) -> None:
        """Drop lanes quiet for longer than their longest window, a minute at most apart
        (a scan per new conversation would cost more than the lanes do)."""
        now = self.clock()
        if now - self._swept_at < 60:
            return
        self._swept_at = now
        for key in [k for k, lane in self._lanes.items() if lane.idle_since(now)]:
            del self._lanes[key]

    @staticmethod
    def _wall_now() -> float:
        return time.time()


def retry_after_seconds(retry_after: str | None) -> float | None:
    """Retry-After as seconds to wait from now, or None when there is none."""
    return _seconds(retry_after, time.time())


def _seconds(retry_after: str | None, wall_now: float) -> float | None:
    """Retry-After as seconds to wait: a number of seconds or an HTTP date."""
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(retry_after).timestamp() - wall_now)
    except (TypeError, ValueError):
        return None


def route_of(url: str, body: Any) -> Route:
    """The conversation from a Bot Connector URL (/v3/conversations/{id}/...), the tenant
    from the activity or conversation parameters sent."""
    path = urlsplit(url).path.split("/")
    conversation = None
    if "conversations" in path:
        at = path.index("conversations") + 1
        if at < len(path) and path[at]:
            conversation = unquote(path[at])
    return Route(conversation, _tenant_of(body))


def _tenant_of(body: Any) -> str:
    if isinstance(body, str | bytes) and body:
        try:
            body = json.loads(body)
        except ValueError:
            return ""
    if not isinstance(body, dict):
        return ""
    conversation = body.get("conversation")
    channel_data = body.get("channelData")
    for tenant in (
        conversation.get("tenantId") if isinstance(conversation, dict) else None,
        body.get("tenantId"),
        channel_data.get("tenant", {}).get("id") if isinstance(channel_data, dict) else None,
    ):
        if isinstance(tenant, str) and tenant:
            return tenant
    return ""


class PacingPolicy(AsyncHTTPPolicy):
    """The msrest pipeline step that puts a connector client's requests through Pacing."""

    def __init__(self, pacing: Pacing) -> None:
        super().__init__()
        self.pacing = pacing

    async def send(self, request: Request, **kwargs: Any) -> Response:
        http = request.http_request

        following = self.next
        assert following is not None  # the pipeline links every policy to the next

        async def attempt() -> Response:
            return await following.send(request, **kwargs)

        return await self.pacing.deliver(route_of(http.url, http.data), attempt, _status_of)


def _status_of(response: Response) -> tuple[int, str | None]:
    answer = response.http_response
    return answer.status_code, answer.headers.get("Retry-After")
