"""The desk's and the panel's JSON over real HTTP, signed in with Teams SSO tokens from the
local OpenID authority: no token, an expired one, one for another audience, one signed with
another key or from an unlisted tenant gets 401 and nothing; a signed-in person is served as
in the chat, with the same refusals and an audit row with the true outcome."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from bot.config import Settings
from bot.desk.tokens import DEV_AUDIENCE, DEV_ISSUER, DevTokens
from bot.teams.app import create_app
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT
from dialogs.installation import ConversationSeen, record_installation
from storage.models import (
    Agency,
    AgencyInformation,
    AuditEvent,
    Case,
    ConversationKind,
    Marac,
    OutboxMessage,
    Person,
    Role,
    RoleGrant,
)
from tests.http.connector import Connector
from tests.http.openid_server import SigningAuthority
from tests.store.meeting_factory import started
from tests.store.plan_factory import end_meeting, heard, tick

APP_ID = "5f1c9a52-8a7e-4c2b-9d1e-3b7a6c0e2f11"
OID = {p.full_name.split()[0]: p.aad_object_id for p in DEMO_PEOPLE}
PANEL = f"/desk/api/panel?team={DEMO_TEAM}&channel={DEMO_TEAM}"
NOTHING = {"error": "Sign in through Teams."}


@pytest.fixture(scope="module")
def authority() -> Any:
    authority = SigningAuthority()
    yield authority
    authority.close()


def claims(person: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    tenant = overrides.pop("tid", DEMO_TENANT)
    return {"iss": f"https://login.microsoftonline.com/{tenant}/v2.0", "aud": APP_ID,
            "tid": tenant, "oid": OID.get(person, person), "name": person,
            "iat": now - 60, "nbf": now - 60, "exp": now + 3600, **overrides}


@pytest.fixture
async def desk(store, clock, authority) -> AsyncIterator[TestClient]:
    await started(store, clock)
    settings = Settings(app_id=APP_ID, app_password="secret", timer_seconds=0,
                        sso_metadata_url=authority.metadata_url,
                        openid_metadata_url=authority.metadata_url)
    client = TestClient(TestServer(create_app(settings, store, clock)))
    await client.start_server()
    yield client
    await client.close()


def bearer(authority: SigningAuthority, person: str, **overrides: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {authority.sign(claims(person, **overrides))}"}


async def audit_rows(store) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    async with store.unit_of_work() as session:
        return list((await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def test_bad_tokens_get_401_and_nothing(desk, store, authority):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    refused = {
        "no token": {},
        "not a bearer": {"Authorization": "Basic Y2FyYTpwYXNz"},
        "expired": bearer(authority, "Cara", exp=now - 10, iat=now - 3700, nbf=now - 3700),
        "another audience": bearer(authority, "Cara", aud="api://another-app"),
        "another key": {"Authorization": "Bearer " + authority.sign(claims("Cara"), other_key)},
        "an unlisted tenant": bearer(authority, "Cara", tid="another-tenant"),
        "another tenant's issuer": bearer(
            authority, "Cara", iss="https://login.microsoftonline.com/another-tenant/v2.0"),
        "no expiry": {"Authorization": "Bearer " + authority.sign(
            {k: v for k, v in claims("Cara").items() if k != "exp"})},
    }
    for why, headers in refused.items():
        for path in ("/desk/api/me", "/desk/api/triage", PANEL):
            response = await desk.get(path, headers=headers)
            assert response.status == 401, (why, path)
            assert await response.json() == NOTHING
        response = await desk.post("/desk/api/panel/next?" + PANEL.split("?")[1],
                                   headers=headers)
        assert response.status == 401, why
    assert await audit_rows(store) == []


async def test_a_coordinator_is_served_and_audited(desk, store, authority):
    response = await desk.get("/desk/api/me", headers=bearer(authority, "Cara"))
    assert response.status == 200
    me = await response.json()
    assert me["first_name"] == "Cara" and me["marac"]["name"] == "Riverside MARAC"
    assert set(me["sections"]) == {"triage", "agendas", "dissemination", "actions", "figures"}
    response = await desk.get("/desk/api/agendas", headers=bearer(authority, "Cara"))
    assert response.status == 200
    cases = (await response.json())["meetings"][0]["cases"]
    assert [c["first_name"] for c in cases] == ["Amy", "Bethan", "Chloe", "Dina"]
    [row] = await audit_rows(store)
    assert (row.action, row.outcome, row.place) == ("agenda", "done", "personal chat")


async def test_roles_count_only_in_the_marac_acted_on(desk, store, authority):
    async with store.unit_of_work() as session:
        hillside = Marac(name="Hillside MARAC", area="Hillside", tenant_id=DEMO_TENANT,
                         case_prefix="HIL")
        session.add(hillside)
        cara = await session.scalar(select(Person).where(Person.aad_object_id == OID["Cara"]))
        assert cara is not None
        await session.flush()
        session.add(RoleGrant(person_id=cara.id, marac_id=hillside.id, role=Role.OBSERVER))
        hillside_id = hillside.id
    cara_token = bearer(authority, "Cara")
    me = await (await desk.get("/desk/api/me", headers=cara_token)).json()
    assert me["marac"] is None
    assert [m["name"] for m in me["name_one_of"]] == ["Hillside MARAC", "Riverside MARAC"]
    riverside_id = me["name_one_of"][1]["id"]
    me = await (await desk.get(f"/desk/api/me?marac={hillside_id}", headers=cara_token)).json()
    assert (me["marac"]["name"], me["roles"]) == ("Hillside MARAC", ["observer"])
    response = await desk.get(f"/desk/api/triage?marac={hillside_id}", headers=cara_token)
    assert response.status == 403
    response = await desk.get(f"/desk/api/triage?marac={riverside_id}", headers=cara_token)
    assert response.status == 200


async def test_the_figures_are_the_reports_and_a_bad_period_is_refused(desk, store, authority):
    cara = bearer(authority, "Cara")
    response = await desk.get("/desk/api/figures?period=2026-Q3", headers=cara)
    assert response.status == 200
    figures = await response.json()
    assert (figures["period"], figures["cases_heard"]) == ("01 Jul 2026 to 30 Sep 2026", 0)
    response = await desk.get("/desk/api/figures?period=someday", headers=cara)
    assert response.status == 409
    assert (await response.json())["refused"]
    response = await desk.get("/desk/api/figures", headers=bearer(authority, "Priya"))
    assert response.status == 403
    rows = await audit_rows(store)
    assert [(r.action, r.outcome) for r in rows] == [("report", "done"), ("report", "refused"),
                                                     ("report", "refused")]


async def test_an_observer_sees_the_agenda_but_not_triage(desk, store, authority):
    observer = bearer(authority, "Owen")
    me = await (await desk.get("/desk/api/me", headers=observer)).json()
    assert me["sections"] == ["agendas"]
    response = await desk.get("/desk/api/triage", headers=observer)
    assert response.status == 403
    assert (await response.json())["refused"]
    response = await desk.post("/desk/api/triage/1/accept", headers=observer)
    assert response.status == 403
    rows = await audit_rows(store)
    assert [(r.action, r.outcome) for r in rows] == [("triage", "refused"),
                                                     ("triage.accept", "refused")]


async def test_unreachable_signing_keys_are_503_not_a_judgement_of_the_token(
        store, clock, authority):
    settings = Settings(app_id=APP_ID, app_password="secret", timer_seconds=0,
                        sso_metadata_url="http://127.0.0.1:9/.well-known/openid-configuration")
    client = TestClient(TestServer(create_app(settings, store, clock)))
    await client.start_server()
    try:
        response = await client.get("/desk/api/me", headers=bearer(authority, "Cara"))
        assert response.status == 503
    finally:
        await client.close()


async def test_an_observer_cannot_advance_the_meeting(desk, store, authority):
    observer = bearer(authority, "Owen")
    response = await desk.get(PANEL + "&opening=1", headers=observer)
    assert response.status == 200
    panel = await response.json()
    assert panel["chairs"] is False and panel["running"] is True
    response = await desk.post("/desk/api/panel/next?" + PANEL.split("?")[1], headers=observer)
    assert response.status == 403
    assert "chair" in (await response.json())["refused"]
    rows = await audit_rows(store)
    assert [(r.action, r.outcome) for r in rows] == [("agenda", "done"), ("next", "refused")]
    assert rows[-1].place == "channel"


async def test_the_chair_advances_and_the_meeting_chat_is_told(desk, store, authority):
    chair = bearer(authority, "Chris")
    response = await desk.post("/desk/api/panel/next?" + PANEL.split("?")[1], headers=chair)
    assert response.status == 200
    panel = await response.json()
    assert panel["chairs"] is True
    assert panel["current"]["first_name"] == "Amy"
    assert panel["current"]["remaining"] == panel["current"]["length"]
    async with store.unit_of_work() as session:
        posted = (await session.scalars(select(OutboxMessage))).all()
    assert {m.conversation_id for m in posted} == {DEMO_TEAM}
    response = await desk.post("/desk/api/panel/extend?" + PANEL.split("?")[1],
                               headers=chair, json={"minutes": "many"})
    assert response.status == 409
    assert (await response.json())["refused"] == "Say how many minutes, e.g. **extend 5**."
    rows = await audit_rows(store)
    assert [(r.action, r.outcome) for r in rows] == [("next", "done"), ("extend", "refused")]


async def test_the_chairs_buttons_run_the_chairs_commands(desk, store, authority):
    chair, place = bearer(authority, "Chris"), PANEL.split("?")[1]

    async def press(command: str, **body: str) -> dict[str, Any]:
        response = await desk.post(f"/desk/api/panel/{command}?{place}", headers=chair,
                                   json=body)
        assert response.status == 200, await response.text()
        return await response.json()

    assert (await press("next"))["current"]["first_name"] == "Amy"
    assert (await press("pause"))["paused"] is True
    assert (await press("resume"))["paused"] is False
    extended = (await press("extend", minutes="5"))["current"]
    assert extended["length"] == 25 * 60
    deferred = await press("defer", reason="The police need another week.")
    assert deferred["current"] is None
    assert "Amy" not in [c["first_name"] for c in deferred["cases"]]  # to the next meeting
    ended = await press("end")
    assert ended["running"] is False
    rows = await audit_rows(store)
    assert [(r.action, r.outcome) for r in rows] == [
        (name, "done") for name in ("next", "pause", "resume", "extend", "defer", "end")]


async def test_the_agenda_shows_breaches_and_research_returned_per_agency(desk, store, clock,
                                                                       authority):
    async with store.unit_of_work() as session:
        cases = (await session.scalars(select(Case).order_by(Case.slot))).all()
        police = await session.scalar(select(Agency.id).where(Agency.name == "Police"))
        health = await session.scalar(select(Agency.id).where(Agency.name == "Health"))
        cases[1].breaches_target = True
        for agency, late in ((police, False), (health, True)):
            session.add(AgencyInformation(case_id=cases[0].id, agency_id=agency, text="Known.",
                                          sent_at=clock.now(),
                                          before_meeting=True, late=late))
    response = await desk.get("/desk/api/agendas", headers=bearer(authority, "Cara"))
    [first, second, *_] = (await response.json())["meetings"][0]["cases"]
    assert first["research"] == [{"agency": "Health", "late": True},
                                 {"agency": "Police", "late": False}]
    assert (first["breaches_target"], second["breaches_target"]) == (False, True)
    observer = await (await desk.get("/desk/api/agendas", headers=bearer(authority, "Owen"))
                      ).json()
    assert observer["meetings"][0]["cases"][0]["research"] == []  # no case papers


async def test_the_dissemination_board_counts_against_48_hours(store, clock, authority):
    await heard(store, clock)
    ended = await end_meeting(store, clock)
    await tick(store, clock)
    settings = Settings(app_id=APP_ID, app_password="secret", timer_seconds=0,
                        sso_metadata_url=authority.metadata_url)
    client = TestClient(TestServer(create_app(settings, store, clock)))
    await client.start_server()
    try:
        states = []
        for hours in (1, 40, 50):
            clock.set(ended + timedelta(hours=hours))
            response = await client.get("/desk/api/dissemination",
                                        headers=bearer(authority, "Cara"))
            states.append({plan["state"] for plan in (await response.json())["plans"]})
        assert states == [{"on time"}, {"at risk"}, {"late"}]
    finally:
        await client.close()


async def test_the_page_is_framed_only_by_teams_and_has_no_dev_sign_in(desk):
    response = await desk.get("/desk/")
    assert response.status == 200
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://teams.microsoft.com" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["Cache-Control"] == "no-store"
    assert (await desk.get("/desk/dev")).status == 404
    response = await desk.post("/desk/dev/token", json={"id": OID["Cara"]})
    assert response.status in (404, 405)


@pytest.fixture
async def dev_desk(store, clock) -> AsyncIterator[TestClient]:
    """The bot with no app id, as `marac dev` runs it."""
    await started(store, clock)
    client = TestClient(TestServer(create_app(Settings(timer_seconds=0), store, clock)))
    await client.start_server()
    yield client
    await client.close()


async def test_the_dev_sign_in_issues_a_local_token_for_a_demo_person(dev_desk):
    assert (await dev_desk.get("/desk/dev")).status == 200
    people = (await (await dev_desk.get("/desk/dev/people")).json())["people"]
    assert {"id": OID["Cara"], "first_name": "Cara"} in people
    response = await dev_desk.post("/desk/dev/token", json={"id": OID["Cara"]})
    token = (await response.json())["token"]
    response = await dev_desk.get("/desk/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    assert (await response.json())["first_name"] == "Cara"
    response = await dev_desk.post("/desk/dev/token", json={"id": "nobody"})
    assert response.status == 404
    forged = jwt.encode({"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "tid": DEMO_TENANT,
                         "oid": OID["Cara"], "iat": int(time.time()),
                         "exp": int(time.time()) + 60},
                        "a guessed secret, long enough for HS256", algorithm="HS256")
    response = await dev_desk.get("/desk/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status == 401


async def test_a_dev_token_is_refused_once_an_app_id_is_set(desk):
    token = DevTokens().issue(DEMO_TENANT, OID["Cara"], "Cara")
    response = await desk.get("/desk/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 401


HOSTILE_BODIES: list[Any] = [b"not json", b"\xff\xfe", b"[1, 2]", b"null", b'{"note": 5}',
                             b'{"note": {"a": [1]}, "reason": null, "minutes": [5]}',
                             b'{"minutes": "99999999999"}', b'{"reason": "' + b"x" * 5000 + b'"}']
HOSTILE_PATHS = ["/desk/api/triage/1/accept", "/desk/api/triage/99999999999999999999/more",
                 "/desk/api/triage/-1/decline", "/desk/api/actions/1/cannot",
                 "/desk/api/actions/abc/done", "/desk/api/triage/1/explode",
                 "/desk/api/panel/extend?" + PANEL.split("?")[1],
                 "/desk/api/panel/defer?" + PANEL.split("?")[1], "/desk/api/panel/next",
                 "/desk/api/panel/next?chat=" + "x" * 3000]


async def test_hostile_requests_get_a_4xx_or_a_sentence_never_a_5xx(desk, authority):
    for person in ("Cara", "Chris", "Owen"):
        headers = {**bearer(authority, person), "Content-Type": "application/json"}
        for path in HOSTILE_PATHS:
            for body in HOSTILE_BODIES:
                response = await desk.post(path, data=body, headers=headers)
                assert response.status < 500, (person, path, body[:40], response.status)


async def test_the_panels_next_posts_the_case_card_and_keeps_its_id(store, clock):
    """As typed `next` is answered: the case card is posted to the meeting's chat at once, and
    its id kept, so that the case card is updated in place afterwards."""
    fake = Connector()
    async with TestServer(fake.app) as connector:
        await started(store, clock)
        service_url = str(connector.make_url("/"))
        async with store.unit_of_work() as session:
            reference = {"bot": {"id": "28:marac-bot"}, "conversation": {"id": DEMO_TEAM},
                         "serviceUrl": service_url, "channelId": "msteams"}
            await record_installation(session, ConversationSeen(
                DEMO_TEAM, ConversationKind.CHANNEL, DEMO_TENANT, DEMO_TEAM, DEMO_TEAM,
                service_url, json.dumps(reference)), clock.now())
        client = TestClient(TestServer(create_app(Settings(timer_seconds=0), store, clock)))
        await client.start_server()
        try:
            token = DevTokens().issue(DEMO_TENANT, OID["Chris"], "Chris")
            response = await client.post("/desk/api/panel/next?" + PANEL.split("?")[1],
                                         headers={"Authorization": f"Bearer {token}"})
            assert response.status == 200
        finally:
            await client.close()
    [card] = [m for m in fake.sent if m.get("attachments")]
    assert card["conversation_id"] == DEMO_TEAM
    async with store.unit_of_work() as session:
        first = await session.scalar(select(Case).order_by(Case.slot).limit(1))
        assert first is not None and first.card_message_id == f"sent-{fake.sent.index(card) + 1}"
        assert (await session.scalars(select(OutboxMessage))).all() == []
