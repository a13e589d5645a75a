"""The referrer is told what became of their referral (issue 16), in their personal chat
through the outbox: accepted with the meeting's date and slot, declined with the reason, or
asked for more information on a card whose answer puts the referral back in triage. Each
decision tells them once; a refusal is one sentence and changes nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from dialogs.demo import DEMO_PEOPLE
from dialogs.referrals import read_form, submit
from dialogs.scheduling import local_today
from storage.models import Marac, OutboxMessage, Person, Referral, ReferralStatus
from tests.store.referral_factory import card_payload, refer, reload, seeded
from tests.store.test_marac_scope import personal
from tests.turns import handle_card_action

CARA, PRIYA, IMOGEN = DEMO_PEOPLE[0], DEMO_PEOPLE[3], DEMO_PEOPLE[4]


async def person_id(store, demo_person) -> int:
    async with store.unit_of_work() as session:
        found = await session.scalar(select(Person.id).where(
            Person.aad_object_id == demo_person.aad_object_id))
    assert found is not None
    return found


async def referred_by_imogen(store, clock) -> tuple[int, Referral]:
    marac_id = await seeded(store, clock)
    imogen = await person_id(store, IMOGEN)
    async with store.unit_of_work() as session:
        marac = await session.get_one(Marac, marac_id)
        form = read_form(card_payload(), local_today(marac, clock.now()))
        referral = (await submit(session, marac, form, imogen, clock.now())).referral
    return imogen, referral


async def press(store, clock, who, verb: str, **data: Any) -> dict[str, Any]:
    action = {"type": "Action.Execute", "verb": verb, "data": {"verb": verb, **data}}
    answer, _, _ = await handle_card_action(personal(who.aad_object_id, invoke=action), action,
                                            store, clock)
    return answer


async def told(store, person: int) -> list[str]:
    """What the outbox holds for `person`, each message as its JSON text."""
    async with store.unit_of_work() as session:
        return [json.dumps(m.activity) for m in (await session.scalars(
            select(OutboxMessage).where(OutboxMessage.person_id == person)
            .order_by(OutboxMessage.id))).all()]


async def test_an_accepted_referral_tells_the_referrer_the_date_and_slot_once(store, clock):
    imogen, referral = await referred_by_imogen(store, clock)
    answer = await press(store, clock, CARA, "triage.accept", referral_id=referral.id)
    assert "Accepted" in json.dumps(answer)
    messages = await told(store, imogen)
    assert len(messages) == 1
    assert "Referral accepted" in messages[0] and "RIV-V-0001" in messages[0]
    assert "Expected slot: " in messages[0]
    assert "The perpetrator must not be told" in messages[0]
    await press(store, clock, CARA, "triage.accept", referral_id=referral.id)
    assert len(await told(store, imogen)) == 1  # pressed twice, told once


async def test_a_declined_referral_tells_the_referrer_the_reason(store, clock):
    imogen, referral = await referred_by_imogen(store, clock)
    await press(store, clock, CARA, "triage.decline", referral_id=referral.id,
                **{f"note_{referral.id}": "Standard risk: refer to the IDVA service."})
    messages = await told(store, imogen)
    assert len(messages) == 1
    assert "Referral declined" in messages[0]
    assert "Standard risk: refer to the IDVA service." in messages[0]


async def test_a_referral_from_the_police_feed_tells_no_one(store, clock):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id)  # no referrer the bot can reach
    await press(store, clock, CARA, "triage.accept", referral_id=referral.id)
    async with store.unit_of_work() as session:
        purposes = (await session.scalars(select(OutboxMessage.purpose))).all()
    assert "referral decision" not in purposes


async def asked(store, clock) -> tuple[int, Referral]:
    imogen, referral = await referred_by_imogen(store, clock)
    await press(store, clock, CARA, "triage.more", referral_id=referral.id,
                **{f"note_{referral.id}": "Has the victim moved since the incident?"})
    return imogen, referral


async def test_needs_more_information_sends_the_question_on_a_card_to_answer(store, clock):
    imogen, referral = await asked(store, clock)
    messages = await told(store, imogen)
    assert len(messages) == 1
    assert "Has the victim moved since the incident?" in messages[0]
    assert '"verb": "triage.answer"' in messages[0]


async def test_the_answer_puts_the_referral_back_in_triage_with_the_answer(store, clock):
    _, referral = await asked(store, clock)
    answer = await press(store, clock, IMOGEN, "triage.answer", referral_id=referral.id,
                         answer="Yes: she is staying with her sister in Hillside.")
    assert "back with triage" in json.dumps(answer)
    stored = await reload(store, Referral, referral.id)
    assert stored.status is ReferralStatus.PENDING
    assert stored.information_answer == "Yes: she is staying with her sister in Hillside."
    card = json.dumps(await press(store, clock, CARA, "triage.decline",
                                  referral_id=referral.id))  # refused: no reason given
    assert "Referrer's answer" in card and "staying with her sister" in card
    again = await press(store, clock, IMOGEN, "triage.answer", referral_id=referral.id,
                        answer="Something else.")
    assert "back with triage" in json.dumps(again)
    assert (await reload(store, Referral, referral.id)).information_answer.startswith("Yes")


async def test_only_the_referrer_answers_and_a_blank_answer_changes_nothing(store, clock):
    _, referral = await asked(store, clock)
    answer = await press(store, clock, PRIYA, "triage.answer", referral_id=referral.id,
                         answer="I know this one.")
    assert answer["value"] == "Only the person who made this referral can answer for it."
    answer = await press(store, clock, IMOGEN, "triage.answer", referral_id=referral.id,
                         answer="   ")
    assert "Write your answer to the question before sending it." in json.dumps(answer)
    assert '"verb": "triage.answer"' in json.dumps(answer)  # the question card again
    stored = await reload(store, Referral, referral.id)
    assert stored.status is ReferralStatus.NEEDS_INFORMATION
    assert stored.information_answer is None
