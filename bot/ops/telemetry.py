"""Traces, metrics and JSON logs through OpenTelemetry, for the operations team.

Where they go is chosen by the environment: the Azure Monitor distro (Application Insights)
when APPLICATIONINSIGHTS_CONNECTION_STRING is set, OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is
set (the OTEL_* variables configure the exporter), nowhere otherwise.

What they carry is ids only: the activity, conversation, case, outbox message and person ids,
the button's verb, the message's purpose. Never a name, a message's text or a card: the
bot's data is about victims of domestic abuse, and traces leave the tenant's database for a
monitoring workspace that more people can read."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.metrics import _Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage

log = logging.getLogger(__name__)
NAME = "marac.bot"

# The ids of the turn or delivery under way, for the log lines written inside it.
_ids: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("ids",
                                                                         default=None)


@dataclass
class Instruments:
    tracer: trace.Tracer
    turn_seconds: metrics.Histogram
    presses: metrics.Counter
    refusals: metrics.Counter
    backlog: _Gauge
    oldest_seconds: _Gauge
    failed_deliveries: metrics.Counter
    throttled: metrics.Counter
    timer_lag_seconds: metrics.Histogram

    @classmethod
    def from_providers(cls, tracer_provider: trace.TracerProvider | None = None,
                       meter_provider: metrics.MeterProvider | None = None) -> Instruments:
        meter = metrics.get_meter(NAME, meter_provider=meter_provider)
        return cls(
            tracer=trace.get_tracer(NAME, tracer_provider=tracer_provider),
            turn_seconds=meter.create_histogram(
                "marac.turn.duration", "s", "Time to answer one activity from Teams."),
            presses=meter.create_counter(
                "marac.card.presses", description="Card buttons pressed, by verb."),
            refusals=meter.create_counter(
                "marac.card.refusals", description="Card presses refused, by verb."),
            backlog=meter.create_gauge(
                "marac.outbox.backlog", description="Outbox messages not yet delivered."),
            oldest_seconds=meter.create_gauge(
                "marac.outbox.oldest_age", "s", "Age of the oldest undelivered message."),
            failed_deliveries=meter.create_counter(
                "marac.outbox.failed_deliveries",
                description="Outbox sends that failed (retried later, or given up)."),
            throttled=meter.create_counter(
                "marac.teams.throttled", description="429 answers from the Teams connector."),
            timer_lag_seconds=meter.create_histogram(
                "marac.timer.lag", "s", "How late a timer tick began against its interval."),
        )


_instruments = Instruments.from_providers()  # the API's no-ops until setup() says otherwise


def use(tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None) -> None:
    """Send to these providers (setup(), or a test's in-memory ones)."""
    global _instruments
    _instruments = Instruments.from_providers(tracer_provider, meter_provider)


def setup(env: Mapping[str, str]) -> str:
    """Configure the exporters the environment names; which one, for the start-up log."""
    if env.get("APPLICATIONINSIGHTS_CONNECTION_STRING"):
        from azure.monitor.opentelemetry import configure_azure_monitor

        configure_azure_monitor(logger_name="bot")
        use(None, None)  # the distro set the global providers
        return "Azure Monitor"
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or NAME})
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        meter_provider = MeterProvider(
            resource=resource,
            metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())])
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)
        use(None, None)
        return "OTLP"
    return "none"


def _activity_ids(activity: Any) -> dict[str, str]:
    ids = {"marac.activity.id": activity.id or "", "marac.activity.type": activity.type or "",
           "marac.conversation.id": activity.conversation.id if activity.conversation else ""}
    if activity.name:  # an invoke's name ("adaptiveCard/action"), fixed by Teams
        ids["marac.activity.name"] = activity.name
    return ids


@contextlib.contextmanager
def turn(activity: Any) -> Iterator[None]:
    """A span over one activity's turn, and its latency."""
    ids = _activity_ids(activity)
    began = time.perf_counter()
    token = _ids.set(ids)
    try:
        with _instruments.tracer.start_as_current_span("marac.turn", attributes=ids):
            yield
    finally:
        seconds = time.perf_counter() - began
        log.info("turn answered in %.0f ms", seconds * 1000)  # with the turn's ids
        _ids.reset(token)
        _instruments.turn_seconds.record(seconds,
                                         {"marac.activity.type": ids["marac.activity.type"]})


def pressed(verb: str, case: str, refused: bool) -> None:
    """A card button's press: counted by verb, and its case on the turn's span and logs."""
    attributes = {"marac.verb": verb}
    _instruments.presses.add(1, attributes)
    if refused:
        _instruments.refusals.add(1, attributes)
    noted = {"marac.verb": verb, "marac.refused": str(refused).lower()}
    if case:  # a case number or referral id, never the victim's name
        noted["marac.case.id"] = case
    _ids.set({**(_ids.get() or {}), **noted})
    trace.get_current_span().set_attributes(noted)


@contextlib.contextmanager
def delivery(message: OutboxMessage) -> Iterator[None]:
    """A span over one outbox message's send; a failed one is counted."""
    ids = {"marac.outbox.id": str(message.id), "marac.outbox.purpose": message.purpose,
           "marac.outbox.attempt": str(message.attempts)}
    if message.conversation_id is not None:
        ids["marac.conversation.id"] = message.conversation_id
    else:
        ids["marac.person.id"] = str(message.person_id)
    token = _ids.set(ids)
    try:
        with _instruments.tracer.start_as_current_span("marac.outbox.delivery",
                                                       attributes=ids):
            yield
    finally:
        _ids.reset(token)


def delivered(message: OutboxMessage, sent: bool) -> None:
    trace.get_current_span().set_attribute("marac.outbox.delivered", sent)
    log.info("outbox message %s", "delivered" if sent else "not delivered")  # with its ids
    if not sent:
        _instruments.failed_deliveries.add(1, {"marac.outbox.purpose": message.purpose})


def throttled() -> None:
    _instruments.throttled.add(1)


def timer_lag(seconds: float) -> None:
    _instruments.timer_lag_seconds.record(seconds)


async def observe_outbox(session: AsyncSession, now: datetime) -> None:
    """The outbox's backlog and the age of its oldest undelivered message: what warns that
    plans are not leaving long before the bot's own 36-hour alert."""
    undelivered = (OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None))
    count, oldest = (await session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(*undelivered))).one()
    _instruments.backlog.set(count)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # SQLite hands times back naive
    _instruments.oldest_seconds.set(
        max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)


class JsonLines(logging.Formatter):
    """One JSON object a line, with the ids of the turn or delivery it was written in."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            **(_ids.get() or {}),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            line["trace_id"], line["span_id"] = f"{span.trace_id:032x}", f"{span.span_id:016x}"
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(level: str, json_lines: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
