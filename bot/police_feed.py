"""The police feed sent to the bot as a file in personal chat (the manifest declares
supportsFiles, so Teams delivers a download link)."""

from __future__ import annotations

import logging
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlparse

import aiohttp
from botbuilder.schema import Activity, Attachment

from bot import commands
from bot.access import context_of, refusal
from bot.replies import card_reply, text_reply
from cards.import_report import import_report_card
from dialogs.clock import Clock
from dialogs.police_feed import MAX_BYTES, FeedError, import_rows, read_rows
from storage.database import Store
from storage.models import Marac

log = logging.getLogger(__name__)
FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


async def handle_feed_file(activity: Activity, attachment: Attachment, store: Store,
                           clock: Clock) -> Activity:
    importing = commands.find("import")
    assert importing is not None
    async with store.unit_of_work() as session:
        refused = refusal(importing, await context_of(session, activity))
    if refused is not None:
        return text_reply(refused)
    name = attachment.name or "the file"
    try:
        rows = read_rows(await download(_download_url(attachment)))
    except FeedError as error:
        return text_reply(f"I could not import {name}: {error}")
    async with store.unit_of_work() as session:
        context = await context_of(session, activity)
        assert context.marac_id is not None
        marac = await session.get_one(Marac, context.marac_id)
        report = await import_rows(session, marac, rows, clock.now())
    return card_reply(import_report_card(name, report), "Police feed imported")


def _download_url(attachment: Attachment) -> str:
    content: Any = attachment.content
    url = content.get("downloadUrl") if isinstance(content, dict) else None
    if not isinstance(url, str):
        raise FeedError("Teams sent no download link for it.")
    parsed = urlparse(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and _is_loopback(parsed.hostname)):
        return url
    raise FeedError("its download link is not a secure (https) address.")


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ip_address(host).is_loopback
    except ValueError:
        return False


async def download(url: str) -> bytes:
    timeout = aiohttp.ClientTimeout(total=60)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as response:
            if response.status != 200:
                raise FeedError(f"downloading it failed (HTTP {response.status}).")
            content = await response.content.read(MAX_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("feed download failed: %s", error)
        raise FeedError("downloading it failed; please send it again.") from error
    if len(content) > MAX_BYTES:
        raise FeedError(f"it is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    return content
