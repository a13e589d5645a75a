"""A local Bot Connector that enforces Teams' rates as Teams does: per conversation (7 in
1 s, 8 in 2 s, 60 in 30 s, 1800 in an hour) and per tenant (50 in 1 s), refusing with 429
and Retry-After. Time is the test's clock, so nothing really waits. It can also be told to
answer chosen statuses first, as Teams does when it is busy."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CONVERSATION_LIMITS = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
TENANT_LIMITS = ((1.0, 50),)


@dataclass
class Accepted:
    at: float
    conversation: str
    tenant: str
    method: str
    activity: dict[str, Any]


@dataclass
class LimitedConnector:
    clock: Callable[[], float]
    accepted: list[Accepted] = field(default_factory=list)
    refused: list[tuple[float, int]] = field(default_factory=list)
    # (status, Retry-After or None), answered in order before anything is accepted
    answer_next: list[tuple[int, str | None]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._open)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}",
                            self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                           self._send)
        return app

    def at(self, conversation: str) -> list[float]:
        return [a.at for a in self.accepted if a.conversation == conversation]

    async def _open(self, request: web.Request) -> web.Response:
        body = await request.json()
        member = body["members"][0]["id"]
        return self._answer(request, f"new:{member}", body.get("tenantId", ""), body,
                            {"id": f"a:1:1-{member}"})

    async def _send(self, request: web.Request) -> web.Response:
        activity = await request.json()
        conversation = request.match_info["conversation"]
        tenant = (activity.get("conversation") or {}).get("tenantId", "")
        return self._answer(request, conversation, tenant, activity,
                            {"id": f"sent-{len(self.accepted) + 1}"})

    def _answer(self, request: web.Request, conversation: str, tenant: str,
                activity: dict[str, Any], body: dict[str, str]) -> web.Response:
        now = self.clock()
        if self.answer_next:
            status, retry_after = self.answer_next.pop(0)
            return self._refuse(now, status, retry_after)
        waits = [self._wait(now, [a.at for a in self.accepted if a.conversation == conversation],
                            CONVERSATION_LIMITS),
                 self._wait(now, [a.at for a in self.accepted if a.tenant == tenant],
                            TENANT_LIMITS)]
        if any(wait is not None for wait in waits):
            return self._refuse(now, 429, str(max(1, math.ceil(max(w or 0 for w in waits)))))
        self.accepted.append(Accepted(now, conversation, tenant, request.method, activity))
        return web.json_response(body)

    def _refuse(self, now: float, status: int, retry_after: str | None) -> web.Response:
        self.refused.append((now, status))
        headers = {"Retry-After": retry_after} if retry_after else {}
        return web.Response(status=status, headers=headers, content_type="application/json",
                            text=json.dumps({"error": {"code": "Throttled"}}))

    @staticmethod
    def _wait(now: float, sent: list[float], limits: tuple[tuple[float, int], ...]
              ) -> float | None:
        """Seconds until a send now would be within every window; None: it is now."""
        wait = None
        for seconds, most in limits:
            recent = [at for at in sent if at > now - seconds]
            if len(recent) >= most:
                wait = max(wait or 0.0, recent[-most] + seconds - now)
        return wait


def over_limits(stamps: list[float], limits: tuple[tuple[float, int], ...]) -> list[float]:
    """The stamps at which a window held more than it may (none, when within limits)."""
    return [at for at in stamps for seconds, most in limits
            if sum(1 for other in stamps if at - seconds < other <= at) > most]
