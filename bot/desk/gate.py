"""Every desk and panel request, as a turn: the signed token names the person; then the same
steps as the chat's pipeline (bot.turns.pipeline): one unit of work, who is acting and in
which MARAC (bot.turns.access.context_of, with the turns' tenant allow-list), the table's
refusal for the command or button the request stands for, its handler in a savepoint (a
dialog's Refusal rolls it back), and an audit row with the true outcome.

No token, a bad one, or another organisation's: 401 and nothing. The table's refusal: 403
with its sentence. A dialog's refusal: 409 with its sentence."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, cast

from aiohttp import web

from bot.desk.tokens import KeysUnavailable, Signer, TokenRefused, Tokens
from bot.turns.access import NotThisTenant, audit, context_of, refusal
from bot.turns.arrival import Arrival
from bot.turns.pipeline import handled
from bot.turns.posts import Post
from bot.turns.press import Press
from bot.turns.registry import Command
from bot.turns.request import Request
from dialogs.clock import Clock
from dialogs.installation import ConversationSeen
from storage.database import Store
from storage.models import ConversationKind

log = logging.getLogger(__name__)
DESK_CONVERSATION = "marac desk"  # where the audit trail says a desk request came from
NOTHING = {"error": "Sign in through Teams."}
MAX_ID = 400  # no Teams conversation id is longer (the store's column)
NO_KEYS = {"error": "The sign-in keys could not be fetched; try again shortly."}


class Poster(Protocol):
    """Sends a panel command's answers to the meeting's conversation (bot.teams)."""

    async def post(self, conversation_id: str, posts: list[Post], now: datetime) -> None: ...


@dataclass(frozen=True)
class Desk:
    store: Store
    clock: Clock
    tokens: Tokens
    tenants: frozenset[str]
    poster: Poster


DESK = web.AppKey("desk", Desk)


@dataclass(frozen=True)
class Where:
    """Where the request acts: the desk (personal), or a meeting's chat or channel."""

    kind: ConversationKind = ConversationKind.PERSONAL
    conversation: str = DESK_CONVERSATION
    team: str | None = None

    @classmethod
    def of_panel(cls, query: Any) -> Where | None:
        """The panel names its meeting as Teams' context gives it: the meeting's chat, or a
        channel meeting's team and channel."""
        chat, team, channel = (str(query.get(k, "")).strip() for k in ("chat", "team", "channel"))
        if max(len(chat), len(team), len(channel)) > MAX_ID:
            return None
        if team and channel:
            return cls(ConversationKind.CHANNEL, channel, team)
        if chat:
            return cls(ConversationKind.MEETING, chat)
        return None


def arrival_of(signer: Signer, where: Where) -> Arrival:
    def seen() -> ConversationSeen:
        raise RuntimeError("A desk request registers no conversation.")
    return Arrival(None, where.conversation, where.kind, signer.tenant_id, where.team,
                   where.conversation, None, signer.aad_object_id, signer.name, "", "", seen)


class Unauthorized(Exception):
    """The answer is `response`: 401 and nothing, or 503 when the keys are out of reach."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def signer_of(request: web.Request) -> Signer:
    try:
        return await request.app[DESK].tokens.signer(request.headers.get("Authorization", ""))
    except TokenRefused as refused:
        log.info("desk token refused: %s", refused)
        raise Unauthorized(web.json_response(NOTHING, status=401)) from refused
    except KeysUnavailable as error:
        log.error("could not fetch the SSO signing keys: %s", error)
        raise Unauthorized(web.json_response(NO_KEYS, status=503)) from error


Turn = Press | Request
View = Callable[[Any], Awaitable[dict[str, Any]]]


async def serve(request: web.Request, entry: Command, where: Where, *,
                data: dict[str, Any] | None = None, arguments: str = "",
                named: Callable[[Any, Arrival], Awaitable[int | None]] | None = None,
                act: bool = True, view: View | None = None, subject: str = "",
                after: Callable[[Any, Any], Awaitable[None]] | None = None,
                audited: bool = True) -> web.Response:
    """Serve one request as `entry` (a command or a button of the table): with `act`, its own
    handler runs (its answer, a card, is not shown here); then `view`, whose JSON is the
    answer. Without `act`, `view` stands in for the handler, under the entry's rule."""
    desk = request.app[DESK]
    try:
        signer = await signer_of(request)
    except Unauthorized as unauthorized:
        return unauthorized.response
    arrival = arrival_of(signer, where)
    data = data or {}
    try:
        async with desk.store.unit_of_work() as session:
            marac = await named(session, arrival) if named else None
            context = await context_of(session, arrival, tenants=desk.tenants, named=marac)
            # A command (it has a usage line) is served a Request, a button a Press.
            turn: Turn = (Request(session, context, arguments, desk.clock, arrival)
                          if entry.usage else
                          Press(session, context, data, "", desk.clock, arrival))
            refused = refusal(entry, context)
            status, answer = 403, None
            if refused is None:
                status = 409
                served = entry if act else replace(entry, handler=view, refused=None)
                answer, refused = await handled(served, cast(Any, turn))
                if refused is None and after is not None:
                    await after(turn, answer)
            if audited or refused is not None:
                await audit(session, context, arrival, entry.name, desk.clock.now(),
                            subject=subject, refused=refused)
            if refused is not None:
                return web.json_response({"refused": refused}, status=status)
            body = answer if not act else (await view(turn) if view else {"done": True})
    except NotThisTenant:
        return web.json_response(NOTHING, status=401)
    return web.json_response(body, dumps=dumps)


def dumps(body: Any) -> str:
    return json.dumps(body, default=str)
