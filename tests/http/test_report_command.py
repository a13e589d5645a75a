"""`report [PERIOD] [csv/docx]` over HTTP, in personal chat: the coordinator gets the figures
card (valid for Teams, with its charts); a period that cannot be read is one sentence; with
csv or docx the file is offered through Teams' file consent card and, once accepted, put at
the upload URL; an agency representative is refused in one sentence, audited, and accepting
someone else's offer uploads nothing."""

from __future__ import annotations

import csv
import io

from docx import Document
from sqlalchemy import select

from bot.features.documents import FILE_CONSENT, MARKING
from bot.features.report import NOT_ENTITLED
from bot.features.report_export import SAFELIVES_COLUMNS
from bot.teams.files import FILE_INFO
from storage.models import AuditEvent
from tests.cards_check import assert_valid_for_teams, charts_of
from tests.http import test_dissemination, test_subject_access_export
from tests.store.plan_factory import end_meeting, heard, tick
from tests.store.referral_factory import is_one_sentence

bot, connector, say = test_dissemination.bot, test_dissemination.connector, test_dissemination.say
onedrive, accept = test_subject_access_export.onedrive, test_subject_access_export.accept


async def held(store, clock) -> None:
    await heard(store, clock)
    await end_meeting(store, clock)
    await tick(store, clock)


async def test_the_coordinator_sees_the_figures_and_a_representative_is_refused(
        store, clock, connector, bot):
    fake, service_url = connector
    await held(store, clock)
    card = (await say(bot, fake, "Cara", service_url, "report 2026"))["attachments"][0]
    assert_valid_for_teams(card["content"])
    assert "Riverside MARAC: figures" in str(card["content"]) and charts_of(card["content"])
    unread = await say(bot, fake, "Cara", service_url, "report someday")
    assert is_one_sentence(unread["text"]) and unread["text"].startswith("Give the period")
    refused = await say(bot, fake, "Priya", service_url, "report")
    assert is_one_sentence(refused["text"]) and "'report'" in refused["text"]
    async with store.unit_of_work() as session:
        audit = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "report").order_by(AuditEvent.id))).all()
    assert [a.outcome for a in audit] == ["done", "refused", "refused"]  # an unreadable period too


async def test_the_files_are_offered_and_uploaded_once_accepted(store, clock, connector, bot,
                                                               onedrive):
    fake, service_url = connector
    drive, upload_url = onedrive
    await held(store, clock)
    offer = (await say(bot, fake, "Cara", service_url, "report 2026 csv"))["attachments"][0]
    assert offer["contentType"] == FILE_CONSENT and offer["name"].endswith(".csv")
    await accept(bot, "Priya", service_url, offer, upload_url)  # not hers to take
    assert fake.sent[-1]["text"] == NOT_ENTITLED and drive.uploads == []
    await accept(bot, "Cara", service_url, offer, upload_url)
    assert fake.sent[-1]["attachments"][0]["contentType"] == FILE_INFO
    rows = list(csv.reader(io.StringIO(drive.uploads[-1].decode())))
    assert tuple(rows[0]) == SAFELIVES_COLUMNS and rows[1][0] == "Riverside MARAC"

    offer = (await say(bot, fake, "Olu", service_url, "report 2026 docx"))["attachments"][0]
    await accept(bot, "Olu", service_url, offer, upload_url)
    document = Document(io.BytesIO(drive.uploads[-1]))
    assert document.sections[0].header.paragraphs[0].text == MARKING
    assert document.tables and document.inline_shapes
