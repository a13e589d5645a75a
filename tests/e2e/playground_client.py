"""A small client for the Microsoft 365 Agents Playground (../../../shared/PLAYGROUND.md):
plays the Teams users over the Playground's HTTP API and collects, from its WebSocket, every
message the bot posts, as a Teams client would show them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from tests.clock import PATIENCE

BOT_ID = "00000000-0000-0000-0000-00000000000b"
BOT_NAME = "MARAC"
MENTION = f"<at>{BOT_NAME}</at>"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

# The mock tenant of infra/playground/marac.yml.
CHANNEL = "19:riverside-marac@thread.tacv2"  # the Riverside MARAC team's General channel
PERSONAL_CHAT = "personal-chat-id"
GROUP_CHAT = "group-chat-id"
CARA, CHRIS, OLU, PRIYA, IMOGEN, OWEN = (f"user-id-{n}" for n in range(6))

Frame = dict[str, Any]
Predicate = Callable[[Frame], bool]


class PlaygroundClient:
    """One seat at the Playground: HTTP to act, a WebSocket to see what the bot posts.

    `frames` holds every WebSocket frame since `connect()`, and `arrivals` when each arrived
    (time.monotonic()); `begin()` marks where the current test starts, and `wait_for` and
    `frames_since` only look from there on. The answers to button presses (`invoke`) come
    back over HTTP, not the WebSocket: `invoke_answers`.
    """

    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/_ws_conversation/v1/conversations/stream"
        self.frames: list[Frame] = []
        self.arrivals: list[float] = []  # time.monotonic() of each frame's arrival
        self.start = 0
        self.closed_because: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()
        self.config: dict[str, Any] = {}
        self.current_user = ""
        self.users: dict[str, dict[str, Any]] = {}
        self.invoke_answers: list[dict[str, Any]] = []  # every answer to a button press

    async def connect(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        async with self._http.get(f"{self.base_url}/_internal/v1/config") as response:
            assert response.status == 200, f"no Playground config: HTTP {response.status}"
            self.config = (await response.json())["config"]
        self.current_user = self.config["currentUser"]["id"]
        self.users = {u["id"]: u for u in [self.config["currentUser"], *self.config["users"]]}
        self._ws = await self._http.ws_connect(self.ws_url, heartbeat=30)
        self._reader = asyncio.create_task(self._read(self._ws), name="playground-websocket")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                try:
                    frame = json.loads(message.data)
                except json.JSONDecodeError:
                    frame = {"action": "unparsable", "data": message.data}
                self.arrivals.append(time.monotonic())
                self.frames.append(frame)
                self._arrived.set()
            elif message.type is aiohttp.WSMsgType.ERROR:
                self.closed_because = f"WebSocket error: {ws.exception()!r}"
                break
        self.closed_because = self.closed_because or f"WebSocket closed (code {ws.close_code})"
        self._arrived.set()

    # --- where a test starts looking ------------------------------------------------------

    def begin(self) -> int:
        """Mark the start of a test: from now on only newer frames are looked at."""
        self.start = len(self.frames)
        return self.start

    def mark(self) -> int:
        return len(self.frames)

    def frames_since(self, since: int | None = None) -> list[Frame]:
        return self.frames[self.start if since is None else since:]

    def arrived(self, frame: Frame) -> float:
        """When the frame arrived (time.monotonic())."""
        for n, seen in enumerate(self.frames):
            if seen is frame:
                return self.arrivals[n]
        raise ValueError("not a frame of this client")

    # --- what the users do ----------------------------------------------------------------

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self._http is not None, "call connect() first"
        return self._http

    async def say(self, conversation_id: str, user_id: str, text: str,
                  mention_bot: bool = False) -> dict[str, Any]:
        """A user types `text` in a conversation; with `mention_bot`, @mentioning the bot
        first (the Playground, like Teams, gives the bot a channel or group chat message only
        when it is mentioned).

        The Playground's own message API types as its current user whatever `from` says, so
        the current user (Cara) types through it, as in the Playground's page, and anyone
        else's message is sent to the bot as the activity Teams would send. The answer carries
        the thread the bot's reply goes to: `postConversationId` for a new channel post by
        the current user; the channel itself for the others (their messages are not posts in
        the Playground, so the bot's reply is a new post).
        """
        if user_id != self.current_user:
            return await self._say_as_member(conversation_id, user_id, text, mention_bot)
        body: dict[str, Any] = {"from": {"id": user_id}, "text": text, "textFormat": "plain"}
        if mention_bot:
            body["text"] = f"{MENTION} {text}"
            body["mentions"] = [{"mentioned": {"id": BOT_ID, "name": BOT_NAME},
                                 "text": MENTION}]
        url = f"{self.base_url}/_conversation/v1/conversations/{conversation_id}/messages"
        async with self.http.post(url, json=body) as response:
            answer = await response.text()
            assert response.status == 200, (
                f"the Playground refused the message {text!r} from {user_id} in "
                f"{conversation_id}: HTTP {response.status} {answer}")
        sent: dict[str, Any] = json.loads(answer) if answer else {}
        return sent

    async def _say_as_member(self, conversation_id: str, user_id: str, text: str,
                             mention_bot: bool) -> dict[str, Any]:
        if conversation_id == self.config["personalChat"]["id"]:
            raise ValueError(f"the Playground's personal chat is {self.current_user}'s only")
        await self.send_message(conversation_id, user_id, text, mention_bot=mention_bot)
        return {"conversationId": conversation_id}

    async def send_message(self, conversation_id: str, user_id: str, text: str = "",
                           attachments: list[dict[str, Any]] | None = None,
                           mention_bot: bool = False) -> None:
        """The message activity Teams would send the bot, through customActivities: how
        anyone but the current user speaks, and how anyone sends a file (the Playground's
        message API carries text only)."""
        user = self.users[user_id]
        where = await self.template(conversation_id, "install")  # how Teams describes it
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        entities: list[dict[str, Any]] = [{"type": "clientInfo", "locale": "en-US"}]
        if mention_bot:
            text = f"{MENTION} {text}"
            entities.insert(0, {"type": "mention", "text": MENTION,
                                "mentioned": {"id": BOT_ID, "name": BOT_NAME}})
        channel_data = {k: v for k, v in where["channelData"].items()
                        if k in ("tenant", "team", "channel")}
        activity: dict[str, Any] = {
            "type": "message", "id": str(uuid.uuid4()), "timestamp": now,
            "localTimestamp": now, "channelId": where["channelId"],
            "serviceUrl": where["serviceUrl"],
            "from": {"id": user_id, "name": user["name"], "aadObjectId": user["aadObjectId"]},
            "recipient": where["recipient"], "conversation": where["conversation"],
            "channelData": channel_data, "text": text, "textFormat": "plain",
            "locale": "en-US", "entities": entities,
        }
        if attachments:
            activity["attachments"] = attachments
        await self.send_activity(activity)

    async def invoke(self, conversation_id: str, user_id: str, reply_to_id: str, verb: str,
                     data: dict[str, Any] | None = None) -> dict[str, Any]:
        """A user presses an `Action.Execute` button of the card in message `reply_to_id`;
        `data` is the button's data with the card's inputs, as Teams merges them. Answers the
        bot's invoke response (`{"type": ..., "value": the refreshed card or a sentence}`),
        kept in `invoke_answers` too."""
        body = {
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": verb,
                                 "data": {"verb": verb, **(data or {})}},
                      "trigger": "manual"},
            "from": {"id": user_id}, "conversation": {"id": conversation_id},
            "replyToId": reply_to_id,
        }
        url = f"{self.base_url}/_conversation/v1/invoke"
        async with self.http.post(url, json=body) as response:
            answer_text = await response.text()
            assert response.status == 200, (
                f"the Playground refused {user_id}'s press of {verb!r} in {conversation_id}: "
                f"HTTP {response.status} {answer_text}")
        answer: dict[str, Any] = json.loads(answer_text)
        self.invoke_answers.append(answer)
        return answer

    async def send_activity(self, activity: dict[str, Any]) -> None:
        """Send the bot any activity (installation, members added, ...) as Teams would.

        The Playground answers 200 at once and delivers the activity afterwards; what the
        bot makes of it is only seen in what arrives on the WebSocket (and the logs)."""
        url = f"{self.base_url}/_internal/v1/customActivities"
        async with self.http.post(url, json=activity) as response:
            answer = await response.text()
            assert response.status == 200, (
                f"the Playground refused the {activity.get('type')} activity: "
                f"HTTP {response.status} {answer}")

    async def template(self, conversation_id: str, type: str) -> dict[str, Any]:
        """The Playground's filled-in activity of a kind (botAdded, install, ...)."""
        url = f"{self.base_url}/_internal/v1/customActivities/template"
        params = {"conversationId": conversation_id, "type": type}
        async with self.http.get(url, params=params) as response:
            answer = await response.text()
            assert response.status == 200, (
                f"no {type} template for {conversation_id}: HTTP {response.status} {answer}")
        activity: dict[str, Any] = json.loads(answer)
        return activity

    # --- what the users see ---------------------------------------------------------------

    async def wait_for(self, predicate: Predicate, timeout: float = PATIENCE,  # noqa: ASYNC109
                       since: int | None = None, what: str = "") -> Frame:
        """The first frame (from `since`, by default the test's start) that matches; an
        AssertionError listing what did arrive after `timeout` seconds. (A timeout argument
        rather than `asyncio.timeout`, so that the failure can say what was seen.)"""
        first = self.start if since is None else since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._arrived.clear()
            for frame in self.frames[first:]:
                if predicate(frame):
                    return frame
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed_because:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.5))
        seen = "\n".join(f"  {describe(f)}" for f in self.frames[first:]) or "  (none)"
        raise AssertionError(
            f"no frame {what or 'matching'} within {timeout:g}s"
            f"{' (' + self.closed_because + ')' if self.closed_because else ''}; "
            f"frames seen since:\n{seen}")


# --- reading frames -----------------------------------------------------------------------

def thread_of(channel_id: str, message_id: str) -> str:
    """A channel message's thread: the conversation of a press of a card posted there."""
    return f"{channel_id};messageid={message_id}"


def conversation_of(frame: Frame) -> str:
    return str(frame.get("actionConversationId") or "")


def in_conversation(conversation_id: str) -> Predicate:
    """Posted in that conversation, as a new post or in a thread of it (a channel reply's
    conversation is "<channel id>;messageid=<id of the message replied to>")."""
    def matches(frame: Frame) -> bool:
        where = conversation_of(frame)
        return where == conversation_id or where.startswith(conversation_id + ";")
    return matches


def is_message(frame: Frame) -> bool:
    return frame.get("action") in ("createMessage", "updateMessage")


def cards_of(frame: Frame) -> list[dict[str, Any]]:
    message = frame.get("message") or {}
    return [a.get("content") or {} for a in message.get("attachments") or []
            if a.get("contentType") == ADAPTIVE_CARD]


def text_of(frame: Frame) -> str:
    return str((frame.get("message") or {}).get("text") or "")


def card_texts(card: Any) -> list[str]:
    """Every piece of text a card shows: text blocks, text runs, fact titles and values."""
    found: list[str] = []
    if isinstance(card, dict):
        for key in ("text", "title", "value"):
            if isinstance(card.get(key), str):
                found.append(card[key])
        for value in card.values():
            if isinstance(value, dict | list):
                found.extend(card_texts(value))
    elif isinstance(card, list):
        for item in card:
            found.extend(card_texts(item))
    return found


def facts_of(card: Any) -> list[tuple[str, str]]:
    """Every fact of every FactSet in the card, containers included, in reading order."""
    pairs: list[tuple[str, str]] = []
    if isinstance(card, dict):
        if card.get("type") == "FactSet":
            pairs.extend((f.get("title", ""), f.get("value", "")) for f in card["facts"])
        for value in card.values():
            if isinstance(value, dict | list):
                pairs.extend(facts_of(value))
    elif isinstance(card, list):
        for item in card:
            pairs.extend(facts_of(item))
    return pairs


def describe(frame: Frame) -> str:
    cards = cards_of(frame)
    shown = text_of(frame) or " | ".join(" / ".join(card_texts(c))[:200] for c in cards)
    return f"{frame.get('action')} in {conversation_of(frame)}: {shown[:300]!r}"
