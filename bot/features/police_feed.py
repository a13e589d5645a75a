"""The police feed sent to the bot as a file in personal chat (the manifest declares
supportsFiles, so Teams delivers a download link): fetched whole or refused
(bot.features.feed_download), imported once per message, in committed batches."""

from __future__ import annotations

from typing import Any

from bot.features.feed_download import check_link, download
from bot.turns.access import audit, context_of, named_marac, refusal
from bot.turns.arrival import Arrival
from bot.turns.registry import COORDINATORS, PERSONAL_ONLY, command, find
from bot.turns.replies import Message, card_reply, text_reply
from bot.turns.request import Request
from cards.import_report import import_report_card
from dialogs.clock import Clock
from dialogs.police_feed import FeedError, import_in_batches, read_rows
from dialogs.replay import first_delivery
from storage.database import Store

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


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
        first = not arrival.activity_id or await first_delivery(
            session, arrival.conversation_id, arrival.activity_id, clock.now())
    if not first:  # Teams delivered the message again, or twice at once
        return text_reply(f"{name} from this message is imported already (or still being "
                          "imported: its report follows); to import it again, send it in a "
                          "new message.")
    report = await import_in_batches(store, context.marac_id, rows, clock.now())
    return card_reply(import_report_card(name, report), "Police feed imported")


def _download_url(content: Any, development: bool) -> str:
    url = content.get("downloadUrl") if isinstance(content, dict) else None
    if not isinstance(url, str):
        raise FeedError("Teams sent no download link for it.")
    return check_link(url, development)
