"""Word documents the bot hands over in personal chat (a plan, a subject access export):
marked OFFICIAL-SENSITIVE, offered with Teams' file consent card, and put at the upload URL
Teams gives once the person accepts."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, Attachment
from botbuilder.schema.teams import FileConsentCardResponse, FileInfoCard
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from bot.teams.replies import text_reply

MARKING = "OFFICIAL-SENSITIVE"
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


def marked_document(title: str) -> Any:
    """A new Word document with its protective marking in the header and the footer."""
    document = Document()
    document.core_properties.title = title
    document.core_properties.subject = MARKING
    section = document.sections[0]
    for part in (section.header, section.footer):
        marking = part.paragraphs[0]
        marking.text = MARKING
        marking.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return document


def table(document: Any, rows: list[tuple[str, ...]], header: tuple[str, ...] | None = None
          ) -> None:
    width = len(header) if header else 2
    grid = document.add_table(rows=0, cols=width)
    grid.style = "Table Grid"
    if header:
        cells = grid.add_row().cells
        for cell, text in zip(cells, header, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.font.bold = True
    for row in rows:
        cells = grid.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(10)


def to_bytes(document: Any) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def offer(name: str, description: str, size: int, context: dict[str, Any]) -> Activity:
    """The file consent card: Teams asks the person where to save the file, then tells the
    bot with `context` handed back unchanged (so nothing is held in memory meanwhile)."""
    return MessageFactory.attachment(Attachment(
        content_type=FILE_CONSENT, name=name,
        content={"description": f"{description} ({MARKING}).", "sizeInBytes": size,
                 "acceptContext": context, "declineContext": context}))


async def upload(turn_context: TurnContext, response: FileConsentCardResponse,
                 document: bytes, try_again: str) -> bool:
    """Put the file at Teams' upload URL and show its card; say so if Teams refuses."""
    target = response.upload_info
    async with aiohttp.ClientSession() as client, client.put(
            target.upload_url, data=document, headers={
                "Content-Length": str(len(document)),
                "Content-Range": f"bytes 0-{len(document) - 1}/{len(document)}"}) as put:
        if put.status >= 300:
            await turn_context.send_activity(text_reply(
                f"Teams did not take the file ({put.status}); please try {try_again} again."))
            return False
    card = FileInfoCard(unique_id=target.unique_id, file_type=target.file_type)
    await turn_context.send_activity(MessageFactory.attachment(Attachment(
        content_type=FILE_INFO, name=target.name, content_url=target.content_url,
        content=card.serialize())))
    return True
