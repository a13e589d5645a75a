"""A plan of about 32 KB (six agencies sharing 4,000 characters each, twenty actions) goes out
after the meeting as Teams cards inside Teams' 28 KB, each entry cut where it must be and
said to continue in the document, and as the whole Word document to a secure mailbox (the
local Azure AD and Graph of test_dissemination_graph.py stand in for Microsoft's)."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.proactive.graph import deliver_mail
from dialogs import case_work
from storage.models import Case
from tests.http.test_dissemination_graph import microsoft  # noqa: F401  (a fixture)
from tests.http.test_mail_settles import attached_text
from tests.store.meeting_factory import next_case
from tests.store.plan_factory import add_mailbox, heard, outbox, tick

AGENCIES = ("Police", "IDVA Service", "Children's Social Care", "Health", "Housing",
            "Probation")
TEAMS_LIMIT = 28 * 1024


def research(agency: str) -> str:
    return (f"{agency} holds this. " + "Call-outs, contacts and history in detail. " * 100
            )[:3990] + " END."


async def test_a_32_kb_plan_goes_out_in_cards_teams_takes_and_whole_in_the_document(
        store, clock, microsoft):  # noqa: F811
    fake, mailer = microsoft
    h = await heard(store, clock, close=False,
                    actions=(("Police", "Priya"), ("IDVA Service", "Imogen")) * 10)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.number == h.number))
        for agency in AGENCIES:
            await case_work.add_information(session, case, h.demo.agencies[agency],
                                            research(agency), False, h.demo.people["Cara"],
                                            clock.now(), "Information only.")
    await add_mailbox(store, h.demo.agencies["Health"], "marac@health.example.nhs.uk")
    await next_case(store, clock)
    await tick(store, clock)

    plans = await outbox(store, "plan")
    assert plans, "no plan card was queued"
    for message in plans:
        sent = json.dumps(message.activity)
        assert len(sent.encode()) < TEAMS_LIMIT, len(sent)
        assert "continued in the document" in sent and "END." not in sent
    assert await deliver_mail(store, mailer, clock) == 1
    document = attached_text(fake.mails[0])
    assert all(research(agency) in document for agency in AGENCIES)
