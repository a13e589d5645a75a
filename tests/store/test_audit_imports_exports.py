"""Imports and exports are audited with their true outcome (issue 13, finding 7): an import
done, an import refused (not the coordinator, or a file that cannot be fetched), and the
audit trail cannot be emptied with TRUNCATE on PostgreSQL. The feed is fetched only from
https on port 443, never by a redirect to another host, from loopback only in development
(finding 9)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from botbuilder.schema import Activity
from sqlalchemy import select, text

from bot.features.police_feed import handle_feed_file
from bot.teams.conversation import arrival_of
from bot.turns.arrival import Arrival
from dialogs.demo import DEMO_PEOPLE, DEMO_TENANT
from dialogs.police_feed import download_refusal
from storage.models import AuditEvent
from tests.store.referral_factory import csv_bytes, police_row, seeded

CARA, PRIYA = DEMO_PEOPLE[0], DEMO_PEOPLE[3]


def a_file(person: Any, url: str) -> tuple[Arrival, str, dict[str, str]]:
    """What the handler hands the feed: who sent it, from where, the file's name and its
    download information."""
    activity = Activity().deserialize({
        "type": "message", "id": f"file-{person.full_name}-{url}", "channelId": "msteams",
        "serviceUrl": "http://x/", "text": "",
        "from": {"id": person.teams_user_id, "aadObjectId": person.aad_object_id},
        "recipient": {"id": "bot"},
        "conversation": {"id": f"chat-{person.aad_object_id}", "conversationType": "personal",
                         "tenantId": DEMO_TENANT},
        "channelData": {"tenant": {"id": DEMO_TENANT}}})
    return arrival_of(activity), "feed.csv", {"downloadUrl": url, "fileType": "csv"}


async def trail(store) -> list[tuple[str, str, str]]:
    async with store.unit_of_work() as session:
        return [(e.action, e.outcome, e.detail) for e in (await session.scalars(
            select(AuditEvent).order_by(AuditEvent.id))).all()]


async def test_imports_done_and_refused_are_audited(store, clock, unused_tcp_port):
    await seeded(store, clock)
    app = web.Application()
    feed = csv_bytes([police_row()])
    app.router.add_get("/feed.csv", lambda _: web.Response(body=feed))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        url = f"http://127.0.0.1:{unused_tcp_port}/feed.csv"
        await handle_feed_file(*a_file(PRIYA, url), store, clock, development=True)
        await handle_feed_file(*a_file(CARA, "http://feeds.example.org/feed.csv"), store, clock,
                               development=True)
        await handle_feed_file(*a_file(CARA, url), store, clock, development=True)
    finally:
        await runner.cleanup()
    assert await trail(store) == [
        ("import", "refused", "Only a coordinator of this MARAC can use 'import'; ask your "
                              "coordinator if you need it."),
        ("import", "refused", "I could not import feed.csv: its download link is not a "
                              "secure (https) address."),
        ("import", "done", ""),
    ]


async def test_truncate_cannot_empty_the_audit_trail(store, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no TRUNCATE; its DELETE is refused (test_audit)")
    async with store.engine.begin() as connection:
        await connection.execute(text(
            "INSERT INTO audit_event (at, tenant_id, aad_object_id, place, conversation_id, "
            "action, subject, outcome, detail) VALUES (now(), 't', 'a', 'channel', 'c', "
            "'next', '', 'done', '')"))
    with pytest.raises(Exception, match="audit rows cannot be changed or deleted"):
        async with store.engine.begin() as connection:
            await connection.execute(text("TRUNCATE audit_event"))
    async with store.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM audit_event"))).scalar() == 1


@pytest.mark.parametrize(("url", "development", "sentence"), [
    ("https://contoso.sharepoint.com/feed.csv", False, None),
    ("https://contoso.sharepoint.com:443/feed.csv", False, None),
    ("https://contoso.sharepoint.com:8443/feed.csv", False,
     "its download link is not on the https port (443)."),
    ("http://contoso.sharepoint.com/feed.csv", False,
     "its download link is not a secure (https) address."),
    ("http://127.0.0.1:8080/feed.csv", False, "its download link points at this machine."),
    ("https://localhost/feed.csv", False, "its download link points at this machine."),
    ("http://127.0.0.1:8080/feed.csv", True, None),
    ("https://[::1:bad/feed.csv", False, "its download link is not a web address."),
])
def test_the_feed_is_fetched_only_from_https_on_443_and_loopback_only_in_development(
        url, development, sentence):
    """Issue 13, finding 9."""
    assert download_refusal(url, development) == sentence


async def test_a_redirect_to_another_host_is_not_followed(store, clock, unused_tcp_port):
    await seeded(store, clock)
    app = web.Application()

    async def elsewhere(_: web.Request) -> web.Response:
        raise web.HTTPFound("https://attacker.example/feed.csv")
    app.router.add_get("/feed.csv", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        answer = await handle_feed_file(*a_file(
            CARA, f"http://127.0.0.1:{unused_tcp_port}/feed.csv"), store, clock,
            development=True)
    finally:
        await runner.cleanup()
    assert answer.text == ("I could not import feed.csv: its download link redirects to "
                           "another address.")
    assert (await trail(store))[-1][:2] == ("import", "refused")
