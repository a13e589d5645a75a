"""Server CPU per activity: the MARAC bot against a stock botbuilder echo bot and a bare
aiohttp echo, each served from its own process and driven over loopback, with a local fake
Bot Connector absorbing the replies.

    .venv/bin/python bench/turn_cost.py                 # every server, 2000 messages each
    .venv/bin/python bench/turn_cost.py --servers marac,marac-stock --profile marac

Servers: `marac` (bot.teams.app.create_app as configured), `marac-stock` (the same bot with the
stock botbuilder authentication, as before bot.teams.connector), `echo` (a stock botbuilder echo
bot), `echo-cached` (that echo bot on bot.teams.connector's authentication), `bare` (an aiohttp
handler that parses the activity and posts the reply itself). The CPU figure is
time.process_time() of the server process (all its threads) over the measured activities.

Every server runs at once, and each kind's activities are sent in --rounds shares, the servers
taking turns (A B C, then C B A, ...), so that a machine busy with other work for a while
biases no server. For the MARAC bot, the SQL statements each activity sends are counted
beside its CPU (an SQLAlchemy event listener in the server process).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERVERS = ("marac", "marac-stock", "echo", "echo-cached", "bare")
TENANT = "6a1f0c2e-5d0b-4c55-9a3e-7f3c4b2d9e10"  # dialogs.demo.DEMO_TENANT
DONE_CARD = {"type": "AdaptiveCard", "version": "1.4",
             "body": [{"type": "TextBlock", "text": "Done."}]}
CARA = {"id": "user-id-0", "aadObjectId": "0d3a1c00-0000-4000-8000-000000000001"}


# --- the servers (each runs in its own process) -------------------------------------------

def _stock_adapter() -> Any:
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )
    configuration = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant",
                                    APP_TENANTID="")
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(configuration))


def _cached_adapter() -> Any:
    from bot.config import Settings
    from bot.teams.app import create_adapter
    return create_adapter(Settings(timer_seconds=0))


def _echo_app(adapter: Any) -> web.Application:
    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.schema import AdaptiveCardInvokeResponse

    class Echo(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(
                MessageFactory.text(f"Echo: {turn_context.activity.text}"))

        async def on_adaptive_card_invoke(self, turn_context: TurnContext,
                                          invoke_value: Any) -> AdaptiveCardInvokeResponse:
            return AdaptiveCardInvokeResponse(
                status_code=200, type="application/vnd.microsoft.card.adaptive",
                value=DONE_CARD)

    bot = Echo()

    async def messages(request: web.Request) -> web.Response:
        # CloudAdapter.process, less its invoke-body serialization, which fails on the
        # plain dicts botbuilder 4.17 itself hands back (see bot.teams.app._plain).
        from botbuilder.schema import Activity
        activity = Activity().deserialize(await request.json())
        answer = await adapter.process_activity(request.headers.get("Authorization", ""),
                                                activity, bot.on_turn)
        if answer is None:
            return web.Response(status=201)
        body = answer.body.serialize() if hasattr(answer.body, "serialize") else answer.body
        return web.json_response(body, status=answer.status)

    return _with_route(messages)


def _bare_app() -> web.Application:
    sessions: list[aiohttp.ClientSession] = []

    async def messages(request: web.Request) -> web.Response:
        activity = await request.json()
        if activity["type"] == "invoke":
            return web.json_response({"statusCode": 200, "value": DONE_CARD,
                                      "type": "application/vnd.microsoft.card.adaptive"})
        if not sessions:
            sessions.append(aiohttp.ClientSession())
        conversation = activity["conversation"]
        reply = {"type": "message", "text": f"Echo: {activity.get('text')}",
                 "conversation": conversation, "from": activity["recipient"],
                 "recipient": activity["from"], "replyToId": activity["id"]}
        url = (f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{conversation['id']}"
               f"/activities/{activity['id']}")
        async with sessions[0].post(url, json=reply) as answer:
            await answer.read()
        return web.Response(status=201)

    return _with_route(messages)


def _with_route(handler: Any) -> web.Application:
    app = web.Application()
    app.router.add_post("/api/messages", handler)
    return app


STATEMENTS: list[int] = [0]  # SQL statements sent by this server process


def _count_statements(*_: Any) -> None:
    STATEMENTS[0] += 1


def _marac_app(database_url: str, stock: bool) -> web.Application:
    from sqlalchemy import event

    from bot.config import Settings
    from bot.teams.app import ADAPTER, STORE, create_app
    app = create_app(Settings(database_url=database_url, timer_seconds=0,
                               clock_file=os.environ.get("MARAC_CLOCK_FILE", "")))
    if stock:
        app[ADAPTER] = _stock_adapter()
    event.listen(app[STORE].engine.sync_engine, "before_cursor_execute", _count_statements)
    return app


def _build(server: str, database_url: str) -> web.Application:
    if server in ("marac", "marac-stock"):
        return _marac_app(database_url, stock=server == "marac-stock")
    if server == "echo":
        return _echo_app(_stock_adapter())
    if server == "echo-cached":
        return _echo_app(_cached_adapter())
    return _bare_app()


class _Meter:
    """GET /_bench/begin and /_bench/end: server CPU over the measured activities."""

    def __init__(self, profile: bool) -> None:
        # The event loop thread's CPU time: waiting on sockets is not cost, and the
        # database driver's own thread (aiosqlite) would be charged to whatever ran here.
        self.profile = cProfile.Profile(time.thread_time) if profile else None
        self.started = 0.0
        self.statements = 0

    async def begin(self, request: web.Request) -> web.Response:
        if self.profile:
            self.profile.enable()
        self.started, self.statements = time.process_time(), STATEMENTS[0]
        return web.json_response({})

    async def end(self, request: web.Request) -> web.Response:
        cpu = time.process_time() - self.started
        statements = STATEMENTS[0] - self.statements
        report = ""
        if self.profile:
            self.profile.disable()
            text = io.StringIO()
            stats = pstats.Stats(self.profile, stream=text)
            stats.sort_stats("tottime").print_stats(30)
            report = _by_package(stats) + text.getvalue()
        return web.json_response({"cpu": cpu, "statements": statements, "profile": report})


def _unpaced() -> None:
    """The driver pours thousands of replies into one chat, far past Teams' 1800 an hour;
    the sender's windows are widened so that what is measured is the cost of the path (its
    bookkeeping included), not the waits that would keep real Teams happy."""
    from bot.teams import sending
    unlimited = (sending.Window(1.0, 1_000_000),)
    sending.CONVERSATION_WINDOWS = sending.TENANT_WINDOWS = unlimited


def _by_package(stats: pstats.Stats) -> str:
    """Own time per library (cProfile's cumulative figures count every resumption of a
    coroutine, so they mislead under asyncio; own time does not)."""
    totals: dict[str, float] = {}
    for (filename, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        totals[_package(filename, name)] = totals.get(_package(filename, name), 0.0) + row[2]
    whole = sum(totals.values()) or 1.0
    lines = [f"{seconds / whole:6.1%}  {package}" for package, seconds in
             sorted(totals.items(), key=lambda item: -item[1])[:20]]
    return "own time by package (event loop thread):\n" + "\n".join(lines) + "\n\n"


def _package(filename: str, name: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    if "/work/main/" in filename or filename.startswith(("bot/", "cards/", "storage/")):
        return "project:" + filename.split("/work/main/")[-1].split("/")[0]
    if filename.startswith("~"):
        return f"builtin:{name.split(' of ')[0].strip('{<>').split(' ')[-1]}"
    return "stdlib:" + filename.rsplit("/", 1)[-1]


def serve(server: str, database_url: str, profile: bool, ports: Any) -> None:
    import logging
    logging.disable(logging.WARNING)
    _unpaced()
    app = _build(server, database_url)
    meter = _Meter(profile)
    app.router.add_get("/_bench/begin", meter.begin)
    app.router.add_get("/_bench/end", meter.end)

    async def run() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ports.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(run())


# --- the fake connector and the driver (this process) --------------------------------------

def _connector() -> web.Application:
    count = 0

    async def absorb(request: web.Request) -> web.Response:
        nonlocal count
        await request.read()
        count += 1
        return web.json_response({"id": f"sent-{count}"})

    app = web.Application()
    app.router.add_post("/v3/conversations", absorb)
    app.router.add_route("*", "/v3/conversations/{conversation}/activities", absorb)
    app.router.add_route("*", "/v3/conversations/{conversation}/activities/{id}", absorb)
    return app


def _activity(service_url: str, kind: str) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message", "text": "help", "channelId": "msteams", "id": uuid.uuid4().hex,
        "serviceUrl": service_url, "from": CARA, "recipient": {"id": "28:marac-bot"},
        "conversation": {"id": "a:1:1-user-id-0", "conversationType": "personal",
                         "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}},
    }
    if kind == "invoke":
        activity.update(type="invoke", name="adaptiveCard/action", replyToId="card-1",
                        text=None, value={"action": {"type": "Action.Execute",
                                                     "verb": "referral.count", "data": {}}})
    return activity


async def _drive(http: aiohttp.ClientSession, bot_url: str, service_url: str, count: int,
                 kind: str) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        async with http.post(bot_url, json=_activity(service_url, kind)) as answer:
            await answer.read()
            if answer.status not in (200, 201):
                raise RuntimeError(f"{kind}: HTTP {answer.status} {await answer.text()}")
        latencies.append(time.perf_counter() - started)
    return latencies


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


KINDS = ("message", "invoke")


async def warm(port: int, service_url: str, invokes: int, warmup: int) -> None:
    bot_url = f"http://127.0.0.1:{port}/api/messages"
    async with aiohttp.ClientSession() as http:
        await _drive(http, bot_url, service_url, warmup, "message")
        await _drive(http, bot_url, service_url, min(warmup, invokes), "invoke")


async def share(port: int, service_url: str, kind: str, count: int) -> dict[str, Any]:
    """`count` activities of `kind`: the server's CPU, statements and latencies over them."""
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/_bench/begin") as answer:
            await answer.read()
        latencies = await _drive(http, f"{base}/api/messages", service_url, count, kind)
        async with http.get(f"{base}/_bench/end") as answer:
            ended: dict[str, Any] = await answer.json()
    return {**ended, "latencies": latencies}


def order(servers: list[str], round_: int) -> list[str]:
    """Who goes when in a round: forwards in even rounds, backwards in odd ones."""
    return servers if round_ % 2 == 0 else servers[::-1]


async def measure(ports: dict[str, int], service_url: str, counts: dict[str, int],
                  rounds: int) -> list[dict[str, Any]]:
    """Each kind in `rounds` shares, the servers taking turns in each."""
    names = list(ports)
    totals: dict[str, dict[str, Any]] = {name: {} for name in names}
    for kind in KINDS:
        if not counts[kind]:
            continue
        size = -(-counts[kind] // rounds)
        for round_ in range(rounds):
            for name in order(names, round_):
                ended = await share(ports[name], service_url, kind, size)
                total = totals[name].setdefault(kind, {"cpu": 0.0, "statements": 0,
                                                       "latencies": [], "profile": ""})
                total["cpu"] += ended["cpu"]
                total["statements"] += ended["statements"]
                total["latencies"] += ended["latencies"]
                total["profile"] = total["profile"] or ended["profile"]
    return [_figures(name, totals[name]) for name in names]


def _figures(server: str, totals: dict[str, Any]) -> dict[str, Any]:
    figures: dict[str, Any] = {"server": server}
    for kind, total in totals.items():
        count = len(total["latencies"])
        figures[kind] = {
            "count": count, "cpu_ms": 1000 * total["cpu"] / count,
            "statements": total["statements"] / count,
            "p50_ms": 1000 * _percentile(total["latencies"], 0.5),
            "p99_ms": 1000 * _percentile(total["latencies"], 0.99),
        }
        if total["profile"]:
            figures[f"{kind}_profile"] = total["profile"]
    return figures


def _prepare_database(url: str | None, folder: str) -> str:
    from bench import clock as bench_clock
    from dialogs.demo import seed_demo
    from storage.database import Store
    from storage.migrate import upgrade

    url = url or f"sqlite+aiosqlite:///{folder}/marac.db"
    upgrade(url)

    async def seed() -> None:
        store = Store.from_url(url)
        async with store.unit_of_work() as session:
            await seed_demo(session, bench_clock.now())
        await store.close()

    asyncio.run(seed())
    return url


async def main_async(options: argparse.Namespace, database_url: str) -> list[dict[str, Any]]:
    runner = web.AppRunner(_connector(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    service_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    spawn = multiprocessing.get_context("spawn")
    processes: list[Any] = []
    ports: dict[str, int] = {}
    try:
        for server in options.servers.split(","):
            queue = spawn.Queue()
            process = spawn.Process(target=serve, daemon=True, args=(
                server, database_url, server in options.profile.split(","), queue))
            process.start()
            processes.append(process)
            ports[server] = await asyncio.to_thread(queue.get, True, 60)
        for port in ports.values():
            await warm(port, service_url, options.invokes, options.warmup)
        results = await measure(ports, service_url,
                                {"message": options.n, "invoke": options.invokes},
                                options.rounds)
    finally:
        for process in processes:
            process.terminate()
            process.join()
    await runner.cleanup()
    return results


def report(results: list[dict[str, Any]]) -> str:
    """Each server's figures, and its CPU as a ratio to the stock echo's (`echo`)."""
    echo = next((f for f in results if f["server"] == "echo"), {})
    lines = [f"{'server':<12} {'kind':<8} {'n':>5} {'cpu ms':>8} {'x echo':>7} "
             f"{'stmts':>6} {'p50 ms':>8} {'p99 ms':>8}"]
    for figures in results:
        for kind in KINDS:
            if kind in figures:
                f = figures[kind]
                floor = echo.get(kind, {}).get("cpu_ms")
                times = f"{f['cpu_ms'] / floor:7.2f}" if floor else f"{'-':>7}"
                lines.append(f"{figures['server']:<12} {kind:<8} {f['count']:>5} "
                             f"{f['cpu_ms']:>8.2f} {times} {f['statements']:>6.1f} "
                             f"{f['p50_ms']:>8.2f} {f['p99_ms']:>8.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("-n", type=int, default=2000, help="message activities per server")
    parser.add_argument("--invokes", type=int, default=200, help="Action.Execute invokes")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3,
                        help="shares of each kind, the servers taking turns in each")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--profile", default="", help="servers to run under cProfile")
    options = parser.parse_args()
    unknown = set(options.servers.split(",")) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as folder:
        database_url = _prepare_database(options.database_url, folder)
        results = asyncio.run(main_async(options, database_url))
    for figures in results:
        for kind in KINDS:
            if f"{kind}_profile" in figures:
                print(f"--- {figures['server']} {kind} profile ---")
                print(figures[f"{kind}_profile"])
    print(report(results))


if __name__ == "__main__":
    main()
