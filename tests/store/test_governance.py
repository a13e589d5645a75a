"""Disputes, complaints and breaches on the record (issue 17; 002 §7–9): Priya (Police) opens
a dispute on Amy's case in her personal chat; only Olu, the operations manager, moves it
through the four steps (between partners, operations manager, agency managers, steering
group), each dated and attributed, and resolves it; a fifth step, someone else's move and a
dispute from a non-representative are refused with nothing changed; every command is audited
with its outcome."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dialogs.demo import DEMO_PEOPLE
from storage.models import GOVERNANCE_STEPS, AuditEvent, GovernanceRecord, GovernanceStep
from tests.store.plan_factory import heard
from tests.store.test_marac_scope import personal
from tests.store.test_transfers import heard_with_referral
from tests.turns import handle_card_action, handle_message

AAD = {p.full_name.split()[0]: p.aad_object_id for p in DEMO_PEOPLE}


async def said(store, clock, who: str, text: str) -> str:
    posts = await handle_message(personal(AAD[who], text), store, clock)
    return str(posts[0].message.serialize().get("text", ""))


async def test_a_dispute_moves_through_the_four_steps_by_the_managers_hand(store, clock):
    h = await heard(store, clock)
    opened = await said(store, clock, "Priya", f"dispute {h.number} The action given to "
                                               "Housing is not ours to do.")
    assert opened.startswith("Dispute 1 on") and "between partners" in opened
    assert "operations manager of this MARAC" in await said(store, clock, "Priya",
                                                       "escalate 1 why not")
    for step in (2, 3, 4):
        clock.set(clock.now() + timedelta(days=1))
        moved = await said(store, clock, "Olu", f"escalate 1 Not settled at step {step - 1}.")
        assert f"now with the {GOVERNANCE_STEPS[step - 1]} (step {step} of 4)" in moved
    assert "already with the steering group" in await said(store, clock, "Olu",
                                                           "escalate 1 again")
    assert "resolved" in await said(store, clock, "Olu", "resolve 1 Agreed at steering group.")
    assert "resolved already" in await said(store, clock, "Olu", "escalate 1 more")
    assert "agency representative" in await said(store, clock, "Cara",
                                                 f"dispute {h.number} something")
    async with store.unit_of_work() as session:
        record = await session.scalar(select(GovernanceRecord))
        assert record is not None and record.step == 4 and record.closed_at is not None
        steps = (await session.scalars(select(GovernanceStep).order_by(GovernanceStep.id))
                 ).all()
        audited = [(e.action, e.outcome) for e in (await session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(("dispute", "escalate",
                                                            "resolve")))
            .order_by(AuditEvent.id))).all()]
    assert [s.step for s in steps] == [1, 2, 3, 4, 4]
    assert [s.by_person_id for s in steps] == [h.demo.people["Priya"]] + [
        h.demo.people["Olu"]] * 4
    assert all(a.at < b.at for a, b in zip(steps[:3], steps[1:4], strict=True))
    assert audited == [("dispute", "done"), ("escalate", "refused"), ("escalate", "done"),
                       ("escalate", "done"), ("escalate", "done"), ("escalate", "refused"),
                       ("resolve", "done"), ("escalate", "refused"), ("dispute", "refused")]


async def test_complaints_and_breaches_are_recorded_the_same_way(store, clock):
    h = await heard(store, clock)
    assert (await said(store, clock, "Cara", f"breach {h.number} Plan sent late.")
            ).startswith("Breach 1")
    assert (await said(store, clock, "Olu", f"complaint {h.number} From the victim.")
            ).startswith("Complaint 2")
    assert "Say what the complaint is about" in await said(store, clock, "Olu",
                                                           f"complaint {h.number}")
    async with store.unit_of_work() as session:
        kinds = (await session.scalars(select(GovernanceRecord.kind)
                                       .order_by(GovernanceRecord.id))).all()
    assert kinds == ["breach", "complaint"]


def execute_of(card: dict, verb: str) -> dict:
    if isinstance(card, dict):
        if card.get("type") == "Action.Execute" and card.get("verb") == verb:
            return card
        for value in card.values():
            if (found := execute_of(value, verb)) is not None:
                return found
    elif isinstance(card, list):
        for item in card:
            if (found := execute_of(item, verb)) is not None:
                return found
    return None  # type: ignore[return-value]


async def test_a_disclosure_to_a_court_is_recorded_with_its_order_and_exported_redacted(
        store, clock):
    h, referral = await heard_with_referral(store, clock)
    refused = await said(store, clock, "Olu", f"disclose {h.number}")
    assert "only under a court order" in refused
    posts = await handle_message(personal(AAD["Olu"], f"disclose {h.number} CO-2026-118"),
                                 store, clock)
    told, review = (p.message.serialize() for p in posts)
    assert "recorded under order CO-2026-118" in told["text"]
    card = review["attachments"][0]["content"]
    button = execute_of(card, "sar.export")
    assert button is not None and button["data"]["reference"] == referral.victim_reference
    answer, _, _ = await handle_card_action(personal(AAD["Olu"], invoke=button), button, store,
                                            clock)
    assert "Accept the file card" in str(answer)
    async with store.unit_of_work() as session:
        record = await session.scalar(select(GovernanceRecord).where(
            GovernanceRecord.kind == "disclosure"))
        audited = [(e.action, e.outcome) for e in (await session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(("disclose", "sar.export")))
            .order_by(AuditEvent.id))).all()]
    assert record is not None and record.court_order_ref == "CO-2026-118"
    assert audited == [("disclose", "refused"), ("disclose", "done"), ("sar.export", "done")]
