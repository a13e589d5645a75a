"""A local Bot Connector for the benchmark, run as its own process so that absorbing the
bots' replies costs neither the bots nor the load driver: it accepts posts, updates and new
1:1 chats, counts them, and timestamps each slot warning as it arrives.

`python -m bench.connector --port PORT`; GET /bench/stats returns what it has seen."""

from __future__ import annotations

import argparse
import itertools
import re
import time
from typing import Any

from aiohttp import web

# bot.proactive.circulation.queue_slot_warning's texts: "N: 19 seconds of the slot remain." and
# "N: the slot is over. ..."
WARNING = re.compile(r"^(?P<case>\S+): (?:\d+ (?:seconds?|minutes) of the slot remain"
                     r"|(?P<over>the slot is over))")


class BenchConnector:
    def __init__(self) -> None:
        self.counts = {"posted": 0, "updated": 0, "opened": 0}
        self.warnings: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_post("/v3/conversations", self._open)
        self.app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        self.app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}",
                                 self._post)
        self.app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                                self._put)
        self.app.router.add_get("/bench/stats", self._stats)
        self.app.router.add_post("/bench/reset", self._reset)

    async def _open(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.counts["opened"] += 1
        return web.json_response({"id": f"a:1:1-{body['members'][0]['id']}"})

    async def _post(self, request: web.Request) -> web.Response:
        arrived = time.time()
        activity = await request.json()
        self.counts["posted"] += 1
        self._note_warning(activity, request.match_info["conversation"], arrived)
        return web.json_response({"id": f"sent-{next(self._ids)}"})

    def _note_warning(self, activity: dict[str, Any], conversation: str, arrived: float
                      ) -> None:
        found = WARNING.match(str(activity.get("text") or ""))
        if found:
            self.warnings.append({"case": found["case"], "over": bool(found["over"]),
                                  "conversation": conversation, "at": arrived})

    async def _put(self, request: web.Request) -> web.Response:
        await request.read()
        self.counts["updated"] += 1
        return web.json_response({"id": request.match_info["activity"]})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({**self.counts, "warnings": self.warnings})

    async def _reset(self, request: web.Request) -> web.Response:
        self.counts = dict.fromkeys(self.counts, 0)
        self.warnings = []
        return web.json_response({})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(BenchConnector().app, host="127.0.0.1", port=args.port, print=None,
                access_log=None)


if __name__ == "__main__":
    main()
