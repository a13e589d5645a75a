"""Word documents the bot hands over in personal chat (a plan, a subject access export):
each page marked OFFICIAL-SENSITIVE, offered with Teams' file consent card (bot.teams.files
puts the file at the upload URL Teams gives once the person accepts)."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from bot.turns.replies import Message, attachment_reply
from dialogs.safe_text import safe_text

MARKING = "OFFICIAL-SENSITIVE"
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"


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
            cell.text = safe_text(text)  # a record stored before text was made safe on input
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(10)


def to_bytes(document: Any) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def offer(name: str, description: str, size: int, context: dict[str, Any]) -> Message:
    """The file consent card: Teams asks the person where to save the file, then tells the
    bot with `context` handed back unchanged (so nothing is held in memory meanwhile)."""
    return attachment_reply({
        "contentType": FILE_CONSENT, "name": name,
        "content": {"description": f"{description} ({MARKING}).", "sizeInBytes": size,
                    "acceptContext": context, "declineContext": context}})
