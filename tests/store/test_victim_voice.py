"""The victim's voice and the equality profile (issue 16): the referral card asks, all
optionally, whether the victim knows of the referral, a safe way and time to contact them and
what to avoid, an interpreter and the language, the IDVA allocated and what the victim wants;
the answers are stored encrypted at rest, shown back to the referrer and on the full case view
with the equality fields, and never on the shared case card. A bad answer is refused in one
sentence and nothing is stored."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import func, select

from cards.meeting import case_card, case_details_card
from cards.referral import referral_form_card
from dialogs import case_work
from dialogs import meeting as run
from dialogs.case_work import SharedCase
from dialogs.demo import DEMO_PEOPLE
from dialogs.victim_voice import VOICE
from storage.models import Case, Marac, Meeting, Referral
from tests.store.referral_factory import accept, card_payload, is_one_sentence, seeded
from tests.store.test_identifying_at_rest import raw_dump
from tests.store.test_research import press

IMOGEN = DEMO_PEOPLE[4]
VOICE_ANSWERS = {
    "voice_aware": "Yes", "voice_contact_how": "Her work mobile, text first",
    "voice_contact_when": "Weekdays 12:00 to 13:00", "voice_contact_avoid": "Never the landline",
    "voice_interpreter": "Yes", "voice_language": "Tigrinya", "voice_idva": "Imogen Reid",
    "voice_wants": "To stay in her home with the locks changed",
}
EQUALITY_ANSWERS = {"victim_gender": "Female", "victim_ethnicity": "Black or Black British",
                    "victim_disability": "Yes", "victim_age_band": "16-17"}


async def submitted(store, clock, **answers: str) -> dict[str, Any]:
    return await press(store, clock, IMOGEN, "referral.submit",
                       **card_payload(yes=15, **answers))


async def referrals(store) -> list[Referral]:
    async with store.unit_of_work() as session:
        return list((await session.scalars(select(Referral))).all())


def test_the_referral_card_asks_for_the_victims_voice_all_optional():
    card = referral_form_card(["Police"], date(2026, 11, 24)).to_dict()
    shown = json.dumps(card)
    assert "The victim's voice (optional)" in shown
    inputs = {i["id"]: i for i in _inputs(card)}
    for field in VOICE:
        assert field.key in inputs, field.key
        assert not inputs[field.key].get("isRequired"), field.key
    for key in ("victim_gender", "victim_ethnicity", "victim_disability",
                "victim_sexual_orientation", "victim_age_band"):
        assert key in inputs  # the equality profile (age band 16-17 included)


def _inputs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if str(node.get("type", "")).startswith("Input.") else []
        return found + [i for v in node.values() for i in _inputs(v)]
    if isinstance(node, list):
        return [i for v in node for i in _inputs(v)]
    return []


async def test_the_victims_voice_is_stored_encrypted_and_shown_to_the_referrer(store, clock):
    await seeded(store, clock)
    summary = json.dumps(await submitted(store, clock, **VOICE_ANSWERS, **EQUALITY_ANSWERS))
    assert "The victim's voice" in summary
    assert '"title": "Safe time to contact the victim", "value": "Weekdays 12:00 to 13:00"' in (
        summary)
    [referral] = await referrals(store)
    assert referral.victim_voice == VOICE_ANSWERS
    dump = await raw_dump(store)
    for answer in VOICE_ANSWERS.values():
        if answer not in ("Yes",):
            assert answer not in dump, answer  # encrypted at rest


async def test_a_referral_without_the_victims_voice_is_taken(store, clock):
    await seeded(store, clock)
    summary = json.dumps(await submitted(store, clock))
    assert "Received: it meets the criteria" in summary
    assert "The victim's voice" not in summary
    [referral] = await referrals(store)
    assert referral.victim_voice is None


async def test_a_bad_answer_is_refused_in_one_sentence_and_nothing_stored(store, clock):
    await seeded(store, clock)
    for answers, refusal in (
            ({"voice_aware": "Maybe"}, "Choose victim aware of the referral from the list."),
            ({"voice_language": "x" * 61}, "Language is longer than 60 characters.")):
        answer = json.dumps(await submitted(store, clock, **answers))
        assert refusal in answer, answer
        assert is_one_sentence(refusal)
    async with store.unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0


async def test_the_full_case_view_shows_the_voice_and_equality_and_the_shared_card_does_not(
        store, clock):
    marac_id = await seeded(store, clock)
    await submitted(store, clock, **VOICE_ANSWERS, **EQUALITY_ANSWERS)
    [referral] = await referrals(store)
    await accept(store, clock, marac_id, referral.id)
    async with store.unit_of_work() as session:
        case = await session.scalar(select(Case).where(Case.referral_id == referral.id))
        marac = await session.get_one(Marac, marac_id)
        meeting = await session.get_one(Meeting, case.meeting_id)
        slot = run.slot_of(marac, meeting, case, clock.now())
        full = json.dumps(case_details_card(await case_work.view(session, case, marac_id),
                                            slot).to_dict())
        shared = json.dumps(case_card(SharedCase.of(case), slot, (0, 0), ()).to_dict())
    assert "The victim's voice" in full and "To stay in her home with the locks changed" in full
    assert '"title": "Age", "value": "16-17"' in full
    assert '"title": "Ethnicity", "value": "Black or Black British"' in full
    for private in ("Tigrinya", "Never the landline", "16-17", "Black or Black British"):
        assert private not in shared, private
