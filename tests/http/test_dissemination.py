"""After the meeting, over HTTP: the timer delivers each plan as a 1:1 card to the entitled
representatives through botbuilder's real connector client to a local connector (a withheld
agency's representative receives nothing); an owner acknowledges one action and cannot
complete another through /api/messages, and the coordinator and the operations manager are
told; `dissemination`, `plan CASE` and `my actions` answer in personal chat."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.config import Settings
from bot.proactive.timers import Timers
from bot.teams.app import create_adapter, create_app
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT
from dialogs.installation import ConversationSeen, record_installation
from storage.models import ActionFollowUp, AuditEvent, ConversationKind
from tests.http.connector import Connector
from tests.store.plan_factory import end_meeting, follow_up_of, heard

PEOPLE = {p.full_name.split()[0]: p for p in DEMO_PEOPLE}
PAT = ("user-id-9", "0d3a1c00-0000-4000-8000-000000000009")  # Probation: no agreement signed


@pytest.fixture
async def connector() -> AsyncIterator[tuple[Connector, str]]:
    fake = Connector()
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


@pytest.fixture
async def bot(store, clock, connector) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(Settings(timer_seconds=0), store, clock)))
    await client.start_server()
    yield client
    await client.close()


async def install(store, clock, service_url: str) -> None:
    async with store.unit_of_work() as session:
        reference = {"bot": {"id": "28:marac-bot"}, "conversation": {"id": DEMO_TEAM},
                     "serviceUrl": service_url, "channelId": "msteams"}
        await record_installation(session, ConversationSeen(
            DEMO_TEAM, ConversationKind.CHANNEL, DEMO_TENANT, DEMO_TEAM, DEMO_TEAM,
            service_url, json.dumps(reference)), clock.now())


def personal(who: str, service_url: str, **fields: Any) -> dict[str, Any]:
    teams_id, aad = (PAT if who == "Pat" else
                     (PEOPLE[who].teams_user_id, PEOPLE[who].aad_object_id))
    return {
        "channelId": "msteams", "id": uuid.uuid4().hex, "serviceUrl": service_url,
        "from": {"id": teams_id, "aadObjectId": aad}, "recipient": {"id": "28:marac-bot"},
        "conversation": {"id": f"a:1:1-{teams_id}", "conversationType": "personal",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}}, **fields,
    }


async def say(client: TestClient, fake: Connector, who: str, service_url: str, text: str
              ) -> dict[str, Any]:
    before = len(fake.sent)
    response = await client.post("/api/messages", json=personal(
        who, service_url, type="message", text=text))
    assert response.status in (200, 201), await response.text()
    (reply,) = fake.sent[before:]
    return reply


async def invoke(client: TestClient, who: str, service_url: str, verb: str,
                 data: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/messages", json=personal(
        who, service_url, type="invoke", name="adaptiveCard/action", replyToId="card-1",
        value={"action": {"type": "Action.Execute", "verb": verb, "data": data}}))
    assert response.status == 200, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


def received(fake: Connector) -> dict[str, list[str]]:
    """Who got what over the connector: first name -> the texts of their messages."""
    by_id = {p.teams_user_id: name for name, p in PEOPLE.items()} | {PAT[0]: "Pat"}
    got: dict[str, list[str]] = {}
    for activity in fake.sent:
        member = str(activity["conversation_id"]).removeprefix("a:1:1-")
        got.setdefault(by_id.get(member, member), []).append(json.dumps(activity))
    return got


async def test_after_the_meeting_the_plan_reaches_every_entitled_representative(
        store, clock, connector, bot):
    fake, service_url = connector
    await install(store, clock, service_url)
    h = await heard(store, clock, probation_rep=True)
    await end_meeting(store, clock)
    timers = Timers(store, create_adapter(Settings()), clock, app_id="")
    await timers.tick()
    got = received(fake)
    plans = {name for name, texts in got.items()
             if any("MARAC action plan " + h.number in t for t in texts)}
    assert plans == {"Priya", "Imogen"}  # Sam has no Teams id yet: kept in the outbox
    assert "Pat" not in got  # Probation has not signed: its representative gets nothing
    assert "Owen" not in got  # nor does an observer
    assert any("is going out. Not sent" in t and "Probation" in t for t in got["Cara"])
    assert any("action.acknowledge" in t for t in got["Priya"])

    # Priya acknowledges her action; Imogen cannot complete hers.
    priya_action = await follow_up_of(store, h.actions["Priya"])
    answer = await invoke(bot, "Priya", service_url, "action.acknowledge",
                          {"follow_up": priya_action})
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert "acknowledged" in json.dumps(answer["value"])
    imogen_action = await follow_up_of(store, h.actions["Imogen"])
    refused = await invoke(bot, "Imogen", service_url, "action.cannot",
                           {"follow_up": imogen_action, "reason": ""})
    assert "Say why the action cannot be completed." in json.dumps(refused["value"])
    await invoke(bot, "Imogen", service_url, "action.cannot",
                 {"follow_up": imogen_action, "reason": "The victim has moved away."})
    stolen = await invoke(bot, "Imogen", service_url, "action.done",
                          {"follow_up": priya_action, "note": "x"})
    assert stolen == {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                      "value": "Only the action's owner, their agency or the coordinator can "
                               "answer for this action."}
    fake.sent.clear()
    await timers.deliver()
    told = received(fake)
    assert set(told) == {"Cara", "Olu"}
    assert all("cannot be completed" in texts[0] and "moved away" in texts[0]
               for texts in told.values())
    async with store.unit_of_work() as session:
        statuses = sorted(s.value for s in (await session.scalars(
            select(ActionFollowUp.status))).all())
    assert statuses == ["acknowledged", "cannot_complete"]

    reply = await say(bot, fake, "Cara", service_url, "dissemination")
    card = json.dumps(reply["attachments"][0]["content"])
    assert "Dissemination" in card and h.number in card
    assert "2 sent" in card and "1 pending" in card and "1 withheld" in card
    assert "left of 48" in card


async def test_plan_my_actions_and_refusals_in_personal_chat(store, clock, connector, bot):
    fake, service_url = connector
    await install(store, clock, service_url)
    h = await heard(store, clock, probation_rep=True)
    await Timers(store, create_adapter(Settings()), clock, app_id="").circulate()
    plan = await say(bot, fake, "Priya", service_url, f"plan {h.number}")
    content = json.dumps(plan["attachments"][0]["content"])
    assert f"Plan {h.number}" in content and "Version 1 of 1" in content
    observer = await say(bot, fake, "Owen", service_url, f"plan {h.number}")
    assert observer["text"].startswith("Observers do not receive case papers, so 'plan'")
    withheld = await say(bot, fake, "Pat", service_url, f"plan {h.number}")
    assert withheld["text"] == ("Probation has not signed the information sharing agreement, "
                                "so it cannot see MARAC plans; ask your coordinator.")
    mine = await say(bot, fake, "Priya", service_url, "my actions")
    assert "Police safety step for the victim." in json.dumps(mine["attachments"][0])
    form = await say(bot, fake, "Priya", service_url, f"update {h.number}")
    assert "plan.update" in json.dumps(form["attachments"][0])
    added = await invoke(bot, "Priya", service_url, "plan.update",
                         {"case": h.number, "text": "He has been released.",
                          "risk_raised": "true"})
    assert added["value"] == (f"Added to the plan for {h.number} as version 2: the referring "
                              "agency is told to update children's services within 24 hours.")
    plan = await say(bot, fake, "Priya", service_url, f"plan {h.number}")
    assert "RISK RAISED: He has been released." in json.dumps(plan["attachments"][0])


async def test_plan_export_offers_the_document_and_uploads_it_once_accepted(
        store, clock, connector, bot):
    from aiohttp import web
    from botbuilder.core import TurnContext
    from botbuilder.core.adapters import TestAdapter
    from botbuilder.schema import Activity
    from botbuilder.schema.teams import FileConsentCardResponse, FileUploadInfo
    from docx import Document

    from bot.features.documents import FILE_CONSENT
    from bot.features.plan_export import EXPORTED
    from bot.teams.file_consent import accept
    from bot.teams.files import FILE_INFO

    fake, service_url = connector
    await install(store, clock, service_url)
    h = await heard(store, clock)
    await Timers(store, create_adapter(Settings()), clock, app_id="").circulate()
    refused = await say(bot, fake, "Priya", service_url, f"plan {h.number} export")
    assert refused["text"] == "Only the coordinator can export a plan."
    offer = await say(bot, fake, "Cara", service_url, f"plan {h.number} export")
    (attachment,) = offer["attachments"]
    assert attachment["contentType"] == FILE_CONSENT
    assert attachment["name"] == f"MARAC-plan-{h.number}-v1.docx"
    assert attachment["content"]["acceptContext"] == {"case": h.number, "version": 1}

    uploads: list[bytes] = []

    async def put(request: web.Request) -> web.Response:
        uploads.append(await request.read())
        return web.json_response({"id": "file-1"}, status=201)

    app = web.Application()
    app.router.add_put("/upload/{name}", put)
    async with TestServer(app) as onedrive:
        response = FileConsentCardResponse(
            action="accept", context=attachment["content"]["acceptContext"],
            upload_info=FileUploadInfo(
                name=attachment["name"], upload_url=str(onedrive.make_url("/upload/plan")),
                content_url="https://contoso.sharepoint.com/plan.docx", unique_id="u-1",
                file_type="docx"))
        for who in ("Priya", "Cara"):
            adapter = TestAdapter()
            activity = Activity().deserialize(personal(who, service_url, type="invoke",
                                                       name="fileConsent/invoke"))
            await accept(TurnContext(adapter, activity), response, store, clock)
            (sent,) = adapter.activity_buffer
            if who == "Priya":
                assert sent.text == "Only the coordinator can export a plan."
                assert uploads == []
    assert sent.attachments[0].content_type == FILE_INFO
    (document,) = uploads
    paragraphs = [p.text for p in Document(io.BytesIO(document)).paragraphs]
    assert f"MARAC action plan {h.number} · Amy" in paragraphs
    async with store.unit_of_work() as session:  # Priya's refusal and Cara's export, audited
        exported = [(e.outcome, e.subject) for e in (await session.scalars(
            select(AuditEvent).where(AuditEvent.action == EXPORTED)
            .order_by(AuditEvent.id))).all()]
    assert exported == [("refused", h.number), ("done", h.number)]
