"""The desk's and the panel's pages and their assets, served by the bot itself with a strict
Content-Security-Policy: everything from this origin, nothing inline, framed only by Teams.
The front-end packages (@microsoft/teams-js, @fluentui/web-components) are the ones pinned in
package-lock.json, served from node_modules: nothing is loaded from anywhere else."""

from __future__ import annotations

import os
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
NODE_MODULES = Path(os.environ.get("DESK_NODE_MODULES", "")
                    or Path(__file__).resolve().parents[2] / "node_modules")
VENDOR = {
    "teams-js.js": "@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js",
    "fluent.js": "@fluentui/web-components/dist/web-components.min.js",
}
TEAMS_FRAMES = ("https://teams.microsoft.com https://*.teams.microsoft.com "
                "https://teams.cloud.microsoft https://*.teams.cloud.microsoft "
                "https://*.skype.com https://*.office.com https://outlook.office.com")
# Fluent's components add an empty <style> element and fill it through the CSSOM: the hash is
# the empty text's, so no inline style with any content is allowed.
EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
POLICY = ("default-src 'none'; script-src 'self'; "
          f"style-src 'self' {EMPTY_STYLE}; connect-src 'self'; "
          "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
          f"frame-ancestors {TEAMS_FRAMES}")
PAGES = {"/desk/": "desk.html", "/desk/panel": "panel.html", "/desk/configure": "configure.html"}
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


def _file(path: Path) -> web.Response:
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=path.read_bytes(), content_type=TYPES.get(path.suffix, "text/plain"),
                        charset="utf-8")


DEV_PAGE = "/desk/dev"


async def page(request: web.Request) -> web.Response:
    return _file(STATIC / (PAGES.get(request.path) or "sign-in.html"))


async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if "/" in name or name.startswith("."):
        raise web.HTTPNotFound()
    return _file(STATIC / name)


async def vendor(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in VENDOR:
        raise web.HTTPNotFound()
    return _file(NODE_MODULES / VENDOR[name])


async def secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every desk answer: the policy, no sniffing, no referrer, and nothing kept in caches."""
    if request.path.startswith("/desk"):
        response.headers["Content-Security-Policy"] = POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"


def routes(app: web.Application, *, dev: bool) -> None:
    for path in [*PAGES, *([DEV_PAGE] if dev else [])]:
        app.router.add_get(path, page)
    app.router.add_get("/desk/static/{name}", asset)
    app.router.add_get("/desk/vendor/{name}", vendor)
    app.on_response_prepare.append(secure_headers)
