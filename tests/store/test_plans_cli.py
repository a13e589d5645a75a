"""The console commands of the plan after the meeting: an agency's secure mailbox is set and
removed, and a case's current plan is written as a Word document."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

from docx import Document
from sqlalchemy import select

from bot.ops.cli import main
from dialogs.clock import FixedClock
from storage.database import Store
from storage.models import AgencyMailbox
from tests.store.plan_factory import heard, tick


def test_mailbox_and_plan_export_from_the_console(database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))

    async def disseminate() -> str:
        store = Store.from_url(database_url)
        try:
            h = await heard(store, clock)
            await tick(store, clock)
            return h.number
        finally:
            await store.close()

    async def mailboxes() -> list[str]:
        store = Store.from_url(database_url)
        try:
            async with store.unit_of_work() as session:
                return list((await session.scalars(select(AgencyMailbox.address))).all())
        finally:
            await store.close()

    number = asyncio.run(disseminate())
    mailbox = ["mailbox", "--marac", "Riverside MARAC", "--agency", "Health"]
    assert main([*mailbox, "marac@health.example.nhs.uk"]) == 0
    assert main([*mailbox, "marac@health.example.nhs.uk"]) == 0
    assert asyncio.run(mailboxes()) == ["marac@health.example.nhs.uk"]
    assert main([*mailbox, "not an address"]) == 2
    assert main([*mailbox, ""]) == 0
    assert asyncio.run(mailboxes()) == []
    out = tmp_path / "plan.docx"
    assert main(["plan-export", number.lower(), "--marac", "Riverside MARAC",
                 "--out", str(out)]) == 0
    assert main(["plan-export", "RIV-1999-001", "--marac", "Riverside MARAC"]) == 1
    printed = capsys.readouterr()
    assert "Health's plans are also emailed to marac@health.example.nhs.uk." in printed.out
    assert "Health has no secure mailbox now" in printed.out
    assert "marac: 'not an address' is not an email address." in printed.err
    assert "marac: There is no case RIV-1999-001 in this MARAC." in printed.err
    paragraphs = [p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs]
    assert f"MARAC action plan {number} · Amy" in paragraphs
