"""`marac dev`: the bot and the Playground together, for trying the bot on demo data."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.desk.dev_sign_in import sign_in_address
from bot.ops.playground import start_playground
from bot.teams.app import create_app
from dialogs.demo import DEMO_TEAM


async def add_to_marac_team(playground_url: str) -> None:
    """Add the bot to the Riverside MARAC team, as a coordinator would in Teams, so that its
    welcome is in the channel when the page is opened (the Playground itself only installs
    the bot in the personal chat)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for _ in range(120):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{playground_url}/_internal/v1/config") as answer:
                    if answer.status == 200:
                        break
            await asyncio.sleep(0.5)
        query = {"conversationId": DEMO_TEAM, "type": "botAdded"}
        async with http.get(f"{playground_url}/_internal/v1/customActivities/template",
                            params=query) as answer:
            added = await answer.json()
        async with http.post(f"{playground_url}/_internal/v1/customActivities",
                             json=added) as answer:
            answer.raise_for_status()


async def run_dev(settings: Settings, host: str, port: int, playground_port: int) -> int:
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    playground = start_playground(f"http://{host}:{port}/api/messages", playground_port)
    await add_to_marac_team(f"http://127.0.0.1:{playground_port}")
    print(f"MARAC bot on http://{host}:{port}/api/messages (database {settings.database_url})")
    print(f"Open http://127.0.0.1:{playground_port}/ to use the bot in the Riverside MARAC "
          "team as Cara, its coordinator. Ctrl-C stops both.")
    print(f"The MARAC desk (Teams' personal tab): {sign_in_address(host, port)}; the meeting's "
          f"side panel: {sign_in_address(host, port, panel=True)}", flush=True)
    try:
        await asyncio.to_thread(playground.wait)
        print(f"The Playground stopped (exit status {playground.returncode}).")
        return playground.returncode or 1
    except asyncio.CancelledError:
        return 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            playground.terminate()
        await runner.cleanup()
