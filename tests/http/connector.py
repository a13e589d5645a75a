"""A local Bot Connector: the endpoints botbuilder's own connector client calls to send
messages, open 1:1 chats and read a team's roster page by page, recording what arrives.
Answers with a chosen status first when a test wants Teams to refuse."""

from __future__ import annotations

from aiohttp import web


class Connector:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []
        self.opened: list[dict[str, object]] = []
        self.refuse_next: list[int] = []  # statuses to answer, in order, before accepting
        self.members: list[dict[str, object]] = []  # the roster, as Teams lists members
        self.page_size = 2  # Teams may give fewer than asked
        self.roster_reads: list[tuple[str, str]] = []  # (conversation, continuation token)
        self.largest: int | None = None  # bytes of a message, beyond which 413, as Teams
        self.throttle_new_chats: str | None = None  # Retry-After of a 429 to every new chat
        self.arrived: list[str] = []  # what was accepted, in order: a new chat's member id
        # or a message's text
        self.app = web.Application()
        self.app.router.add_post("/v3/conversations", self._open)
        self.app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        self.app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}",
                                 self._post)
        self.app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._roster)
        self.app.router.add_get("/v3/conversations/{conversation}/members/{member}",
                                self._member)

    async def _member(self, request: web.Request) -> web.Response:
        """One member, as botbuilder asks when Teams says members were added."""
        wanted = request.match_info["member"]
        for member in self.members:
            if member["id"] == wanted:
                return web.json_response(member)
        return web.json_response({"error": {"code": "NotFound"}}, status=404)

    async def _roster(self, request: web.Request) -> web.Response:
        if self.refuse_next:
            return web.json_response({"error": "refused"}, status=self.refuse_next.pop(0),
                                     headers={"Retry-After": "0"})
        token = request.query.get("continuationToken", "")
        self.roster_reads.append((request.match_info["conversation"], token))
        start = int(token or 0)
        end = start + self.page_size
        page: dict[str, object] = {"members": self.members[start:end]}
        if end < len(self.members):
            page["continuationToken"] = str(end)
        return web.json_response(page)

    async def _open(self, request: web.Request) -> web.Response:
        if self.throttle_new_chats is not None:
            return web.json_response({"error": {"code": "Throttled"}}, status=429,
                                     headers={"Retry-After": self.throttle_new_chats})
        if self.refuse_next:
            return web.json_response({"error": "refused"}, status=self.refuse_next.pop(0))
        body = await request.json()
        self.opened.append(body)
        member = body["members"][0]["id"]
        self.arrived.append(member)
        return web.json_response({"id": f"a:1:1-{member}", "serviceUrl": str(request.url)})

    async def _post(self, request: web.Request) -> web.Response:
        if self.refuse_next:
            return web.json_response({"error": "refused"}, status=self.refuse_next.pop(0))
        if self.largest is not None and len(await request.read()) > self.largest:
            return web.json_response({"error": {"code": "MessageSizeTooBig"}}, status=413)
        activity = await request.json()
        activity["conversation_id"] = request.match_info["conversation"]
        self.sent.append(activity)
        self.arrived.append(str(activity.get("text")))
        return web.json_response({"id": f"sent-{len(self.sent)}"})
