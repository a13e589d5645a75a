"""A message Teams refuses as too large (413) is sent in its short form, never retried as it
was nor dropped in silence; the outbox records that the short form went."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bot.proactive import outbox
from bot.turns.replies import card_reply
from cards.base import build, heading, paragraph
from storage.models import OutboxMessage
from tests.http.test_timers import DEMO_TEAM, connector, timers  # noqa: F401  (fixtures)


async def test_a_card_teams_refuses_as_too_large_goes_in_its_short_form(
        store, clock, timers, connector):  # noqa: F811
    fake, _ = connector
    card = replace(
        card_reply(build([heading("MARAC action plan RIV-2026-001"), paragraph("x" * 100)])),
        summary="Type **plan RIV-2026-001** for the plan; the Word document holds it whole.")
    async with store.unit_of_work() as session:
        outbox.enqueue(session, card, "plan", clock.now(), conversation_id=DEMO_TEAM)
    fake.refuse_next = [413]

    assert await timers.deliver() == 1

    [sent] = fake.sent
    assert sent["text"] == ("MARAC action plan RIV-2026-001: too long for Teams to show here. "
                            "Type **plan RIV-2026-001** for the plan; the Word document holds "
                            "it whole.")
    assert not sent.get("attachments")
    async with store.unit_of_work() as session:
        [message] = (await session.scalars(select(OutboxMessage))).all()
    assert message.delivered_at is not None and message.attempts == 1
    assert message.last_error == "Teams refused it as too large (413): sent in short form."
