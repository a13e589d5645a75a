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

`meeting_stack` is a stack of its own for the meeting's tests (test_meeting.py), once per
backend and module: a fresh database seeded with short slots, the timer runner waking often,
and a Playground of its own; `restart_bot` stops its bot and starts it again on the same port
and database while the Playground keeps running. `dissemination_stack` is the same for the
plan after the meeting (test_dissemination.py), with slots longer than its tests, and
`start_seats` starts several people's seats beside it at once.
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
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.ops.playground import MARAC_TEAM_CONFIG, start_playground
from dialogs.clock import freeze_clock, read_clock, set_clock
from tests.clock import PATIENCE, pinned_now

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
_MEETING_STACKS: dict[str, Stack] = {}
_DISSEMINATION_STACKS: dict[str, Stack] = {}


@dataclass
class Stack:
    backend: str
    database_url: str
    bot_port: int
    playground_port: int
    bot_log: Path
    playground_log: Path
    playground_debug_log: Path
    seeded_at: datetime  # the instant the stack's clock was set to
    clock_file: Path  # the clock the bot and `marac demo` read (MARAC_CLOCK_FILE)
    demo_args: tuple[str, ...] = ()  # for `marac demo`
    bot_env: dict[str, str] = field(default_factory=dict)  # beside bot_env()'s
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log_handles: list[IO[bytes]] = field(default_factory=list)
    seat_logs: list[tuple[str, Path]] = field(default_factory=list)  # title, path

    @property
    def workdir(self) -> Path:
        return self.bot_log.parent

    def now(self) -> datetime:
        """The time on the bot's clock."""
        return read_clock(self.clock_file).now()

    def env(self) -> dict[str, str]:
        """The environment of the stack's `marac` processes."""
        return bot_env(self.database_url, MARAC_CLOCK_FILE=str(self.clock_file), **self.bot_env)

    def deliveries(self) -> int:
        """How many activities the bot has answered so far (its access log's lines)."""
        try:
            return self.bot_log.read_text("utf-8", "replace").count(_DELIVERY)
        except OSError:
            return 0

    async def wait_for_deliveries(self, count: int, timeout: float = PATIENCE) -> None:  # noqa: ASYNC109
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


def bot_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO", **extra}
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


@asynccontextmanager
async def fresh_database(backend: str, tmp_path_factory: pytest.TempPathFactory
                         ) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped after."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('e2e-sqlite') / 'marac.db'}"
        return
    name = f"marac_e2e_{secrets.token_hex(6)}"
    await _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture(scope="session", loop_scope="session", params=BACKENDS)
async def e2e_database(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with fresh_database(request.param, tmp_path_factory) as url:
        yield url


# --- the bot and the Playground -----------------------------------------------------------

def _seed(stack: Stack, workdir: Path) -> None:
    done = subprocess.run([str(MARAC), "demo", *stack.demo_args], cwd=workdir,
                          env=stack.env(),
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(f"`marac demo` failed on {stack.backend} (exit {done.returncode}):\n"
                    f"{done.stdout.decode()}{done.stderr.decode()}", pytrace=False)


def _start_bot(stack: Stack, workdir: Path, again: bool = False) -> None:
    """`marac serve`, as the stack's first process; `again` keeps the log's earlier lines."""
    log = stack.bot_log.open("ab" if again else "wb")
    stack.log_handles.append(log)
    process = subprocess.Popen(
        [str(MARAC), "serve", "--port", str(stack.bot_port)], cwd=workdir,
        env=stack.env(), stdout=log, stderr=subprocess.STDOUT)
    if again:
        stack.processes[0] = process
    else:
        stack.processes.append(process)


def _start_playground(stack: Stack) -> None:
    log = stack.playground_log.open("wb")
    stack.log_handles.append(log)
    stack.processes.append(start_playground(
        f"http://127.0.0.1:{stack.bot_port}/api/messages", port=stack.playground_port,
        log=log, log_file=stack.playground_debug_log))


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _stop(stack: Stack) -> None:
    """Playground first, then the bot: terminate, and kill what has not ended in time."""
    for process in reversed(stack.processes):
        _terminate(process)
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


@asynccontextmanager
async def running_stack(backend: str, database_url: str, workdir: Path,
                        registry: dict[str, Stack], demo_args: tuple[str, ...] = (),
                        env: dict[str, str] | None = None, frozen: bool = False
                        ) -> AsyncIterator[Stack]:
    """Set the stack's clock to the pinned instant (standing still when `frozen`), seed the
    database with `marac demo`, start the bot and a Playground; stop both after."""
    seeded_at = pinned_now()
    clock_file = workdir / "clock.json"
    set_clock(clock_file, seeded_at, frozen)
    stack = Stack(
        backend=backend, database_url=database_url,
        bot_port=free_port(), playground_port=free_port(),
        bot_log=workdir / "bot.log", playground_log=workdir / "playground.out",
        playground_debug_log=workdir / "playground-debug.log",
        seeded_at=seeded_at, clock_file=clock_file, demo_args=demo_args, bot_env=env or {},
    )
    registry[backend] = stack
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
        registry.pop(backend, None)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def e2e_stack(e2e_database: str, tmp_path_factory: pytest.TempPathFactory
                    ) -> AsyncIterator[Stack]:
    backend = "sqlite" if e2e_database.startswith("sqlite") else "postgresql"
    workdir = tmp_path_factory.mktemp(f"e2e-{backend}")
    async with running_stack(backend, e2e_database, workdir, _STACKS) as stack:
        yield stack


async def restart_bot(stack: Stack) -> float:
    """Stop the stack's bot (terminate, as a deployment does) and start `marac serve` again on
    the same port and database; the Playground keeps running. The bot's clock stands still
    while it is away, so however long this machine takes, the restart happens at one instant
    of the meeting. The seconds it was away."""
    loop = asyncio.get_running_loop()
    stopped_at = loop.time()
    running = not read_clock(stack.clock_file).frozen
    if running:
        freeze_clock(stack.clock_file)
    await asyncio.to_thread(_terminate, stack.processes[0])
    _start_bot(stack, stack.workdir, again=True)
    await _wait_until_up(stack, stack.processes[0],
                         f"http://127.0.0.1:{stack.bot_port}/healthz", "`marac serve` again")
    if running:
        freeze_clock(stack.clock_file, frozen=False)
    return loop.time() - stopped_at


@asynccontextmanager
async def connected(port: int) -> AsyncIterator[PlaygroundClient]:
    """A client of the Playground on this port, its WebSocket open while in use."""
    client = PlaygroundClient(port)
    await client.connect()
    try:
        yield client
    finally:
        await client.close()


@asynccontextmanager
async def database_of(stack: Stack) -> AsyncIterator[AsyncEngine]:
    """The stack's database, to check what the bot stored (no pool: nothing is held open)."""
    engine = create_async_engine(stack.database_url, poolclass=NullPool, hide_parameters=True)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def playground_session(e2e_stack: Stack) -> AsyncIterator[PlaygroundClient]:
    async with connected(e2e_stack.playground_port) as client:
        yield client


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


# --- the meeting's own stack ---------------------------------------------------------------

# Short slots, so that a whole meeting with its warnings runs in seconds; the timer runner
# (slot warnings, the outbox) wakes every TIMER_SECONDS.
MEETING_SLOT_SECONDS = 10  # long enough for a restart (1.5 s here) well inside each part
MEETING_WARNING_SECONDS = 5
MEETING_TIMER_SECONDS = 0.3


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def meeting_stack(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """A stack of the module's own, apart from `e2e_stack`: a fresh database, the demo MARAC
    with short slots, the timer runner on, and the bot's clock standing still: the tests move
    it through each slot."""
    backend = request.param
    async with fresh_database(backend, tmp_path_factory) as url, running_stack(
            backend, url, tmp_path_factory.mktemp(f"e2e-meeting-{backend}"), _MEETING_STACKS,
            demo_args=("--slot-seconds", str(MEETING_SLOT_SECONDS),
                       "--warning-seconds", str(MEETING_WARNING_SECONDS)),
            env={"TIMER_SECONDS": str(MEETING_TIMER_SECONDS)}, frozen=True) as stack:
        yield stack


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def meeting_playground(meeting_stack: Stack) -> AsyncIterator[PlaygroundClient]:
    """The meeting stack's Playground client (Cara's seat, which sees the channel)."""
    async with connected(meeting_stack.playground_port) as client:
        yield client


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def meeting_db(meeting_stack: Stack) -> AsyncIterator[AsyncEngine]:
    """The meeting stack's database (no pool: nothing is held open)."""
    async with database_of(meeting_stack) as engine:
        yield engine


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def e2e_db(e2e_stack: Stack) -> AsyncIterator[AsyncEngine]:
    """The stack's database, to check what the bot stored (no pool: nothing is held open)."""
    async with database_of(e2e_stack) as engine:
        yield engine


# --- the stack of the plan after the meeting (test_dissemination.py) ------------------------

# Slots far longer than the test (no slot warning comes in the middle of it); the timer runner
# (dissemination, the outbox) wakes every DISSEMINATION_TIMER_SECONDS.
DISSEMINATION_SLOT_SECONDS = 900
DISSEMINATION_WARNING_SECONDS = 60
DISSEMINATION_TIMER_SECONDS = 0.2


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def dissemination_stack(request: pytest.FixtureRequest,
                              tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """A stack of the module's own: a fresh database, the demo MARAC with slots that outlast
    the test, the timer runner waking often."""
    backend = request.param
    async with fresh_database(backend, tmp_path_factory) as url, running_stack(
            backend, url, tmp_path_factory.mktemp(f"e2e-dissemination-{backend}"),
            _DISSEMINATION_STACKS,
            demo_args=("--slot-seconds", str(DISSEMINATION_SLOT_SECONDS),
                       "--warning-seconds", str(DISSEMINATION_WARNING_SECONDS)),
            env={"TIMER_SECONDS": str(DISSEMINATION_TIMER_SECONDS)}) as stack:
        yield stack


async def start_seats(stack: Stack, *names: str) -> dict[str, PlaygroundClient]:
    """Several people's seats beside a stack, started together (each a Playground of its own,
    stopped with the stack); the caller closes the clients."""
    clients = await asyncio.gather(*(_start_seat(stack, name) for name in names))
    return dict(zip(names, clients, strict=True))


# --- logs in the report of a failed test --------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    callspec = getattr(item, "callspec", None)
    if report.failed and callspec is not None:
        for param, stacks, title in (("e2e_database", _STACKS, ""),
                                     ("meeting_stack", _MEETING_STACKS, " meeting"),
                                     ("dissemination_stack", _DISSEMINATION_STACKS,
                                      " dissemination")):
            stack = stacks.get(callspec.params.get(param, ""))
            if stack is not None:
                report.sections.append((f"{stack.backend}{title} bot and Playground logs",
                                        stack.logs()))
    return report
