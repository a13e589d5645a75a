"""The plan's cards are valid for Teams (schema and size) in every state, with nothing of the
case on a card a stranger could see; the plan renders as a Word document with its marking."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from docx import Document

from bot.features.documents import MARKING
from bot.features.plan_export import file_name, render_docx
from cards.plan import (
    action_card,
    alert_notice,
    disseminated_card,
    dissemination_card,
    my_actions_card,
    plan_card,
    update_card,
)
from dialogs.acknowledgement import OwnedAction
from dialogs.dissemination import AgencyState, CaseState
from dialogs.plans import Plan, PlanAction, PlanSeen, PlanUpdateLine
from storage.models import ActionStatus
from tests.cards_check import assert_valid_for_teams

NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def plan(actions: int = 3, long: bool = False) -> Plan:
    text = "Serve the non-molestation order and check the address. " * (8 if long else 1)
    return Plan(
        case_number="RIV-2026-001", victim_first_name="Amy", marac="Riverside MARAC",
        meeting_at=(NOW - timedelta(hours=4)).isoformat(), closed_panel=False,
        responsible=("Chris (chair)", "Priya (Police)", "Imogen (IDVA Service)"),
        referral={"reasons": ["visible_high_risk", "repeat"], "dash_yes": 16, "children": 2,
                  "referring_agency": "IDVA Service", "repeat": True},
        risks=("Threats to kill", "Strangulation"),
        information=(("Police", "Two call-outs in 2026." * (10 if long else 1)),
                     ("Housing", "No relevant information held.")),
        actions=tuple(PlanAction(n, "Police", "Priya", text, "victim", "Threats to kill.",
                                 "2026-12-09", "meeting",
                                 ["open", "acknowledged", "done", "cannot_complete"][n % 4],
                                 "Moved away." if n % 4 == 3 else "")
                      for n in range(actions)),
        victim_contact="Imogen", earlier_actions=("Police: flag the address",),
        earlier_plan="RIV-2025-014, version 2",
        updates=(PlanUpdateLine(NOW.isoformat(), "Priya (Police)", "Seen nearby.", True),),
    )


def seen(p: Plan) -> PlanSeen:
    return PlanSeen(p, 2, NOW, "Priya", "Action done: serve the order.", "Served on Friday.", 2)


def owned(status: ActionStatus) -> OwnedAction:
    return OwnedAction(7, "RIV-2026-001", "Amy", "Riverside MARAC", "Police", "Priya",
                       "Serve the order.", "victim", "Threats to kill.", date(2026, 12, 9),
                       status, "")


def test_the_plan_cards_are_valid_for_teams():
    for card in (plan_card(seen(plan())), disseminated_card(plan()),
                 plan_card(seen(plan(actions=0))), update_card("RIV-2026-001", "Write it."),
                 my_actions_card([]), my_actions_card([owned(ActionStatus.OPEN)] * 5)):
        assert_valid_for_teams(card)


def test_a_large_plan_still_fits_a_teams_card():
    assert_valid_for_teams(disseminated_card(plan(actions=25, long=True)))


@pytest.mark.parametrize("status", list(ActionStatus))
def test_an_action_card_offers_what_its_state_allows(status):
    card = action_card(owned(status))
    assert_valid_for_teams(card)
    verbs = {a.get("verb") for a in _actions(json.loads(card.to_json()))}
    expected = {ActionStatus.OPEN: {"action.acknowledge", "action.done", "action.cannot"},
                ActionStatus.ACKNOWLEDGED: {"action.done", "action.cannot"},
                ActionStatus.DONE: set(), ActionStatus.CANNOT_COMPLETE: set()}[status]
    assert verbs - {None} == expected


def _actions(node: object) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute":
            found.append(node)
        for value in node.values():
            found += _actions(value)
    elif isinstance(node, list):
        for value in node:
            found += _actions(value)
    return found


def test_the_dissemination_view_shows_states_and_time_left():
    agencies = (AgencyState("Police", "core agency", "delivered",
                            delivered_at=NOW - timedelta(hours=2)),
                AgencyState("IDVA Service", "core agency", "pending", "No Teams id yet."),
                AgencyState("Probation", "given an action", "withheld", "no agreement"))
    state = CaseState("RIV-2026-001", "Amy", False, NOW - timedelta(hours=3),
                      NOW + timedelta(hours=38), agencies)
    closed = CaseState("RIV-2026-012", "Zara", True, NOW, None, agencies[:1])
    card = dissemination_card([state, closed], NOW)
    assert_valid_for_teams(card)
    text = card.to_json()
    assert "1 sent · 1 pending · 0 failed · 1 withheld · 38 h 00 min left of 48" in text
    assert "Zara" not in text  # a closed panel's case is shown by number only
    assert "clock starts when the meeting ends" not in text  # delivered: shows when instead
    assert_valid_for_teams(dissemination_card([], NOW))
    assert "RIV-2026-001: not yet with IDVA Service (pending)" in alert_notice([state], False,
                                                                                NOW)


def test_the_word_document_carries_the_plan_and_its_marking():
    data = render_docx(seen(plan(actions=4)))
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert document.sections[0].header.paragraphs[0].text == MARKING
    assert document.sections[0].footer.paragraphs[0].text == MARKING
    assert "MARAC action plan RIV-2026-001 · Amy" in text
    assert "Threats to kill" in text and "RIV-2025-014, version 2" in text
    assert "Serve the non-molestation order and check the address." in " ".join(cells)
    assert "cannot be completed: Moved away." in cells
    assert "2 of 2, 02 December 2026, 14:00" in cells
    assert file_name(seen(plan())) == "MARAC-plan-RIV-2026-001-v2.docx"
