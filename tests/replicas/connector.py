"""A local Bot Connector shared by every replica: it records each message the bot posts,
each 1:1 chat it opens and each message it updates, with the time it arrived and whether the
test had a request to the bot in flight (a turn's own reply or update, not a timer's).

It can hold back one request that a test picks and never accept it, as Teams would not if
the sender died before Teams took the message; the test then knows whose request it was
from the sender's port."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    kind: str  # "post", "open" (a 1:1 chat) or "update" (PUT of a posted message)
    conversation: str
    body: dict[str, Any]
    during_turn: bool
    updated_id: str | None = None  # the message an update replaces

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")

    @property
    def fingerprint(self) -> tuple[str, str, str]:
        """What a person would see twice if it came twice."""
        return (self.conversation, self.text,
                json.dumps(self.body.get("attachments"), sort_keys=True))


class Connector:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.turns = 0  # requests of the test to the bot now in flight
        self.hold: Callable[[dict[str, Any]], bool] | None = None
        self.held = asyncio.Event()
        self.held_at = 0.0
        self.held_port = 0  # the sender's port, to find whose request it is
        self.release = asyncio.Event()
        self._ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_post("/v3/conversations", self._open)
        activities = "/v3/conversations/{conversation}/activities"
        self.app.router.add_post(activities, self._post)
        self.app.router.add_post(activities + "/{reply_to}", self._post)
        self.app.router.add_put(activities + "/{activity}", self._update)

    def posts(self, conversation_prefix: str = "") -> list[Received]:
        return [r for r in self.received
                if r.kind == "post" and r.conversation.startswith(conversation_prefix)]

    def _record(self, kind: str, conversation: str, body: dict[str, Any],
                updated_id: str | None = None) -> None:
        self.received.append(Received(time.monotonic(), kind, conversation, body,
                                      self.turns > 0, updated_id))

    async def _open(self, request: web.Request) -> web.Response:
        body = await request.json()
        member = body["members"][0]["id"]
        self._record("open", f"a:1:1-{member}", body)
        return web.json_response({"id": f"a:1:1-{member}"})

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.hold is not None and not self.held.is_set() and self.hold(body):
            return await self._held(request)
        self._record("post", request.match_info["conversation"], body)
        return web.json_response({"id": f"message-{next(self._ids)}"})

    async def _held(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.held_port = peer[1] if peer else 0
        self.held_at = time.monotonic()
        self.held.set()
        await self.release.wait()
        return web.json_response({"error": "never accepted"}, status=503)

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record("update", request.match_info["conversation"], body,
                     request.match_info["activity"])
        return web.json_response({"id": request.match_info["activity"]})
