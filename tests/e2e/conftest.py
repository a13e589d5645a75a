"""The bot and Microsoft's Agents Playground as real processes, once per database backend.

`e2e_database` is parametrized, so every end-to-end test runs twice: on a fresh SQLite file
and on a fresh PostgreSQL database. For each, `e2e_stack` seeds the demo MARAC with
`marac demo`, starts `marac serve` and the Playground, and stops both afterwards;
`playground` hands each test the one WebSocket client of that stack, marked at the test's
start. `seat("priya")` is another person's own seat: a second Playground beside the bot whose
current user is that person (the Playground shows the world from one user only, and its
personal chat is that user's alone), started once per stack. `e2e_db` reads the stack's
database. When a test fails, the tails of the bot's and the Playgrounds' logs are added to
its report.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.playground import MARAC_TEAM_CONFIG, start_playground

from .playground_client import PlaygroundClient

REPOSITORY = Path(__file__).resolve().parents[2]
MARAC = REPOSITORY / ".venv" / "bin" / "marac"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LOG_TAIL = 4000
_DELIVERY = '"POST /api/messages HTTP/1.1"'  # in aiohttp's access log

_STACKS: dict[str, Stack] = {}


@dataclass
class Stack:
    backend: str
    database_url: str
    bot_port: int
    playground_port: int
    bot_log: Path
    playground_log: Path
    playground_debug_log: Path
    seeded_at: datetime
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log_handles: list[IO[bytes]] = field(default_factory=list)
    seat_logs: list[tuple[str, Path]] = field(default_factory=list)  # title, path

    @property
    def workdir(self) -> Path:
        return self.bot_log.parent

    def deliveries(self) -> int:
        """How many activities the bot has answered so far (its access log's lines)."""
        try:
            return self.bot_log.read_text("utf-8", "replace").count(_DELIVERY)
        except OSError:
            return 0

    async def wait_for_deliveries(self, count: int, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until the bot has answered `count` activities in all. The Playground answers
        POST customActivities at once and delivers afterwards, concurrently, so this is how
        a test knows an activity that shows nothing has been handled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.deliveries() < count:
            if loop.time() > deadline:
                raise AssertionError(f"the bot answered {self.deliveries()} activities, not "
                                     f"{count}, within {timeout:g}s")
            await asyncio.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(
            f"----- {title} ({path}), last {LOG_TAIL} characters -----\n{tail(path)}"
            for title, path in (("bot log", self.bot_log),
                                ("Playground output", self.playground_log),
                                ("Playground debug log", self.playground_debug_log),
                                *self.seat_logs))


def tail(path: Path, size: int = LOG_TAIL) -> str:
    try:
        return path.read_bytes()[-size:].decode("utf-8", "replace")
    except OSError as error:
        return f"(cannot read: {error})"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bot_env(database_url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO"}
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId",
                 "MicrosoftAppType", "HOST", "PORT", "BOT_OPENID_METADATA"):
        env.pop(name, None)  # anonymous, as the Playground needs
    return env


# --- the database -------------------------------------------------------------------------

async def _postgres_admin(sql: str) -> None:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=10)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN} ({error!r}); the "
            "end-to-end tests run on PostgreSQL too, so start it (trust auth) and rerun.",
            pytrace=False)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=BACKENDS)
async def e2e_database(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped after."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('e2e-sqlite') / 'marac.db'}"
        return
    name = f"marac_e2e_{secrets.token_hex(6)}"
    await _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the bot and the Playground -----------------------------------------------------------

def _seed(stack: Stack, workdir: Path) -> None:
    done = subprocess.run([str(MARAC), "demo"], cwd=workdir, env=bot_env(stack.database_url),
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(f"`marac demo` failed on {stack.backend} (exit {done.returncode}):\n"
                    f"{done.stdout.decode()}{done.stderr.decode()}", pytrace=False)


def _start_bot(stack: Stack, workdir: Path) -> None:
    log = stack.bot_log.open("wb")
    stack.log_handles.append(log)
    stack.processes.append(subprocess.Popen(
        [str(MARAC), "serve", "--port", str(stack.bot_port)],
        cwd=workdir, env=bot_env(stack.database_url), stdout=log, stderr=subprocess.STDOUT))


def _start_playground(stack: Stack) -> None:
    log = stack.playground_log.open("wb")
    stack.log_handles.append(log)
    stack.processes.append(start_playground(
        f"http://127.0.0.1:{stack.bot_port}/api/messages", port=stack.playground_port,
        log=log, log_file=stack.playground_debug_log))


def _stop(stack: Stack) -> None:
    """Playground first, then the bot: terminate, and kill what has not ended in time."""
    for process in reversed(stack.processes):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
    for handle in stack.log_handles:
        handle.close()


async def _wait_until_up(stack: Stack, process: subprocess.Popen[bytes], url: str,
                         what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    last = "no answer yet"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while loop.time() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{what} exited with status {process.returncode} before it "
                            f"answered {url}.\n{stack.logs()}", pytrace=False)
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}: {(await response.text())[:200]}"
            except (aiohttp.ClientError, TimeoutError) as error:
                last = repr(error)
            await asyncio.sleep(0.1)
    pytest.fail(f"{what} did not answer {url} within {START_TIMEOUT:g}s ({last}).\n"
                f"{stack.logs()}", pytrace=False)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def e2e_stack(e2e_database: str, tmp_path_factory: pytest.TempPathFactory
                    ) -> AsyncIterator[Stack]:
    backend = "sqlite" if e2e_database.startswith("sqlite") else "postgresql"
    workdir = tmp_path_factory.mktemp(f"e2e-{backend}")
    stack = Stack(
        backend=backend, database_url=e2e_database,
        bot_port=free_port(), playground_port=free_port(),
        bot_log=workdir / "bot.log", playground_log=workdir / "playground.out",
        playground_debug_log=workdir / "playground-debug.log",
        seeded_at=datetime.now(UTC),
    )
    _STACKS[backend] = stack
    try:
        await asyncio.to_thread(_seed, stack, workdir)
        _start_bot(stack, workdir)
        await _wait_until_up(stack, stack.processes[0],
                             f"http://127.0.0.1:{stack.bot_port}/healthz", "`marac serve`")
        _start_playground(stack)
        await _wait_until_up(stack, stack.processes[1],
                             f"http://127.0.0.1:{stack.playground_port}/_internal/v1/config",
                             "The Agents Playground")
        yield stack
    finally:
        await asyncio.to_thread(_stop, stack)
        _STACKS.pop(backend, None)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def playground_session(e2e_stack: Stack) -> AsyncIterator[PlaygroundClient]:
    client = PlaygroundClient(e2e_stack.playground_port)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def playground(playground_session: PlaygroundClient) -> PlaygroundClient:
    """The stack's client, looking only at what arrives from this test's start on."""
    playground_session.begin()
    return playground_session


# --- another person's seat: a Playground of their own --------------------------------------

def _sections(yaml_text: str) -> list[tuple[str | None, list[str]]]:
    """The config file's top-level sections, each with its lines (comments stay with the
    section above them)."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in yaml_text.splitlines(keepends=True):
        key = re.match(r"([A-Za-z]\w*):", line)
        if key:
            sections.append((key.group(1), []))
        sections[-1][1].append(line)
    return sections


def _user(lines: list[str]) -> dict[str, str]:
    """One user of the config: plain `key: value` lines (the list dash removed)."""
    user = {}
    for line in lines:
        key, _, value = line.strip().removeprefix("- ").partition(":")
        if value.strip():
            user[key.strip()] = value.strip().strip('"')
    return user


def _users(lines: list[str]) -> list[dict[str, str]]:
    entries: list[list[str]] = []
    for line in lines:
        if line.lstrip().startswith("- "):
            entries.append([line])
        elif entries and line.strip():
            entries[-1].append(line)
    return [_user(entry) for entry in entries]


def _yaml_user(user: dict[str, str], indent: str, listed: bool) -> str:
    lines = []
    for n, (key, value) in enumerate(user.items()):
        lead = ("- " if n == 0 else "  ") if listed else ""
        lines.append(f"{indent}{lead}{key}: {json.dumps(value)}\n")  # JSON strings are YAML
    return "".join(lines)


def seat_config(team_config: str, name: str) -> str:
    """The MARAC team's Playground config seen from `name`'s seat: that person is the current
    user, the Playground's own current user (Cara) becomes one of the users, and the personal
    chat gets an id of its own, as every Teams personal chat has. The rest is unchanged."""
    sections = _sections(team_config)
    by_key = dict(sections)
    current = _user(by_key["currentUser"][1:])
    users = _users(by_key["users"][1:])
    chosen = [u for u in users if u.get("givenName", "").lower() == name.lower()]
    if len(chosen) != 1:
        raise ValueError(f"{name!r} is not one of the users of {MARAC_TEAM_CONFIG}")
    others = [current, *(u for u in users if u is not chosen[0])]
    replaced = {
        "currentUser": "currentUser:\n" + _yaml_user(chosen[0], "  ", listed=False),
        "users": "users:\n" + "".join(_yaml_user(u, "  ", listed=True) for u in others),
        "personalChat": f"personalChat:\n  id: {json.dumps(personal_chat_of(name))}\n",
    }
    return "".join(replaced.get(key or "", "".join(lines)) for key, lines in sections)


def personal_chat_of(name: str) -> str:
    return f"personal-chat-{name.lower()}"


async def _start_seat(stack: Stack, name: str) -> PlaygroundClient:
    config = stack.workdir / f"playground-{name}.yml"
    config.write_text(seat_config(MARAC_TEAM_CONFIG.read_text("utf-8"), name), "utf-8")
    output = stack.workdir / f"playground-{name}.out"
    debug_log = stack.workdir / f"playground-{name}-debug.log"
    stack.seat_logs += [(f"{name}'s Playground output", output),
                        (f"{name}'s Playground debug log", debug_log)]
    log = output.open("wb")
    stack.log_handles.append(log)
    port = free_port()
    process = start_playground(f"http://127.0.0.1:{stack.bot_port}/api/messages", port=port,
                               config=config, log=log, log_file=debug_log)
    stack.processes.append(process)  # stopped with the stack, before the bot
    await _wait_until_up(stack, process, f"http://127.0.0.1:{port}/_internal/v1/config",
                         f"{name}'s Agents Playground")
    client = PlaygroundClient(port)
    await client.connect()
    return client


Seats = Callable[[str], Awaitable[PlaygroundClient]]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def seats(e2e_stack: Stack) -> AsyncIterator[Seats]:
    """Each person's seat, started the first time a test asks for it, once per stack."""
    started: dict[str, PlaygroundClient] = {}
    starting = asyncio.Lock()

    async def seat_of(name: str) -> PlaygroundClient:
        async with starting:
            if name not in started:
                started[name] = await _start_seat(e2e_stack, name)
        return started[name]

    try:
        yield seat_of
    finally:
        for client in started.values():
            await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def seat(seats: Seats) -> Seats:
    """`await seat("priya")`: Priya's seat, looking only at what arrives from this test on."""
    async def take(name: str) -> PlaygroundClient:
        client = await seats(name)
        client.begin()
        return client
    return take


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def e2e_db(e2e_stack: Stack) -> AsyncIterator[AsyncEngine]:
    """The stack's database, to check what the bot stored (no pool: nothing is held open)."""
    engine = create_async_engine(e2e_stack.database_url, poolclass=NullPool)
    try:
        yield engine
    finally:
        await engine.dispose()


# --- logs in the report of a failed test --------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    callspec = getattr(item, "callspec", None)
    if report.failed and callspec is not None and "e2e_database" in callspec.params:
        stack = _STACKS.get(callspec.params["e2e_database"])
        if stack is not None:
            report.sections.append((f"{stack.backend} bot and Playground logs", stack.logs()))
    return report
