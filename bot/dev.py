"""`marac dev`: the bot and the Playground together, for trying the bot on demo data."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.playground import start_playground


async def run_dev(settings: Settings, host: str, port: int, playground_port: int) -> int:
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    playground = start_playground(f"http://{host}:{port}/api/messages", playground_port)
    print(f"MARAC bot on http://{host}:{port}/api/messages (database {settings.database_url})")
    print(f"Open http://127.0.0.1:{playground_port}/ to use the bot in the Riverside MARAC "
          "team as Cara, its coordinator. Ctrl-C stops both.", flush=True)
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
