"""Fetching the police feed from the download link Teams sends: the whole file or a refusal
in one sentence, never part of it.

Teams' links are https on port 443 at the tenant's SharePoint; a link anywhere else (another
port, this machine) is refused, except loopback in development (an anonymous bot, as the
Playground runs it). A redirect is followed only on the same host, so a link cannot send
the bot to fetch from somewhere Teams did not name."""

from __future__ import annotations

import logging
from ipaddress import ip_address
from urllib.parse import urljoin, urlparse

import aiohttp

from dialogs.police_feed import MAX_BYTES, FeedError

log = logging.getLogger(__name__)
MOST_REDIRECTS = 3
CHUNK = 64 * 1024
TOO_LARGE = f"it is larger than {MAX_BYTES // (1024 * 1024)} MB."
CUT_SHORT = "the download was cut short; please send it again."


def check_link(url: str, development: bool) -> str:
    """The link, if the bot may fetch from it; FeedError saying why not."""
    parsed = urlparse(url)
    try:
        port = parsed.port
    except ValueError as error:
        raise FeedError("its download link is not a valid address.") from error
    if _is_loopback(parsed.hostname):
        if development and parsed.scheme in ("http", "https"):
            return url
        raise FeedError("its download link points at this machine.")
    if parsed.scheme != "https" or not parsed.hostname:
        raise FeedError("its download link is not a secure (https) address.")
    if port not in (None, 443):
        raise FeedError("its download link is not on the https port (443).")
    return url


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
                                 development)
                if urlparse(url).hostname != host:
                    raise FeedError("its download link redirects to another address.")
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
