"""People outside the team: Sam (Children's Social Care) is in no team the bot is installed
in and has never written to it, so his plan cannot go by Teams. The bot installs the app for
him through Microsoft Graph (msal's real client-credentials flow and the real installedApps
request, against the local Azure AD and Graph of test_dissemination_graph.py, over HTTPS),
Teams reports the personal installation to /api/messages, and the outbox's next attempt
delivers his plan through botbuilder's connector client to a local connector. A Graph that
refuses the install ends, after the outbox's attempts, with the plan failed for Sam's agency,
the reason shown in `dissemination`, and the coordinator told."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import Settings
from bot.proactive.graph import GraphMailer, GraphSettings
from bot.proactive.installation_graph import WAITING, AppInstaller
from bot.proactive.outbox import MAX_ATTEMPTS, backoff
from bot.proactive.timers import Timers
from bot.teams.app import create_adapter, create_app
from dialogs import dissemination
from dialogs.demo import DEMO_PEOPLE, DEMO_TENANT
from storage.models import Marac, OutboxMessage, Person
from tests.http.connector import Connector
from tests.http.test_dissemination import install
from tests.http.test_dissemination_graph import (
    CLIENT_ID,
    SECRET,
    SENDER,
    TENANT,
    FakeMicrosoft,
    certificates,
)
from tests.store.plan_factory import end_meeting, heard, outbox, recipients, tick

CATALOG_APP = "e3c1b5a7-2d4f-4b6a-9c8e-1f2a3b4c5d6e"
SAM = next(p for p in DEMO_PEOPLE if p.full_name == "Sam Carter")
SAM_TEAMS_ID = "29:sam-carter"


@dataclass
class FakeGraphWithApps(FakeMicrosoft):
    """The local Azure AD and Graph, also installing Teams apps for users."""

    installs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse_install: bool = False

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_post("/v1.0/users/{user}/teamwork/installedApps", self._install)
        return app

    async def _install(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "") != f"Bearer graph-token-{self.tokens_issued}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}},
                                     status=401)
        if self.refuse_install:
            return web.json_response({"error": {
                "code": "Forbidden", "message": "App installation is blocked by policy."}},
                status=403)
        self.installs.append((request.match_info["user"], await request.json()))
        return web.Response(status=201)


@pytest.fixture
async def graph(tmp_path) -> AsyncIterator[tuple[FakeGraphWithApps, AppInstaller]]:
    ca_file, context = certificates(tmp_path)
    fake = FakeGraphWithApps()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server(ssl=context)
    fake.base = str(server.make_url("")).rstrip("/")
    mailer = GraphMailer(GraphSettings(TENANT, CLIENT_ID, SECRET, SENDER,
                                       authority_host=fake.base, graph_url=fake.base,
                                       ca_bundle=str(ca_file)))
    yield fake, AppInstaller(mailer, CATALOG_APP)
    await server.close()


@pytest.fixture
async def connector() -> AsyncIterator[tuple[Connector, str]]:
    fake = Connector()
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


@pytest.fixture
async def bot(store, clock) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(Settings(timer_seconds=0), store, clock)))
    await client.start_server()
    yield client
    await client.close()


async def plans_queued(store, clock, service_url: str, installer: AppInstaller) -> Timers:
    await install(store, clock, service_url)
    await heard(store, clock)
    await end_meeting(store, clock)
    await tick(store, clock)
    timers = Timers(store, create_adapter(Settings()), clock, app_id="")
    timers.installer = installer
    return timers


async def sams_plans(store) -> list[OutboxMessage]:
    async with store.unit_of_work() as session:
        sam = await session.scalar(select(Person.id).where(
            Person.aad_object_id == SAM.aad_object_id))
    return [m for m in await outbox(store, "plan") if m.person_id == sam]


def to_sam(fake: Connector) -> list[dict[str, Any]]:
    return [a for a in fake.sent if a["conversation_id"] == f"a:1:1-{SAM_TEAMS_ID}"]


async def test_the_app_is_installed_for_someone_outside_the_team_who_then_gets_the_plan(
        store, clock, graph, connector, bot):
    microsoft, installer = graph
    fake, service_url = connector
    timers = await plans_queued(store, clock, service_url, installer)
    await timers.deliver()
    [(user, asked)] = microsoft.installs  # once, for both his plans
    assert user == SAM.aad_object_id
    assert asked == {"teamsApp@odata.bind":
                     f"{microsoft.base}/v1.0/appCatalogs/teamsApps/{CATALOG_APP}"}
    waiting = await sams_plans(store)
    assert [(m.delivered_at, m.last_error) for m in waiting] == [(None, WAITING)] * 2

    # Teams reports the personal installation: the bot learns Sam's Teams id.
    response = await bot.post("/api/messages", json={
        "type": "installationUpdate", "action": "add", "channelId": "msteams", "id": "i1",
        "serviceUrl": service_url, "recipient": {"id": "28:marac-bot"},
        "from": {"id": SAM_TEAMS_ID, "aadObjectId": SAM.aad_object_id},
        "conversation": {"id": f"a:1:1-{SAM_TEAMS_ID}", "conversationType": "personal",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}}})
    assert response.status == 201, await response.text()
    clock.set(clock.now() + backoff(1))
    await timers.deliver()
    assert all(m.delivered_at is not None for m in await sams_plans(store))
    plans = [a for a in to_sam(fake) if "MARAC action plan" in json.dumps(a)]
    assert len(plans) == 2 and all(p["summary"].startswith("Plan RIV-") for p in plans)
    assert len(microsoft.installs) == 1  # installed once


async def test_a_refused_install_ends_failed_with_the_reason_and_the_coordinator_told(
        store, clock, graph, connector, bot):
    microsoft, installer = graph
    microsoft.refuse_install = True
    fake, service_url = connector
    timers = await plans_queued(store, clock, service_url, installer)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await timers.deliver()
        clock.set(clock.now() + backoff(attempt))
    for failed in await sams_plans(store):
        assert failed.failed_at is not None and failed.attempts == MAX_ATTEMPTS
        assert failed.last_error.startswith("Teams refused to install the app for them (403)")
    assert not to_sam(fake)

    await tick(store, clock)  # the failure is reported
    told = await outbox(store, "dissemination failed")
    assert len(told) == 2  # one per plan
    assert await recipients(store, "dissemination failed") == ["Cara", "Cara"]
    assert all("Children's Social Care" in t.activity["text"]
               and "App installation is blocked by policy." in t.activity["text"] for t in told)
    async with store.unit_of_work() as session:
        marac_id = await session.scalar(select(Marac.id))
        assert marac_id is not None
        states = await dissemination.status(session, marac_id, clock.now())
    for state in states:
        social_care = next(a for a in state.agencies if a.agency == "Children's Social Care")
        assert social_care.state == "failed"
        assert "App installation is blocked by policy." in social_care.detail
