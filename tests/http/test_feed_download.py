"""Downloading the police feed from a file server on loopback that sends it slowly, in
small pieces, cut short, too large or redirected: the bot reads the whole file or refuses it
in one sentence, never a part of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date

import pytest
from aiohttp import web

from bot.features.feed_download import check_link, download
from dialogs.police_feed import MAX_BYTES, FeedError, read_rows
from tests.feed_file import feed_csv, feed_rows

RECEIVED = date(2026, 11, 20)
PIECE = 8 * 1024


@pytest.fixture
async def slow_server() -> AsyncIterator[Callable[..., str]]:
    """A raw HTTP/1.1 server on 127.0.0.1 that sends a body in small pieces with a pause
    between them, declaring `length` (None: none, the body ends when the connection closes)
    and stopping after `stop_at` bytes if given. Serving a body gives its URL."""
    served: dict[str, tuple[bytes, int | None, int | None]] = {}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ")[1].decode()
        body, length, stop_at = served[path]
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nConnection: close\r\n"
        if length is not None:
            head += f"Content-Length: {length}\r\n"
        writer.write((head + "\r\n").encode())
        end = len(body) if stop_at is None else stop_at
        for start in range(0, end, PIECE):
            writer.write(body[start:min(start + PIECE, end)])
            await writer.drain()
            await asyncio.sleep(0.001)
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    def serve(body: bytes, length: int | None = -1, stop_at: int | None = None) -> str:
        path = f"/feed-{len(served)}.csv"
        served[path] = (body, len(body) if length == -1 else length, stop_at)
        return f"http://127.0.0.1:{port}{path}"

    yield serve
    server.close()
    await server.wait_closed()


def feed_of_size(most_bytes: int) -> tuple[bytes, int]:
    """A feed file just under `most_bytes`, and its number of rows (all the same width)."""
    header = len(feed_csv([]))
    width = len(feed_csv(feed_rows(1, RECEIVED))) - header
    rows = (most_bytes - header) // width
    return feed_csv(feed_rows(rows, RECEIVED)), rows


async def test_a_feed_at_the_size_limit_sent_slowly_in_pieces_is_read_whole(slow_server):
    content, rows = feed_of_size(MAX_BYTES)
    assert len(content) > 5_000_000 and rows > 40_000

    got = await download(slow_server(content), development=True)

    assert got == content
    assert len(read_rows(got)) == rows


async def test_a_feed_without_a_declared_length_is_read_whole(slow_server):
    content, rows = feed_of_size(200_000)
    got = await download(slow_server(content, length=None), development=True)
    assert len(read_rows(got)) == rows


async def test_a_download_cut_short_is_refused_not_imported_in_part(slow_server):
    content, _ = feed_of_size(200_000)
    with pytest.raises(FeedError) as refused:
        await download(slow_server(content, stop_at=len(content) // 2), development=True)
    assert str(refused.value) == "the download was cut short; please send it again."


@pytest.mark.parametrize("declared", [True, False])
async def test_a_feed_over_the_size_limit_is_refused(slow_server, declared):
    content, _ = feed_of_size(6_000_000)  # the file the issue saw cut
    assert len(content) > MAX_BYTES
    url = slow_server(content, length=-1 if declared else None)
    with pytest.raises(FeedError) as refused:
        await download(url, development=True)
    assert str(refused.value) == "it is larger than 5 MB."


@pytest.fixture
async def redirecting() -> AsyncIterator[int]:
    """A file server on 127.0.0.1 whose /here redirects on the same host and /away to
    another host name of this machine; the port."""
    content = feed_csv(feed_rows(3, RECEIVED))
    port_of: dict[str, int] = {}

    async def feed(_: web.Request) -> web.Response:
        return web.Response(body=content, content_type="text/csv")

    async def here(_: web.Request) -> web.Response:
        raise web.HTTPFound("/feed.csv")

    async def away(_: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://localhost:{port_of['port']}/feed.csv")

    app = web.Application()
    app.router.add_get("/feed.csv", feed)
    app.router.add_get("/here", here)
    app.router.add_get("/away", away)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port_of["port"] = runner.addresses[0][1]
    yield port_of["port"]
    await runner.cleanup()


async def test_a_redirect_is_followed_only_on_the_same_host(redirecting):
    got = await download(f"http://127.0.0.1:{redirecting}/here", development=True)
    assert len(read_rows(got)) == 3
    with pytest.raises(FeedError) as refused:
        await download(f"http://127.0.0.1:{redirecting}/away", development=True)
    assert str(refused.value) == "its download link redirects to another address."


@pytest.mark.parametrize(("url", "development", "sentence"), [
    ("http://contoso.sharepoint.com/feed.csv", False,
     "its download link is not a secure (https) address."),
    ("https://contoso.sharepoint.com:8443/feed.csv", False,
     "its download link is not on the https port (443)."),
    ("https://127.0.0.1/feed.csv", False, "its download link points at this machine."),
    ("http://localhost:8080/feed.csv", False, "its download link points at this machine."),
    ("https://[::1]/feed.csv", False, "its download link points at this machine."),
    ("file:///etc/passwd", True, "its download link is not a secure (https) address."),
])
def test_links_elsewhere_than_https_443_are_refused(url, development, sentence):
    with pytest.raises(FeedError) as refused:
        check_link(url, development)
    assert str(refused.value) == sentence


def test_teams_links_and_loopback_in_development_are_fetched():
    link = "https://contoso.sharepoint.com/personal/cara/feed.csv?download=1"
    assert check_link(link, development=False) == link
    assert check_link("http://127.0.0.1:8123/feed.csv", development=True)
