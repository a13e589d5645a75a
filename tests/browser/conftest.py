"""The browser tests' parts: the bot served over real HTTP with Teams SSO checked against the
local OpenID authority (tests/http/openid_server.py), and Debian's Chromium, headless, driven
by Playwright (scripts/ensure-chromium installs it; Playwright downloads no browser here).

A page signs in as Teams would hand it a token: the token for a demo person, given to the page
in its address's fragment (kept in the tab's session, never sent to the server but in the
Authorization header)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import async_playwright

from bot.config import Settings
from bot.teams.app import create_app
from dialogs.demo import DEMO_PEOPLE, DEMO_TENANT
from tests.http.openid_server import SigningAuthority

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = Path(CHROMIUM).exists()
APP_ID = "5f1c9a52-8a7e-4c2b-9d1e-3b7a6c0e2f11"
OID = {p.full_name.split()[0]: p.aad_object_id for p in DEMO_PEOPLE}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The browser logs the API's refusals (403, 409) as errors; they are answers, not faults.
REFUSED = "Failed to load resource: the server responded with a status of 4"
PATIENCE_MS = 30_000  # how long a page may take to show what the test waits for, at most
# Where the README's screenshots are written: `MARAC_SCREENSHOTS=docs` (see the README).
SCREENSHOTS = os.environ.get("MARAC_SCREENSHOTS", "")


@pytest.fixture(scope="session")
def authority() -> Any:
    authority = SigningAuthority()
    yield authority
    authority.close()


@dataclass
class Site:
    url: str
    authority: SigningAuthority

    def token(self, person: str) -> str:
        now = int(time.time())
        return self.authority.sign({
            "iss": f"https://login.microsoftonline.com/{DEMO_TENANT}/v2.0", "aud": APP_ID,
            "tid": DEMO_TENANT, "oid": OID[person], "name": person,
            "iat": now - 60, "nbf": now - 60, "exp": now + 3600})

    def address(self, path: str, person: str) -> str:
        return f"{self.url}{path}#token={self.token(person)}"


@pytest.fixture
async def site(store, clock, authority) -> AsyncIterator[Site]:
    settings = Settings(app_id=APP_ID, app_password="secret", timer_seconds=0,
                        sso_metadata_url=authority.metadata_url)
    server = TestServer(create_app(settings, store, clock))
    await server.start_server()
    yield Site(str(server.make_url("")).rstrip("/"), authority)
    await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:  # `make test` installs it
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        await browser.close()


async def open_page(browser: Any, address: str, ready: bool = True) -> Any:
    """A new tab at `address`, collecting its console errors (a blocked script or style under
    the Content-Security-Policy shows as one) in `page.errors`, once the page says it is
    ready."""
    page = await (await browser.new_context(viewport={"width": 1100, "height": 900})).new_page()
    page.set_default_timeout(PATIENCE_MS)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not (
        m.text.startswith(REFUSED)) else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    await page.goto(address)
    if ready:
        await page.wait_for_selector("body[data-ready=true]")
    return page


async def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.2 AA violations on the page as it is now."""
    await page.evaluate(AXE.read_text() + "\n;0")
    result = await page.evaluate("""axe.run(document, {runOnly: {type: 'tag', values:
        ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})""")
    return [{"id": v["id"], "impact": v["impact"],
             "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


async def screenshot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1)
