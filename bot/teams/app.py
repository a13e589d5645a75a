"""The aiohttp application: POST /api/messages through botbuilder; GET /livez, /readyz (and
/healthz, the database check of old) for the orchestrator (bot.health)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import orjson
import requests
from aiohttp import ClientError, web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import AuthenticationConstants
from msrest.exceptions import DeserializationError

from bot.config import Settings
from bot.desk import setup as desk
from bot.ops.health import Heartbeat, livez, readyz_handler
from bot.ops.telemetry import turn
from bot.proactive.graph import GraphMailer
from bot.proactive.installation_graph import AppInstaller
from bot.proactive.timers import Timers
from bot.teams import envelope, plain_turns
from bot.teams.connector import CachedBotFrameworkAuthentication, close_adapter
from bot.teams.handler import MaracBot
from bot.teams.meeting_notice import PAGE_PATH, notice_page
from bot.teams.meeting_posts import MeetingPoster
from bot.teams.messages import activity_of
from bot.turns.arrival import Arrival
from bot.turns.press import Invoke
from bot.turns.replies import text_reply
from cards.notice import SOMETHING_WENT_WRONG
from dialogs.clock import Clock
from storage.database import Store

log = logging.getLogger(__name__)

STORE = web.AppKey("store", Store)
TIMERS = web.AppKey("timers", Timers)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", MaracBot)
HEARTBEAT = web.AppKey("heartbeat", Heartbeat)


def create_app(settings: Settings, store: Store | None = None, clock: Clock | None = None
               ) -> web.Application:
    store = store or Store.from_url(settings.database_url)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[STORE] = store
    app[ADAPTER] = create_adapter(settings)
    clock = clock or settings.clock()
    app[BOT] = MaracBot(store, clock, settings.allowed_tenants, settings.anonymous)
    mailer = GraphMailer(settings.graph) if settings.graph else None
    app[TIMERS] = Timers(store, app[ADAPTER], clock, settings.app_id, settings.timer_seconds,
                         mailer, settings.outbox_lease_seconds)
    app.router.add_post("/api/messages", messages)
    app[TIMERS].meeting_notice = settings.meeting_notice
    if mailer is not None and settings.catalog_app_id:
        app[TIMERS].installer = AppInstaller(mailer, settings.catalog_app_id)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz_handler(STORE, HEARTBEAT))
    app.router.add_get(PAGE_PATH, notice_page)
    desk.install(app, settings, store, clock,
                 MeetingPoster(app[ADAPTER], settings.app_id, store))
    if settings.timer_seconds:
        app[HEARTBEAT] = app[TIMERS].heartbeat
        app.on_startup.append(_start_timers)
    app.on_cleanup.append(_stop)
    return app


def create_adapter(settings: Settings) -> CloudAdapter:
    configuration = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type,
        APP_TENANTID=settings.app_tenant_id,
    )
    if settings.openid_metadata_url:
        # Setting any endpoint switches botbuilder to its parameterized authentication,
        # which then needs every public-cloud value spelled out.
        configuration.__dict__.update(
            TO_CHANNEL_FROM_BOT_LOGIN_URL=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            OAUTH_URL=AuthenticationConstants.OAUTH_URL,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=(
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL),
            CALLER_ID=CallerIdConstants.public_azure_channel,
        )
    adapter = CloudAdapter(CachedBotFrameworkAuthentication(
        ConfigurationBotFrameworkAuthentication(configuration)))
    adapter.on_turn_error = _on_turn_error
    return adapter


async def _on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    log.error("turn failed: %s %s", turn_context.activity.type, turn_context.activity.id,
              exc_info=error)
    if turn_context.activity.type == "message":
        try:
            await turn_context.send_activity(activity_of(text_reply(SOMETHING_WENT_WRONG)))
        except Exception as apology_error:  # the connector itself may be what failed
            log.error("could not tell the user either: %s", apology_error)


def _refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def messages(request: web.Request) -> web.Response:
    if request.content_type != "application/json":
        return _refuse(415, "Activities must be sent as application/json.")
    try:
        body = envelope.parse(await request.read())
        if isinstance(body, dict):
            envelope.check_shapes(body)
    except envelope.BadEnvelope as refused:
        return _refuse(400, str(refused))
    if not _addressed(body):
        return _refuse(400, "The body is not a Bot Framework activity.")
    plain = plain_turns.activity_of_json(body)
    activity = plain or _activity(body)
    if activity is None:
        return _refuse(400, "The body is not a Bot Framework activity.")
    adapter = request.app[ADAPTER]
    try:
        authenticated = await adapter.bot_framework_authentication.authenticate_request(
            activity, request.headers.get("Authorization", "")
        )
    except PermissionError:
        return _refuse(401, "The request does not carry a valid Bot Framework token.")
    except (ClientError, requests.RequestException):
        log.exception("could not fetch the Bot Framework signing keys")
        return _refuse(503, "The Bot Framework signing keys could not be fetched.")
    except Exception as error:  # PyJWT and botbuilder raise many kinds for a bad token
        log.warning("token refused: %s", error)
        return _refuse(401, "The request does not carry a valid Bot Framework token.")
    bot = request.app[BOT]
    with turn(activity):
        served = bot.plain_turn(plain) if plain is not None else None
        if served is not None:
            client = await authenticated.connector_factory.create(activity.service_url,
                                                                  authenticated.audience)
            return await _serve_plainly(bot, served, activity,
                                        plain_turns.PlainReplies(client, body))
        if plain is not None:  # botbuilder's own models, for its own handlers
            activity = _activity(body)
            if activity is None:
                return _refuse(400, "The body is not a Bot Framework activity.")
        invoke_response = await adapter.process_activity(authenticated, activity, bot.on_turn)
    if invoke_response is None:
        return web.Response(status=201)
    return web.json_response(_plain(invoke_response.body), status=invoke_response.status,
                             dumps=_dumps)


async def _serve_plainly(bot: MaracBot, served: tuple[Arrival, Invoke | None],
                         activity: Activity, replies: plain_turns.PlainReplies
                         ) -> web.Response:
    """A typed command (answered in its conversation, 201) or a card press (answered in the
    response); a failure is told as botbuilder's turn error handler tells it."""
    arrival, invoke = served
    if invoke is not None:
        answer = await bot.answer_press(arrival, invoke, replies)
        return web.Response(body=orjson.dumps(answer, default=str), status=200,
                            content_type="application/json")
    try:
        await bot.answer_message(arrival, activity, replies)
    except Exception as error:
        log.error("turn failed: message %s", activity.id, exc_info=error)
        try:
            await replies.send(text_reply(SOMETHING_WENT_WRONG))
        except Exception as apology_error:  # the connector itself may be what failed
            log.error("could not tell the user either: %s", apology_error)
    return web.Response(status=201)


def _addressed(body: Any) -> bool:
    """From someone, to someone, in a conversation, with somewhere to answer."""
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return False
    conversation, sender = body.get("conversation"), body.get("from")
    return (isinstance(conversation, dict) and bool(conversation.get("id"))
            and bool(body.get("serviceUrl")) and isinstance(sender, dict)
            and bool(sender.get("id")) and isinstance(body.get("recipient"), dict))


def _activity(body: dict[str, Any]) -> Activity | None:
    try:
        return Activity().deserialize(body)
    except DeserializationError:
        return None


def _dumps(body: Any) -> str:
    # botbuilder's own error answers carry an Exception as their value.
    return json.dumps(body, default=str)


def _plain(body: Any) -> Any:
    """botbuilder 4.17 hands back invoke bodies sometimes as msrest models, sometimes already
    as dicts (../shared/PLAYGROUND.md); serialize only the former."""
    serialize = getattr(body, "serialize", None)
    return serialize() if callable(serialize) else body


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    if not await store.is_reachable():
        return web.json_response({"status": "unhealthy", "database": "unreachable"},
                                 status=503)
    if await store.cannot_write():
        return web.json_response({"status": "unhealthy", "database": "read-only"}, status=503)
    return web.json_response({"status": "ok", "database": "reachable"})


async def _start_timers(app: web.Application) -> None:
    app[TIMERS].start()


async def _stop(app: web.Application) -> None:
    await app[TIMERS].stop()
    await close_adapter(app[ADAPTER])
    await app[STORE].close()
