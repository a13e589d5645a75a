"""The servers under test, each its own process: started, watched (CPU time, resident
memory) and always stopped, even when the benchmark fails or is interrupted."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import clock as bench_clock

PYTHON = sys.executable
MARAC = str(Path(PYTHON).with_name("marac"))
PR_SET_PDEATHSIG = 1
ROOT = Path(__file__).resolve().parent.parent  # `python -m bench.*` runs from here


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the benchmark itself is killed outright."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    health: str = "/healthz"
    log: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path, timeout: float = 60.0) -> None:
        self.log = log_dir / f"{self.name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.argv, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=ROOT, preexec_fn=_die_with_parent)
        self._wait_healthy(timeout)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up; see {self.log}:\n"
                                   f"{self.tail()}")
            with (contextlib.suppress(OSError),
                  urllib.request.urlopen(self.url + self.health, timeout=2)):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {self.health} in {timeout:.0f} s")

    def tail(self, lines: int = 20) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """User and system CPU time of the process (all its threads) so far."""
        times = psutil.Process(self._pid()).cpu_times()
        return float(times.user + times.system)

    def rss_bytes(self) -> int:
        return int(psutil.Process(self._pid()).memory_info().rss)

    def _pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        """SIGINT first, so aiohttp shuts down as on Ctrl-C; SIGKILL if it does not."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def running(servers: list[Server], log_dir: Path) -> Iterator[list[Server]]:
    """Start the servers in order; stop every one started, whatever happens."""
    started: list[Server] = []
    try:
        for server in servers:
            started.append(server)
            server.start(log_dir)
        yield servers
    finally:
        for server in reversed(started):
            server.stop()


def connector(port: int | None = None) -> Server:
    port = port or free_port()
    return Server("connector", [PYTHON, "-m", "bench.connector", "--port", str(port)], port,
                  health="/bench/stats")


def echo(kind: str) -> Server:
    port = free_port()
    return Server(f"echo-{kind}", [PYTHON, "-m", "bench.echo", kind, "--port", str(port)], port)


PROFILE_TO: list[Path] = []  # a folder here: each `marac serve` runs under cProfile


def marac(name: str, database_url: str, timer_seconds: float, log_level: str) -> Server:
    port = free_port()
    argv = [MARAC, "serve"]
    if PROFILE_TO:
        argv = [PYTHON, "-m", "cProfile", "-o", str(PROFILE_TO[0] / f"{name}.prof"),
                "-m", "bot.ops.cli", "serve"]
    env = {"DATABASE_URL": database_url, "PORT": str(port), "HOST": "127.0.0.1",
           "TIMER_SECONDS": str(timer_seconds), "MicrosoftAppId": "",
           "MicrosoftAppPassword": "", "LOG_LEVEL": log_level,
           # the development keys, as the seeding in the benchmark's own process uses
           "MARAC_ENCRYPTION_KEYS": "", "MARAC_INDEX_KEY": "",
           "MARAC_CLOCK_FILE": str(bench_clock.clock_file())}
    return Server(name, argv, port, env)
