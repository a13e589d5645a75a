"""Fetching the police feed from the download link Teams sends: the whole file or a refusal
in one sentence, never part of it.

Teams' links are https on port 443 at the tenant's SharePoint; a link anywhere else (another
port, this machine) is refused, except loopback in development (an anonymous bot, as the
Playground runs it). A redirect is followed only on the same host, so a link cannot send
the bot to fetch from somewhere Teams did not name."""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlparse

import aiohttp

from dialogs.police_feed import MAX_BYTES, FeedError, download_refusal

log = logging.getLogger(__name__)
MOST_REDIRECTS = 3
CHUNK = 64 * 1024
TOO_LARGE = f"it is larger than {MAX_BYTES // (1024 * 1024)} MB."
CUT_SHORT = "the download was cut short; please send it again."


def check_link(url: str, development: bool, first_host: str | None = None) -> str:
    """The link, if the bot may fetch from it (dialogs.police_feed.download_refusal);
    FeedError saying why not."""
    refused = download_refusal(url, development, first_host)
    if refused is not None:
        raise FeedError(refused)
    return url


async def download(url: str, development: bool = False) -> bytes:
    """The whole body at the link, up to MAX_BYTES."""
    check_link(url, development)
    timeout = aiohttp.ClientTimeout(total=120, sock_read=30)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            return await _follow(http, url, development)
    except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as error:
        log.warning("feed download cut short: %s", error)
        raise FeedError(CUT_SHORT) from error
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("feed download failed: %s", error)
        raise FeedError("downloading it failed; please send it again.") from error


async def _follow(http: aiohttp.ClientSession, url: str, development: bool) -> bytes:
    host = urlparse(url).hostname
    for _ in range(MOST_REDIRECTS + 1):
        async with http.get(url, allow_redirects=False) as response:
            if response.status in (301, 302, 303, 307, 308):
                url = check_link(urljoin(url, response.headers.get("Location", "")),
                                 development, first_host=host)
                continue
            if response.status != 200:
                raise FeedError(f"downloading it failed (HTTP {response.status}).")
            return await _whole_body(response)
    raise FeedError("its download link redirects too many times.")


async def _whole_body(response: aiohttp.ClientResponse) -> bytes:
    declared = response.content_length
    if response.headers.get("Content-Encoding", "identity") != "identity":
        declared = None  # it counts the compressed bytes, not what arrives decompressed
    elif declared is not None and declared > MAX_BYTES:
        raise FeedError(TOO_LARGE)
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > MAX_BYTES:
            raise FeedError(TOO_LARGE)
    if declared is not None and len(body) != declared:
        raise FeedError(CUT_SHORT)
    return bytes(body)
