"""Real `marac serve` processes on one database, and which of them owns a socket."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
# Settings a developer's shell may hold that would change what a replica does.
UNSET = ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId", "MicrosoftAppType",
         "MARAC_ENCRYPTION_KEYS", "MARAC_INDEX_KEY", "PUBLIC_URL", "ALLOWED_TENANTS",
         "BOT_OPENID_METADATA", "GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET",
         "GRAPH_SENDER", "HOST")


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no tick finished, no transaction committed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(name: str, database_url: str, logs: Path, **settings: str) -> Replica:
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env.update(DATABASE_URL=database_url, LOG_LEVEL="WARNING", **settings)
    port = free_port()
    log = logs / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.ops.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return Replica(name, port, process, log)


async def until_healthy(http: aiohttp.ClientSession, replica: Replica, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert replica.alive, f"{replica.name} exited:\n{replica.log.read_text()}"
        try:
            async with http.get(f"{replica.url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{replica.name} did not come up:\n{replica.log.read_text()}")


def owner_of(port: int, replicas: list[Replica]) -> Replica:
    """The replica one of whose TCP sockets has this local port (Linux's /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for replica in replicas:
        for fd in Path(f"/proc/{replica.process.pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return replica
            except OSError:
                continue
    raise LookupError(f"no replica has a socket on port {port}")
