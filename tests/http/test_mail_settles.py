"""One bad email never holds up the rest: a control character pasted into case information
(Word's soft line break) is rendered into the plan's Word file and emailed, and an email that
cannot be prepared at all is settled with its reason while the emails behind it go out. The
local Azure AD and Graph of test_dissemination_graph.py stand in for Microsoft's."""

from __future__ import annotations

import base64
import io

from docx import Document
from sqlalchemy import select

from bot.proactive.graph import deliver_mail
from dialogs import case_work
from storage.models import Case, MailMessage, PlanVersion
from tests.http.test_dissemination_graph import microsoft  # noqa: F401  (a fixture)
from tests.store.meeting_factory import next_case
from tests.store.plan_factory import add_mailbox, heard, tick

MAILBOXES = {"Police": "marac@police.example.gov.uk", "Health": "marac@health.example.nhs.uk",
             "Children's Social Care": "marac@csc.example.gov.uk"}


async def plan_for_three_mailboxes(store, clock, health_says: str):
    """The first case heard, Health's information as given, and its plan queued to three
    agencies' secure mailboxes."""
    h = await heard(store, clock, close=False)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == h.number))
        await case_work.add_information(session, case, h.demo.agencies["Health"], health_says,
                                        False, h.demo.people["Cara"], clock.now())
    for agency, address in MAILBOXES.items():
        await add_mailbox(store, h.demo.agencies[agency], address)
    await next_case(store, clock)
    await tick(store, clock)
    return h


async def mails(store) -> list[MailMessage]:
    async with store.unit_of_work() as session:
        return list((await session.scalars(select(MailMessage).order_by(MailMessage.id))).all())


def attached_text(mail) -> str:
    (attachment,) = mail["message"]["attachments"]
    document = Document(io.BytesIO(base64.b64decode(attachment["contentBytes"])))
    return "\n".join(cell.text for table in document.tables for row in table.rows
                     for cell in row.cells)


async def test_a_soft_line_break_in_case_information_is_rendered_and_every_plan_emailed(
        store, clock, microsoft):  # noqa: F811
    fake, mailer = microsoft
    await plan_for_three_mailboxes(store, clock, "Attended A&E\x0bin October.")

    assert await deliver_mail(store, mailer, clock) == 3
    assert sorted(m["message"]["toRecipients"][0]["emailAddress"]["address"]
                  for m in fake.mails) == sorted(MAILBOXES.values())
    assert "Attended A&E\nin October." in attached_text(fake.mails[0])
    assert all(m.delivered_at and not m.last_error for m in await mails(store))


async def test_an_email_that_cannot_be_prepared_is_settled_and_the_rest_are_sent(
        store, clock, microsoft):  # noqa: F811
    fake, mailer = microsoft
    await plan_for_three_mailboxes(store, clock, "Attended A&E in October.")
    async with store.unit_of_work() as session:  # a damaged stored plan behind the first
        first = (await session.scalars(select(MailMessage).order_by(MailMessage.id))).first()
        good = await session.get_one(PlanVersion, first.plan_version_id)
        damaged = PlanVersion(case_id=good.case_id, version=99, created_at=good.created_at,
                              change="damaged", reason="damaged", content={})
        session.add(damaged)
        await session.flush()
        first.plan_version_id = damaged.id

    assert await deliver_mail(store, mailer, clock) == 2
    stuck, *sent = await mails(store)
    assert all(m.delivered_at for m in sent) and len(fake.mails) == 2
    assert stuck.delivered_at is None and stuck.next_attempt_at > clock.now()
    assert stuck.last_error.startswith("The plan could not be prepared for email: TypeError")
