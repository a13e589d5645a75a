"""Where telemetry goes is the environment's choice: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is
set, nowhere when nothing is. Each in its own interpreter, since OpenTelemetry's providers
are set once per process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize(("env", "chosen"), [
    ({}, "none"),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}, "OTLP"),
])
def test_the_environment_chooses_the_exporter(env: dict[str, str], chosen: str) -> None:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("OTEL_", "APPLICATIONINSIGHTS_"))}
    script = ("import os; from opentelemetry import trace; from bot.ops import telemetry; "
              "print(telemetry.setup(os.environ), type(trace.get_tracer_provider()).__name__)")
    done = subprocess.run([sys.executable, "-c", script], env={**clean, **env},
                          capture_output=True, text=True, timeout=120, check=True)
    provider = "TracerProvider" if chosen == "OTLP" else "ProxyTracerProvider"
    assert done.stdout.split() == [chosen, provider]
