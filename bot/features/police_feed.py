"""The police feed sent to the bot as a file in personal chat (the manifest declares
supportsFiles, so Teams delivers a download link)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from bot.turns.access import audit, context_of, named_marac, refusal
from bot.turns.arrival import Arrival
from bot.turns.registry import COORDINATORS, PERSONAL_ONLY, command, find
from bot.turns.replies import Message, card_reply, text_reply
from bot.turns.request import Request
from cards.import_report import import_report_card
from dialogs.clock import Clock
from dialogs.police_feed import (
    MAX_BYTES,
    FeedError,
    download_refusal,
    import_rows,
    read_rows,
)
from storage.database import Store
from storage.models import Marac

log = logging.getLogger(__name__)
FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
MAX_REDIRECTS = 3


@command("import", "Import the police feed: send me its CSV file here.", "import",
         roles=COORDINATORS, places=PERSONAL_ONLY)
async def _import(request: Request) -> Message:
    return text_reply("Send me the police feed as a CSV file in this chat and I will import "
                      "it; the first line must name the columns.")


async def handle_feed_file(arrival: Arrival, file_name: str | None, content: Any, store: Store,
                           clock: Clock, development: bool = False) -> Message:
    """The file Teams delivered: its name and its download information (`content`).
    `development`: the bot runs without an app id, and may fetch from this machine."""
    importing = find("import")
    assert importing is not None
    async with store.unit_of_work() as session:
        named, _ = await named_marac(session, arrival, arrival.text)
        context = await context_of(session, arrival, named=named)
        refused = refusal(importing, context)
        if refused is not None:
            await audit(session, context, arrival, "import", clock.now(), refused=refused)
    if refused is not None:
        return text_reply(refused)
    name = file_name or "the file"
    try:
        rows = read_rows(await download(_download_url(content, development), development))
    except FeedError as error:
        refused = f"I could not import {name}: {error}"
    async with store.unit_of_work() as session:
        context = await context_of(session, arrival, named=named)
        await audit(session, context, arrival, "import", clock.now(), refused=refused)
        if refused is not None:
            return text_reply(refused)
        assert context.marac_id is not None
        marac = await session.get_one(Marac, context.marac_id)
        report = await import_rows(session, marac, rows, clock.now())
    return card_reply(import_report_card(name, report))


def _download_url(content: Any, development: bool) -> str:
    url = content.get("downloadUrl") if isinstance(content, dict) else None
    if not isinstance(url, str):
        raise FeedError("Teams sent no download link for it.")
    refused = download_refusal(url, development)
    if refused is not None:
        raise FeedError(refused)
    return url


async def download(url: str, development: bool = False) -> bytes:
    """Redirects are followed by hand (at most MAX_REDIRECTS), each checked like the link."""
    timeout = aiohttp.ClientTimeout(total=60)
    host = urlsplit(url).hostname
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for _ in range(MAX_REDIRECTS + 1):
                async with http.get(url, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        url = str(response.url.join(URL(response.headers.get("Location", ""))))
                        refused = download_refusal(url, development, first_host=host)
                        if refused is not None:
                            raise FeedError(refused)
                        continue
                    if response.status != 200:
                        raise FeedError(f"downloading it failed (HTTP {response.status}).")
                    content = await response.content.read(MAX_BYTES + 1)
                    break
            else:
                raise FeedError("its download was redirected too many times.")
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("feed download failed: %s", error)
        raise FeedError("downloading it failed; please send it again.") from error
    if len(content) > MAX_BYTES:
        raise FeedError(f"it is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    return content
