"""What the operations team sees of one card press and one outbox delivery, read through
OpenTelemetry's in-memory exporters and the JSON log lines: the ids are there (activity,
conversation, case, outbox message), and no victim's or professional's name nor any free
text is."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from bot.config import Settings
from bot.ops import telemetry
from bot.proactive import outbox
from bot.teams.app import TIMERS, create_app
from bot.turns.replies import text_reply
from dialogs.demo import DEMO_PEOPLE, DEMO_TEAM, DEMO_TENANT, DEMO_VICTIMS
from dialogs.installation import ConversationSeen, record_installation
from storage.database import Store
from storage.models import ConversationKind, OutboxMessage
from tests.http.connector import Connector
from tests.store.meeting_factory import started

FREE_TEXT = "Amy is staying with her sister until Friday"
NAMES = [*DEMO_VICTIMS, *(name for p in DEMO_PEOPLE for name in p.full_name.split())]


class Exported:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricReader()
        self.lines: list[str] = []

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self) -> dict[str, list[tuple[dict[str, Any], Any]]]:
        """Each metric's data points: (attributes, value or histogram count)."""
        found: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        data = self.metrics.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found[metric.name] = [
                        (dict(p.attributes or {}), getattr(p, "value", getattr(p, "count", None)))
                        for p in metric.data.data_points]
        return found


class Lines(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.INFO)
        self.lines = lines
        self.setFormatter(telemetry.JsonLines())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def exported() -> Iterator[Exported]:
    found = Exported()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(found.spans))
    telemetry.use(tracer_provider, MeterProvider(metric_readers=[found.metrics]))
    handler, root = Lines(found.lines), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield found
    root.removeHandler(handler)
    root.setLevel(level)
    telemetry.use(None, None)


@pytest.fixture
async def connector() -> AsyncIterator[tuple[Connector, str]]:
    fake = Connector()
    async with TestServer(fake.app) as server:
        yield fake, str(server.make_url("/"))


@pytest.fixture
async def bot(database_url, clock, connector) -> AsyncIterator[TestClient]:
    _, service_url = connector
    store = Store.from_url(database_url)
    await started(store, clock)  # the demo meeting, opened by its chair in the channel
    async with store.unit_of_work() as session:
        reference = {"bot": {"id": "28:marac-bot"}, "conversation": {"id": DEMO_TEAM},
                     "serviceUrl": service_url, "channelId": "msteams"}
        await record_installation(session, ConversationSeen(
            DEMO_TEAM, ConversationKind.CHANNEL, DEMO_TENANT, DEMO_TEAM, DEMO_TEAM,
            service_url, json.dumps(reference)), clock.now())
    client = TestClient(TestServer(create_app(
        Settings(database_url=database_url, timer_seconds=0), store, clock)))
    await client.start_server()
    yield client
    await client.close()


def press(service_url: str) -> dict[str, object]:
    coordinator = DEMO_PEOPLE[0]
    return {
        "type": "invoke", "name": "adaptiveCard/action", "id": "press-1",
        "channelId": "msteams", "serviceUrl": service_url, "replyToId": "card-1",
        "from": {"id": coordinator.teams_user_id, "aadObjectId": coordinator.aad_object_id,
                 "name": coordinator.full_name},
        "recipient": {"id": "28:marac-bot"},
        "conversation": {"id": DEMO_TEAM, "conversationType": "channel",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}, "team": {"id": DEMO_TEAM},
                        "channel": {"id": DEMO_TEAM}},
        "value": {"action": {"type": "Action.Execute", "verb": "case.view",
                             "data": {"case": case_number()}}},
    }


def case_number() -> str:
    return "RIV-2026-001"  # the demo's first case, in the clock's year


def everything(found: Exported) -> str:
    spans = [dict(span.attributes or {}) | {"name": span.name} for span in found.finished()]
    return json.dumps([spans, found.points(), found.lines], default=str)


async def test_a_press_and_a_delivery_are_traced_by_id_and_never_by_name(
        bot, connector, clock, exported):
    fake, service_url = connector
    response = await bot.post("/api/messages", json=press(service_url))
    assert response.status == 200
    answer = json.dumps(await response.json())
    assert "Amy" in answer  # the presser was shown the victim's name; telemetry must not be

    store: Store = bot.app[TIMERS].store
    async with store.unit_of_work() as session:
        outbox.enqueue(session, text_reply(FREE_TEXT, "Case list"), "case-list",
                       clock.now(), conversation_id=DEMO_TEAM)
    async with store.unit_of_work() as session:
        message_id = await session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.purpose == "case-list"))
    fake.refuse_next = [429]  # Teams throttles once; the sender waits and sends again
    await bot.app[TIMERS].tick()
    assert FREE_TEXT in [a.get("text") for a in fake.sent]

    spans = {span.name: dict(span.attributes or {}) for span in exported.finished()}
    assert spans["marac.turn"] == {
        "marac.activity.id": "press-1", "marac.activity.type": "invoke",
        "marac.activity.name": "adaptiveCard/action", "marac.conversation.id": DEMO_TEAM,
        "marac.verb": "case.view", "marac.refused": "false", "marac.case.id": case_number()}
    delivery = [dict(s.attributes or {}) for s in exported.finished()
                if s.name == "marac.outbox.delivery"
                and (s.attributes or {}).get("marac.outbox.id") == str(message_id)]
    assert delivery == [{"marac.outbox.id": str(message_id), "marac.outbox.purpose": "case-list",
                         "marac.outbox.attempt": "1", "marac.conversation.id": DEMO_TEAM,
                         "marac.outbox.delivered": True}]

    points = exported.points()
    assert points["marac.card.presses"] == [({"marac.verb": "case.view"}, 1)]
    assert "marac.card.refusals" not in points
    assert points["marac.turn.duration"] == [({"marac.activity.type": "invoke"}, 1)]
    assert points["marac.teams.throttled"] == [({}, 1)]
    assert points["marac.outbox.backlog"] == [({}, 0)]
    assert points["marac.outbox.oldest_age"] == [({}, 0.0)]

    turn_lines = [json.loads(line) for line in exported.lines
                  if json.loads(line).get("marac.activity.id") == "press-1"]
    assert turn_lines and all(line["marac.case.id"] == case_number() for line in turn_lines)
    assert any(json.loads(line).get("marac.outbox.id") == str(message_id)
               for line in exported.lines)

    seen = everything(exported)
    assert FREE_TEXT.split()[2] not in seen  # "staying": nothing of the message's text
    for name in NAMES:
        assert not re.search(rf"\b{re.escape(name)}\b", seen), name
