"""The bot without secrets: with MicrosoftAppType=UserAssignedMSI, GRAPH_MANAGED_IDENTITY
and DATABASE_MANAGED_IDENTITY_CLIENT_ID, the tokens for Bot Framework, Graph and PostgreSQL
come from the managed identity endpoint through msal's managed identity client (here a local
server speaking that endpoint's protocol); the client secret remains the fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botframework.connector.auth import ClaimsIdentity

from bot.config import Settings
from bot.proactive.graph import GraphMailer, GraphSettings
from bot.teams.app import create_adapter
from storage import identity
from storage.database import Store
from tests.http.identity_endpoint import HEADER_SECRET, IdentityEndpoint

CLIENT_ID = "6c1f3d2a-9b7e-4e10-8a5d-2f4b6c8d0e1a"
TENANT = "b2c4e6f8-1a3b-4c5d-8e7f-90a1b2c3d4e5"
SENDER = "marac@council.example.gov.uk"


@pytest.fixture
async def endpoint(monkeypatch) -> AsyncIterator[IdentityEndpoint]:
    fake = IdentityEndpoint(CLIENT_ID)
    async with TestServer(fake.app(), host="127.0.0.1") as server:
        monkeypatch.setenv("IDENTITY_ENDPOINT", str(server.make_url("/msi/token")))
        monkeypatch.setenv("IDENTITY_HEADER", HEADER_SECRET)
        identity._client.cache_clear()  # msal's token cache belongs to one endpoint
        yield fake
    identity._client.cache_clear()


def graph_env(**extra: str) -> dict[str, str]:
    return {"GRAPH_TENANT_ID": TENANT, "GRAPH_CLIENT_ID": CLIENT_ID, "GRAPH_SENDER": SENDER,
            **extra}


def test_graph_takes_the_managed_identity_only_without_a_secret() -> None:
    managed = GraphSettings.from_env(graph_env(GRAPH_MANAGED_IDENTITY="true"))
    assert managed is not None and managed.managed_identity
    fallback = GraphSettings.from_env(graph_env(GRAPH_MANAGED_IDENTITY="true",
                                                GRAPH_CLIENT_SECRET="s3cret"))
    assert fallback is not None and not fallback.managed_identity
    with pytest.raises(ValueError, match="needs GRAPH_CLIENT_SECRET too"):
        GraphSettings.from_env(graph_env())


async def test_graph_mail_goes_with_the_managed_identitys_token(endpoint) -> None:
    mails: list[tuple[str, Any]] = []

    async def send_mail(request: web.Request) -> web.Response:
        mails.append((request.headers["Authorization"], await request.json()))
        return web.Response(status=202)

    graph = web.Application()
    graph.router.add_post(f"/v1.0/users/{SENDER}/sendMail", send_mail)
    async with TestServer(graph, host="127.0.0.1") as server:
        base = str(server.make_url("")).rstrip("/")
        settings = GraphSettings.from_env(graph_env(GRAPH_MANAGED_IDENTITY="true",
                                                    GRAPH_URL=base))
        assert settings is not None
        mailer = GraphMailer(settings)
        for _ in range(2):
            await mailer.send("idva@health.example.gov.uk", "MARAC action plan RIV-2026-001",
                              "The plan is attached.", "plan.docx", b"docx")
    assert [authorization for authorization, _ in mails] == ["Bearer mi-token-1"] * 2
    assert endpoint.issued == [base]  # one token, cached by msal for the second mail


async def test_bot_framework_calls_carry_the_managed_identitys_token(endpoint) -> None:
    settings = Settings(app_id=CLIENT_ID, app_type="UserAssignedMSI", app_tenant_id=TENANT)
    adapter = create_adapter(settings)
    factory = adapter.bot_framework_authentication.create_connector_factory(
        ClaimsIdentity({"aud": CLIENT_ID, "appid": CLIENT_ID}, True))
    client = await factory.create("https://smba.trafficmanager.net/uk/",
                                  "https://api.botframework.com")
    # botbuilder asks synchronously; off the loop here, which also serves the endpoint
    token = await asyncio.to_thread(client.config.credentials.get_access_token)
    assert token == "mi-token-1"
    assert endpoint.issued == ["https://api.botframework.com"]


@pytest.mark.postgres
async def test_postgres_connects_with_the_managed_identitys_token(endpoint, monkeypatch,
                                                                  database_url) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("Entra authentication is PostgreSQL's")
    monkeypatch.setenv("DATABASE_MANAGED_IDENTITY_CLIENT_ID", CLIENT_ID)
    store = Store.from_url(database_url)
    try:
        assert await store.is_reachable()
    finally:
        await store.close()
    assert endpoint.issued == [identity.POSTGRES_RESOURCE]
