"""The dev-only sign-in: the Playground shows no tabs, so `marac dev` opens the desk in a
browser, signed in as a demo person with a local token (bot.desk.tokens.DevTokens). Served
only when no app id is set; with one, there is no such page and no such token is accepted."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from bot.desk.gate import DESK
from bot.desk.tokens import DevTokens
from dialogs.demo import DEMO_TEAM
from storage.models import Person

DEV_TOKENS = web.AppKey("dev tokens", DevTokens)
REFUSED = "Local sign-in is for development only; this bot has an app id."


async def people(request: web.Request) -> web.Response:
    async with request.app[DESK].store.unit_of_work() as session:
        found = (await session.scalars(select(Person).order_by(Person.id))).all()
    return web.json_response({"people": [{"id": p.aad_object_id, "first_name": p.first_name}
                                         for p in found]})


async def token(request: web.Request) -> web.Response:
    if DEV_TOKENS not in request.app:
        return web.json_response({"refused": REFUSED}, status=403)
    try:
        body = await request.json()
    except ValueError:
        body = {}
    aad = body.get("id") if isinstance(body, dict) else None
    async with request.app[DESK].store.unit_of_work() as session:
        person = await session.scalar(select(Person).where(Person.aad_object_id == aad)
                                      ) if isinstance(aad, str) else None
    if person is None:
        return web.json_response({"refused": "There is no such person."}, status=404)
    return web.json_response({"token": request.app[DEV_TOKENS].issue(
        person.tenant_id, person.aad_object_id, person.first_name)})


def sign_in_address(host: str, port: int, *, panel: bool = False) -> str:
    """The local sign-in page, leading to the desk, or to the panel of the demo team's
    channel meeting."""
    query = f"?{urlencode({'next': 'panel', 'team': DEMO_TEAM, 'channel': DEMO_TEAM})}"
    return f"http://{host}:{port}/desk/dev{query if panel else ''}"


def routes(app: web.Application, tokens: DevTokens) -> None:
    app[DEV_TOKENS] = tokens
    app.router.add_get("/desk/dev/people", people)
    app.router.add_post("/desk/dev/token", token)
