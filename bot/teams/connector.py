"""Cheap turns: botbuilder's connector and user-token clients, built once, not per turn.

Stock botbuilder builds, on every turn, a ConnectorClient (msrest's retry policy, its
serializers, a `requests` session run in a thread) and a user-token client. Here the
authentication object hands botbuilder a connector factory that keeps one client per
(service URL, audience), and gives each client a pipeline over one shared aiohttp session
that signs requests with a held token and paces them (bot.teams.sending). botbuilder's own
connector code (serialization, the REST calls, its errors) still runs unchanged."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any
from weakref import WeakKeyDictionary

import aiohttp
import orjson
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient
from msrest import Serializer
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, AsyncPipeline, Request, Response
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import AsyncClientResponse, ClientRequest
from multidict import CIMultiDict

from bot.teams.sending import Pacing, PacingPolicy, Route, route_of

# Teams' service URLs are a handful per region; the bound only stops an anonymous
# (development) bot from keeping a client for every URL someone makes up.
MOST_CLIENTS = 64
# msal refreshes a token once it has under five minutes left; holding one this long on top
# of that never sends an expired token.
TOKEN_HELD_SECONDS = 240.0
CONNECTOR_TIMEOUT = aiohttp.ClientTimeout(total=60)


class CachedBotFrameworkAuthentication(BotFrameworkAuthentication):
    """botbuilder's authentication (as configured) for checking requests; connector and
    user-token clients kept across turns, all sending through one Pacing."""

    def __init__(self, inner: BotFrameworkAuthentication, pacing: Pacing | None = None) -> None:
        self._inner = inner
        self._transport = Transport(pacing or Pacing())
        self._factories: dict[str | None, CachedConnectorFactory] = {}
        self._user_token_clients: dict[str | None, UserTokenClient] = {}

    @property
    def pacing(self) -> Pacing:
        return self._transport.pacing

    async def authenticate_request(self, activity: Activity, auth_header: str
                                   ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        claims = result.claims_identity.claims or {}
        if claims and "exp" not in claims:  # a token that never expires is refused
            raise PermissionError("The token carries no expiry.")
        result.connector_factory = self.create_connector_factory(result.claims_identity)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str
                                             ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        app_id = _app_id(claims_identity)
        factory = self._factories.get(app_id)
        if factory is None:
            factory = self._factories[app_id] = CachedConnectorFactory(
                self._inner.create_connector_factory(claims_identity), self._transport)
        return factory

    async def create_user_token_client(self, claims_identity: ClaimsIdentity
                                       ) -> UserTokenClient:
        app_id = _app_id(claims_identity)
        client = self._user_token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._user_token_clients[app_id] = client
        return client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

    async def close(self) -> None:
        await self._transport.close()


def _app_id(claims_identity: ClaimsIdentity) -> str | None:
    # As botbuilder reads it: the audience for a channel's token, the appid claim otherwise.
    return (claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
            or claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM))


class CachedConnectorFactory(ConnectorFactory):
    """botbuilder's connector factory for one app id, asked once per (service URL,
    audience); its clients are then given the shared transport."""

    def __init__(self, inner: ConnectorFactory, transport: Transport) -> None:
        self._inner = inner
        self._transport = transport
        self._clients: OrderedDict[tuple[str, str | None], ConnectorClient] = OrderedDict()

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience)
        client = self._clients.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._transport.adopt(client)
            self._clients[key] = client
            if len(self._clients) > MOST_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return client


class Transport:
    """One aiohttp session and one Pacing for every connector client."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self._session: aiohttp.ClientSession | None = None

    def adopt(self, client: ConnectorClient) -> None:
        serializer = ActivitySerializer(client._serialize.dependencies)  # noqa: SLF001
        serializer.client_side_validation = client._serialize.client_side_validation  # noqa: SLF001
        client._serialize = serializer  # noqa: SLF001
        for operations in (client.conversations, client.attachments):
            operations._serialize = serializer  # noqa: SLF001
        config = client.config
        token = BearerToken(config.credentials)
        config.pipeline = AsyncPipeline([
            config.user_agent_policy,
            PacingPolicy(self.pacing),
            token,
            RawDeserializer(),
            config.http_logger_policy,
        ], AiohttpSender(self))
        _JSON_SENDERS[client] = JsonSender(self, token, config.user_agent_policy.user_agent)

    def session(self) -> aiohttp.ClientSession:
        # Made on first use: it must belong to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=CONNECTOR_TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class ActivitySerializer(Serializer):
    """msrest's serializer, less its walk through every element of a card. An attachment
    whose content is plain JSON already (the cards this bot sends are `json.loads` of the
    card's JSON) goes into the body as it is: msrest would rebuild, validate and serialize
    each of its elements only to give back the same JSON. Anything else (msrest models,
    dates, enums) is serialized by msrest, as before."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        plain = [(attachment, attachment.content) for attachment in (
            data.attachments or [] if data_type == "Activity" and isinstance(data, Activity)
            else []) if attachment.content is not None and _plain_json(attachment.content)]
        if not plain:
            return super().body(data, data_type, **kwargs)
        try:
            for attachment, _ in plain:
                attachment.content = None
            body = super().body(data, data_type, **kwargs)
        finally:
            for attachment, content in plain:
                attachment.content = content
        contents = {id(attachment): content for attachment, content in plain}
        for attachment, serialized in zip(data.attachments, body["attachments"], strict=True):
            if id(attachment) in contents:
                serialized["content"] = contents[id(attachment)]
        return body


def _plain_json(value: Any) -> bool:
    """Made only of what JSON itself has (exact types: a str enum is not plain)."""
    kind = type(value)
    if kind is dict:
        return all(type(key) is str and _plain_json(item) for key, item in value.items())
    if kind is list:
        return all(_plain_json(item) for item in value)
    return value is None or kind in (str, int, float, bool)


class BearerToken(AsyncHTTPPolicy):
    """Signs requests with the app's token. botbuilder's credentials ask msal, which may
    block on the network; that is done off the event loop, and only when the token held
    is old."""

    def __init__(self, credentials: Any, clock: Any = time.monotonic) -> None:
        super().__init__()
        self._credentials = credentials
        self._clock = clock
        self._token = ""
        self._fetched = float("-inf")
        self._refreshing = asyncio.Lock()
        app_id = getattr(credentials, "microsoft_app_id", None)
        self._signs = bool(app_id) and app_id != AuthenticationConstants.ANONYMOUS_SKILL_APP_ID

    async def send(self, request: Request, **kwargs: Any) -> Response:
        authorization = await self.authorization()
        if authorization is not None:
            request.http_request.headers["Authorization"] = authorization
        assert self.next is not None  # the pipeline links every policy to the next
        return await self.next.send(request, **kwargs)

    async def authorization(self) -> str | None:
        """The Authorization header's value; None for an app with no id (development)."""
        return f"Bearer {await self.token()}" if self._signs else None

    async def token(self) -> str:
        async with self._refreshing:
            if self._clock() - self._fetched > TOKEN_HELD_SECONDS:
                self._token = await asyncio.to_thread(self._credentials.get_access_token)
                self._fetched = self._clock()
        return self._token


class AiohttpSender(AsyncHTTPSender):
    """msrest's last pipeline step over the shared aiohttp session (msrest's own aiohttp
    sender drops the request's headers and body)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def __aenter__(self) -> AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None

    async def send(self, request: Request, **config: Any) -> Response:
        http: ClientRequest = request.http_request
        if http.files:
            raise NotImplementedError("multipart uploads are not sent by this bot")
        async with self._transport.session().request(
                http.method, http.url, headers=dict(http.headers), data=http.data) as answer:
            body = await answer.read()
        return Response(request, _Answer(http, answer, body))


class _Answer(AsyncClientResponse):
    def __init__(self, request: ClientRequest, answer: aiohttp.ClientResponse,
                 body: bytes) -> None:
        super().__init__(request, answer)
        self.status_code = answer.status
        self.headers = CIMultiDict(answer.headers)
        self.reason = answer.reason
        self._body = body

    def body(self) -> bytes:
        return self._body


class ConnectorRefused(Exception):
    """The Bot Connector answered a request with an error status."""

    def __init__(self, status: int, path: str) -> None:
        super().__init__(f"the Bot Connector answered {status} to {path}")
        self.status = status


JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json; charset=utf-8"}


class JsonSender:
    """How send_json reaches the Bot Connector: the pacing, token and session of a connector
    client's pipeline, without the pipeline itself. For a body that is JSON already, msrest's
    request and response models, its policy runner and its raw deserializer cost about as
    much CPU as the aiohttp request they wrap."""

    def __init__(self, transport: Transport, token: BearerToken, user_agent: str) -> None:
        self._transport = transport
        self._token = token
        self._headers = {**JSON_HEADERS, "User-Agent": user_agent}

    async def send(self, method: str, url: str, data: bytes, route: Route
                   ) -> tuple[int, bytes]:
        async def attempt() -> tuple[int, str | None, bytes]:
            headers = await self._signed()
            async with self._transport.session().request(method, url, headers=headers,
                                                          data=data) as answer:
                return answer.status, answer.headers.get("Retry-After"), await answer.read()

        status, _, body = await self._transport.pacing.deliver(route, attempt, _status)
        return status, body

    async def _signed(self) -> dict[str, str]:
        authorization = await self._token.authorization()
        if authorization is None:
            return self._headers
        return {**self._headers, "Authorization": authorization}


def _status(answer: tuple[int, str | None, bytes]) -> tuple[int, str | None]:
    return answer[0], answer[1]


# Each adopted connector client's sender (the client is botbuilder's; it has no place for it).
_JSON_SENDERS: WeakKeyDictionary[ConnectorClient, JsonSender] = WeakKeyDictionary()


async def send_json(client: ConnectorClient, method: str, path: str, body: dict[str, Any]
                    ) -> dict[str, Any]:
    """One Bot Connector request whose body is plain JSON already, paced, signed with the
    app's token and sent on the shared session, as the client's own pipeline would send it:
    the request botbuilder's connector would make, less msrest. The answer's JSON object."""
    url = client.config.base_url.rstrip("/") + path
    status, answer = await _JSON_SENDERS[client].send(method, url, orjson.dumps(body),
                                                      route_of(url, body))
    if not 200 <= status < 300:
        raise ConnectorRefused(status, path)
    try:
        read = orjson.loads(answer) if answer else {}
    except orjson.JSONDecodeError:
        return {}
    return read if isinstance(read, dict) else {}


async def close_adapter(adapter: Any) -> None:
    """Close the connector session of an adapter built on CachedBotFrameworkAuthentication
    (at application cleanup)."""
    authentication = getattr(adapter, "bot_framework_authentication", None)
    if isinstance(authentication, CachedBotFrameworkAuthentication):
        await authentication.close()
