"""The police feed sent to the bot as a file in personal chat (the manifest declares
supportsFiles, so Teams delivers a download link)."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, Attachment

from bot import commands
from bot.access import context_of, refusal
from bot.feed_download import download
from bot.replies import card_reply, text_reply
from cards.import_report import import_report_card
from dialogs.clock import Clock
from dialogs.police_feed import FeedError, import_in_batches, read_rows
from dialogs.replay import first_delivery
from storage.database import Store

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


async def handle_feed_file(activity: Activity, attachment: Attachment, store: Store,
                           clock: Clock, development: bool = False) -> Activity:
    importing = commands.find("import")
    assert importing is not None
    async with store.unit_of_work() as session:
        refused = refusal(importing, await context_of(session, activity))
    if refused is not None:
        return text_reply(refused)
    name = attachment.name or "the file"
    try:
        rows = read_rows(await download(_download_url(attachment), development))
    except FeedError as error:
        return text_reply(f"I could not import {name}: {error}")
    async with store.unit_of_work() as session:
        context = await context_of(session, activity)
        assert context.marac_id is not None
        first = not activity.id or await first_delivery(
            session, activity.conversation.id, activity.id, clock.now())
    if not first:  # Teams delivered the message again, or twice at once
        return text_reply(f"{name} from this message is imported already (or still being "
                          "imported: its report follows); to import it again, send it in a "
                          "new message.")
    report = await import_in_batches(store, context.marac_id, rows, clock.now())
    return card_reply(import_report_card(name, report))


def _download_url(attachment: Attachment) -> str:
    content: Any = attachment.content
    url = content.get("downloadUrl") if isinstance(content, dict) else None
    if not isinstance(url, str):
        raise FeedError("Teams sent no download link for it.")
    return url
