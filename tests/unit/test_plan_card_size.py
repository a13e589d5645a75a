"""A plan's cards stay inside Teams' 28 KB however long the plan grows: each entry is shown up
to a length and said to continue in the Word document, which holds it all."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import timedelta

from docx import Document

from bot.features.plan_export import render_docx
from cards.plan import disseminated_card, plan_card
from dialogs.plans import PlanAction, PlanUpdateLine
from tests.cards_check import assert_valid_for_teams
from tests.unit.test_plan_cards import NOW, plan, seen

AGENCIES = ("Police", "IDVA Service", "Children's Social Care", "Health", "Housing",
            "Probation")
CONTINUED = "continued in the document"


def research(agency: str) -> str:
    return (f"{agency} holds this. " + "Call-outs, contacts and history in detail. " * 100
            )[:3990] + " END."


def long_plan():
    """Six agencies sharing 4,000 characters each and 20 actions: about 32 KB of plan."""
    actions = tuple(PlanAction(n, AGENCIES[n % 6], "Priya", "Serve the order and check the "
                               "address; refer on to the IDVA. " * 5, "victim",
                               "Threats to kill.", "2026-12-09", "meeting")
                    for n in range(20))
    return dataclasses.replace(plan(), information=tuple((a, research(a)) for a in AGENCIES),
                               actions=actions)


def texts(card) -> str:
    return card.to_json()


def test_a_32_kb_plan_is_disseminated_in_a_card_teams_takes_with_the_rest_in_the_document():
    full = long_plan()
    assert len(json.dumps(dataclasses.asdict(full))) > 30_000

    card = disseminated_card(full)

    assert_valid_for_teams(card)
    assert len(card.to_json().encode()) < 28 * 1024
    assert CONTINUED in texts(card)
    assert "END." not in texts(card)
    document = Document(io.BytesIO(render_docx(seen(full))))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert all(research(agency) in cells for agency in AGENCIES)


def test_the_plan_after_six_long_updates_is_shown_in_a_card_teams_takes():
    updates = tuple(PlanUpdateLine((NOW + timedelta(hours=n)).isoformat(), "Priya (Police)",
                                   f"Update {n}: " + "seen near the address again. " * 130,
                                   n % 2 == 0) for n in range(6))
    grown = dataclasses.replace(long_plan(), updates=updates)

    card = plan_card(seen(grown))

    assert_valid_for_teams(card)
    assert CONTINUED in texts(card)
    assert all(f"Update {n}:" in texts(card) for n in range(6))


def test_a_short_plan_is_shown_whole():
    card = plan_card(seen(plan()))
    assert CONTINUED not in texts(card)
    assert "Two call-outs in 2026." in texts(card)
