"""A subject access request over HTTP, as the operations manager meets it in personal chat:
`sar` shows the record to review, the export button offers the reviewed record as a Word
file (Teams' file consent card, through botbuilder's real connector client to a local
connector), and once accepted the file put at the upload URL holds the record with the
chosen items withheld and words redacted. Anyone else is refused and nothing is uploaded."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from docx import Document
from sqlalchemy import select

from bot.features.documents import FILE_CONSENT, MARKING
from bot.teams.files import FILE_INFO
from dialogs.subject_access import REDACTED, WITHHELD
from storage.models import AuditEvent
from tests.http.test_dissemination import bot, connector, invoke, personal, say  # noqa: F401
from tests.store.test_subject_access import held_with_a_case

REFERENCE = "VR-SAR-1"


class OneDrive:
    """Where Teams would have the file put: records each upload."""

    def __init__(self) -> None:
        self.uploads: list[bytes] = []
        self.app = web.Application()
        self.app.router.add_put("/upload/{name}", self._put)

    async def _put(self, request: web.Request) -> web.Response:
        self.uploads.append(await request.read())
        return web.json_response({"id": "file-1"}, status=201)


@pytest.fixture
async def onedrive() -> AsyncIterator[tuple[OneDrive, str]]:
    drive = OneDrive()
    async with TestServer(drive.app) as server:
        yield drive, str(server.make_url("/upload/sar.docx"))


async def accept(client, who: str, service_url: str, offer: dict[str, Any],
                 upload_url: str) -> None:
    response = await client.post("/api/messages", json=personal(
        who, service_url, type="invoke", name="fileConsent/invoke", value={
            "type": "fileUpload", "action": "accept",
            "context": offer["content"]["acceptContext"],
            "uploadInfo": {"name": offer["name"], "uploadUrl": upload_url,
                           "contentUrl": "https://contoso.sharepoint.com/sar.docx",
                           "uniqueId": "u-1", "fileType": "docx"}}))
    assert response.status == 200, await response.text()


async def exports_audited(store) -> list[tuple[str, str]]:
    """The audit trail's export rows (the button's own and the file saved), oldest first."""
    async with store.unit_of_work() as session:
        return [(e.action, e.outcome) for e in (await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sar.export")
            .order_by(AuditEvent.id))).all()]


def text_of_document(document: bytes) -> str:
    word = Document(io.BytesIO(document))
    cells = [c.text for t in word.tables for row in t.rows for c in row.cells]
    header = word.sections[0].header.paragraphs[0].text
    return "\n".join([header, *(p.text for p in word.paragraphs), *cells])


async def test_the_reviewed_record_is_exported_with_items_withheld_and_words_redacted(
        store, clock, connector, bot, onedrive):  # noqa: F811
    fake, service_url = connector
    drive, upload_url = onedrive
    await held_with_a_case(store, clock)

    review = await say(bot, fake, "Olu", service_url, f"sar {REFERENCE}")
    card = json.dumps(review["attachments"][0]["content"])
    assert "withhold_1" in card and "sar.export" in card and "Quillon" not in card

    before = len(fake.sent)
    answer = await invoke(bot, "Olu", service_url, "sar.export", {
        "reference": REFERENCE, "withhold_1": "true", "redact": "order"})
    assert answer["value"] == ("Reviewed: 1 withheld, 1 further redactions. Accept the file "
                               "card to save the export.")
    (offer,) = [a["attachments"][0] for a in fake.sent[before:]]
    assert offer["contentType"] == FILE_CONSENT
    assert REFERENCE not in offer["name"]

    await accept(bot, "Olu", service_url, offer, upload_url)
    (document,) = drive.uploads
    assert fake.sent[-1]["attachments"][0]["contentType"] == FILE_INFO
    text = text_of_document(document)
    assert text.startswith(MARKING) and f"Subject access record: {REFERENCE}" in text
    assert WITHHELD in text and "Mill Lane" not in text  # item 1, the information, withheld
    assert f"about the {REDACTED}" in text and "Quillon" not in text and "Priya" not in text
    assert ("sar.export", "done") in await exports_audited(store)  # the file saved, audited


@pytest.mark.parametrize("who", ["Cara", "Priya"])
async def test_no_one_but_the_operations_manager_reviews_or_exports(
        store, clock, connector, bot, onedrive, who):  # noqa: F811
    fake, service_url = connector
    drive, upload_url = onedrive
    await held_with_a_case(store, clock)
    asked = await say(bot, fake, who, service_url, f"sar {REFERENCE}")
    assert asked["text"].startswith("Only an operations manager of this MARAC can use 'sar'")
    answer = await invoke(bot, who, service_url, "sar.export", {"reference": REFERENCE})
    assert answer["value"].startswith(
        "Only an operations manager of this MARAC can use 'sar.export'")

    before = len(fake.sent)
    await invoke(bot, "Olu", service_url, "sar.export", {"reference": REFERENCE})
    (offer,) = [a["attachments"][0] for a in fake.sent[before:]]
    await accept(bot, who, service_url, offer, upload_url)
    assert fake.sent[-1]["text"] == ("Only the operations manager can export a subject "
                                     "access record.")
    assert drive.uploads == []
    assert (await exports_audited(store))[-1] == ("sar.export", "refused")


async def test_a_review_naming_an_item_not_held_offers_nothing(
        store, clock, connector, bot):  # noqa: F811
    fake, service_url = connector
    await held_with_a_case(store, clock)
    before = len(fake.sent)
    answer = await invoke(bot, "Olu", service_url, "sar.export", {
        "reference": REFERENCE, "withhold_99": "true"})
    assert answer["value"] == ("The review names an item that is not held; run **sar** again "
                               "and review the current record.")
    nothing = await invoke(bot, "Olu", service_url, "sar.export", {"reference": "VR-NOBODY"})
    assert nothing["value"] == "Nothing is held under that reference."
    assert fake.sent[before:] == []
