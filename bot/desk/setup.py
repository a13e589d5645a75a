"""Adding the desk and the panel to the bot's aiohttp app."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from bot.config import Settings
from bot.desk import api, dev_sign_in, pages
from bot.desk.gate import DESK, Desk, Poster
from bot.desk.tokens import AAD_METADATA, AadTokens, DevTokens, TokenCheck, Tokens
from dialogs.clock import Clock
from storage.database import Store


def audiences(settings: Settings) -> frozenset[str]:
    """The app's id and its `webApplicationInfo` resource (bot.ops.teams_package)."""
    app_id = settings.app_id
    found = {app_id, f"api://botid-{app_id}"}
    if settings.public_url:
        found.add(f"api://{urlsplit(settings.public_url).netloc}/botid-{app_id}")
    return frozenset(found)


def install(app: web.Application, settings: Settings, store: Store, clock: Clock,
            poster: Poster) -> None:
    checks: list[TokenCheck] = []
    if settings.app_id:
        checks.append(AadTokens(audiences(settings), settings.sso_metadata_url or AAD_METADATA))
    else:
        dev = DevTokens()
        checks.append(dev)
        dev_sign_in.routes(app, dev)
    app[DESK] = Desk(store, clock, Tokens(checks), settings.allowed_tenants, poster)
    pages.routes(app, dev=not settings.app_id)
    api.routes(app)
