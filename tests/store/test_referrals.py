"""Referral intake: each refusal is one plain sentence that stores nothing, and a referral is
scored against the criteria the referrer then sees, on SQLite and on PostgreSQL."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dialogs.dash import QUESTIONS, Answer
from dialogs.referrals import ReferralError, read_form, submit
from dialogs.scheduling import local_today
from storage.models import Marac, Referral, ReferralStatus
from tests.store.referral_factory import (
    OMIT,
    accept,
    at,
    card_payload,
    count,
    dash_answers,
    london_day,
    police_row,
    refer,
    seeded,
)

TODAY = date(2026, 11, 24)
AGE_BANDS = "16-17, 18-24, 25-34, 35-44, 45-54, 55-64, 65+"


# read_form: what the referrer is told when the card cannot be taken

@pytest.mark.parametrize(("overrides", "sentence"), [
    pytest.param({"victim_first_name": OMIT}, "Please give the victim's first name.",
                 id="no-first-name"),
    pytest.param({"victim_reference": "  "}, "Please give the victim's reference.",
                 id="blank-reference"),
    pytest.param({"referring_agency": OMIT}, "Please give the referring agency.",
                 id="no-agency"),
    pytest.param({"area": ""}, "Please give the area.", id="no-area"),
    pytest.param({"incident_date": "24/11/2026"},
                 "The incident date must be a date like 2026-11-24, not '24/11/2026'.",
                 id="date-not-iso"),
    pytest.param({"received_on": "2026-11-25"}, "The date received cannot be in the future.",
                 id="received-in-future"),
    pytest.param({"incident_date": "2026-12-01"}, "The incident date cannot be in the future.",
                 id="incident-in-future"),
    pytest.param({"incident_date": "2026-11-24", "received_on": "2026-11-23"},
                 "The incident date cannot be after the date the referral was received.",
                 id="incident-after-received"),
    pytest.param({"victim_age_band": "30"},
                 f"The victim's age band must be one of {AGE_BANDS}.", id="unknown-age-band"),
    pytest.param({"victim_reference": "RIV-JESS-0001"},
                 "The victim's reference must not contain their name.",
                 id="reference-has-first-name"),
    pytest.param({"victim_reference": "riv-jess-0001"},
                 "The victim's reference must not contain their name.",
                 id="reference-has-first-name-any-case"),
    pytest.param({"q05_depressed_or_suicidal": OMIT},
                 "Question 5 is not answered: choose yes, no or don't know.",
                 id="dash-answer-missing"),
    pytest.param({"q07_child_contact": ""},
                 "Question 7 is not answered: choose yes, no or don't know.",
                 id="dash-answer-untouched"),
    pytest.param({"q01_injury": "maybe"},
                 "Question 1 has an answer the checklist does not accept: choose yes, no or "
                 "don't know.", id="dash-answer-invalid"),
    pytest.param({"q25_extra": "yes"}, "The DASH checklist has no question 'q25_extra'.",
                 id="dash-unknown-question"),
    pytest.param({"escalation": "perhaps"}, "Answer yes or no for escalation.",
                 id="escalation-not-yes-or-no"),
    pytest.param({"children_in_household": "two"},
                 "The number of children in the household must be a whole number from 0 to 20.",
                 id="children-not-a-number"),
    pytest.param({"perpetrator_first_name": "Mark Anthony Smith"},
                 "Give the perpetrator's first name only, as one word (a first name, no "
                 "surname or initials).", id="perpetrator-full-name"),
    # Issue 13, finding 4: two words reached the shared channel as "RIV-2026-006 · Amy Smith".
    pytest.param({"victim_first_name": "Amy Smith"},
                 "Give the victim's first name only, as one word (a first name, no surname "
                 "or initials).", id="victim-two-words"),
    pytest.param({"perpetrator_first_name": "Mark Smith"},
                 "Give the perpetrator's first name only, as one word (a first name, no "
                 "surname or initials).", id="perpetrator-two-words"),
    pytest.param({"victim_first_name": "Amy S."},
                 "Give the victim's first name only, as one word (a first name, no surname "
                 "or initials).", id="victim-initial"),
])
def test_a_card_that_cannot_be_taken_is_refused_in_one_sentence(overrides, sentence):
    with pytest.raises(ReferralError) as refused:
        read_form(card_payload(**overrides), TODAY)
    assert str(refused.value) == sentence
    assert "\n" not in sentence and sentence.endswith(".")


@pytest.mark.parametrize("name", ["Amy", "Mary-Jane", "D'Arcy", "Zoë", "Siân"])
def test_a_one_word_first_name_is_taken(name):
    assert read_form(card_payload(victim_first_name=name), TODAY).victim_first_name == name


def test_a_police_row_with_an_impossible_yes_count_is_refused():
    with pytest.raises(ReferralError, match=r"^The DASH yes-count must be a whole number "
                                            r"from 0 to 24\.$"):
        read_form(police_row(dash_yes_count="25"), TODAY)


def test_a_card_with_all_24_answers_is_read_and_scored():
    form = read_form(card_payload(yes=14, children_in_household="2"), TODAY)
    assert form.dash_yes_count == 14
    assert list(form.dash_answers) == [q.key for q in QUESTIONS]
    assert set(form.dash_answers.values()) == {Answer.YES, Answer.NO}
    assert (form.victim_first_name, form.victim_reference) == ("Jess", "RIV-V-0001")
    assert form.children_in_household == 2
    assert (form.incident_date, form.received_on) == (date(2026, 11, 20), TODAY)
    assert not form.honour_based_violence and not form.escalation
    assert form.police_incident_ref is None


def test_dont_know_answers_do_not_count_as_yes():
    payload = card_payload(**dash_answers(13, otherwise="dont_know"))
    assert read_form(payload, TODAY).dash_yes_count == 13


def test_a_police_row_is_read_with_its_yes_count_and_incident():
    form = read_form(police_row(), TODAY)
    assert form.dash_yes_count == 15
    assert form.dash_answers == {}
    assert form.police_incident_ref == "INC-1001"
    assert form.referring_agency == "Police" and form.children_in_household == 1


def test_a_card_with_no_dash_answers_at_all_is_refused():
    payload = card_payload(**{q.key: OMIT for q in QUESTIONS})
    with pytest.raises(ReferralError) as refused:
        read_form(payload, TODAY)
    assert str(refused.value) == "Please give the DASH yes-count: answer the DASH checklist."


# submit: the decision the referrer sees, stored

async def test_fourteen_yes_answers_are_heard_as_visible_high_risk(store, clock):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id, card_payload(yes=14))
    assert referral.status is ReferralStatus.PENDING
    assert referral.qualifying_reasons == ["visible_high_risk"]
    assert referral.risk_level == "high"
    assert referral.decision_explanation == "Heard: 14 of 24 answers were yes (14 needed)."


async def test_thirteen_yes_answers_alone_are_declined_as_medium_risk(store, clock):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id, card_payload(yes=13))
    assert referral.status is ReferralStatus.DECLINED
    assert referral.risk_level == "medium"
    assert referral.qualifying_reasons == []
    assert referral.decision_explanation == (
        "Declined: 13 of 24 answers were yes (14 needed), with no escalation, repeat or "
        "professional judgement recorded.")


async def test_nine_yes_answers_are_declined_as_standard_risk(store, clock):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id, card_payload(yes=9))
    assert referral.status is ReferralStatus.DECLINED
    assert referral.risk_level == "standard"


async def test_escalation_with_detail_is_heard_below_the_threshold(store, clock):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id, card_payload(
        yes=6, escalation="true", escalation_detail="Three call-outs this month, up from one."))
    assert referral.status is ReferralStatus.PENDING
    assert referral.qualifying_reasons == ["escalation"]
    assert referral.decision_explanation == "Heard: escalation is recorded."


async def test_professional_judgement_with_rationale_is_heard(store, clock):
    marac_id = await seeded(store, clock)
    referral = await refer(store, clock, marac_id, card_payload(
        yes=8, professional_judgement="true", rationale="Recent release from prison."))
    assert referral.status is ReferralStatus.PENDING
    assert referral.qualifying_reasons == ["professional_judgement"]
    assert referral.rationale == "Recent release from prison."


@pytest.mark.parametrize(("overrides", "sentence"), [
    pytest.param({"professional_judgement": "true", "rationale": ""},
                 "Professional judgement needs a written rationale.", id="judgement"),
    pytest.param({"escalation": "true", "escalation_detail": ""},
                 "Escalation needs a description of how the abuse is getting worse or more "
                 "frequent.", id="escalation"),
    pytest.param({"referring_agency": "Fire Service"},
                 "'Fire Service' is not one of this MARAC's agencies.", id="unknown-agency"),
])
async def test_a_refused_submit_leaves_no_referral_behind(store, clock, overrides, sentence):
    marac_id = await seeded(store, clock)
    with pytest.raises(ReferralError) as refused:
        async with store.unit_of_work() as session:
            marac = await session.get_one(Marac, marac_id)
            today = local_today(marac, clock.now())
            good = read_form(card_payload(victim_reference="RIV-V-0002"), today)
            await submit(session, marac, good, None, clock.now())
            bad = read_form(card_payload(yes=5, **overrides), today)
            await submit(session, marac, bad, None, clock.now())
    assert str(refused.value) == sentence
    assert await count(store, Referral) == 0


# repeats: a new incident within 12 months of the victim's last hearing

@pytest.mark.parametrize(("days_after_hearing", "is_repeat"), [(364, True), (365, True),
                                                               (366, False)])
async def test_a_new_incident_within_twelve_months_of_the_hearing_is_a_repeat(
        store, clock, days_after_hearing, is_repeat):
    marac_id = await seeded(store, clock)
    first = await refer(store, clock, marac_id, card_payload(yes=15))
    placement = (await accept(store, clock, marac_id, first.id)).placement
    assert placement is not None
    heard = london_day(placement.meeting.starts_at)
    assert heard == date(2026, 12, 9)
    incident = heard + timedelta(days=days_after_hearing)  # 2027 is not a leap year
    clock.set(at(incident))
    again = await refer(store, clock, marac_id, card_payload(
        yes=5, incident_date=incident.isoformat(), received_on=incident.isoformat()))
    if is_repeat:
        assert again.status is ReferralStatus.PENDING
        assert again.qualifying_reasons == ["repeat"]
        assert again.repeat_of_id == first.id
        assert again.decision_explanation == (
            "Heard: the incident is within 12 months of the last hearing on 9 December 2026.")
    else:
        assert again.status is ReferralStatus.DECLINED
        assert again.repeat_of_id is None


async def test_an_incident_before_the_hearing_is_not_a_repeat(store, clock):
    marac_id = await seeded(store, clock)
    first = await refer(store, clock, marac_id, card_payload(yes=15))
    await accept(store, clock, marac_id, first.id)
    clock.set(at(date(2027, 1, 20)))
    again = await refer(store, clock, marac_id, card_payload(
        yes=5, incident_date="2026-12-08", received_on="2027-01-20"))
    assert again.status is ReferralStatus.DECLINED and again.repeat_of_id is None


# possible duplicates: the same victim again within one scheduling window

async def test_the_same_victim_within_the_window_is_held_as_a_possible_duplicate(store, clock):
    marac_id = await seeded(store, clock)
    first = await refer(store, clock, marac_id, card_payload(received_on="2026-11-10",
                                                             incident_date="2026-11-09"))
    second = await refer(store, clock, marac_id, card_payload(yes=16, referring_agency="Police"))
    assert second.status is ReferralStatus.POSSIBLE_DUPLICATE
    assert second.duplicate_of_id == first.id
    assert second.qualifying_reasons == ["visible_high_risk"]


async def test_the_same_victim_after_the_window_is_a_new_referral(store, clock):
    marac_id = await seeded(store, clock)
    # 2026-11-02 to 2026-11-24 is 16 working days: beyond the 14-day window.
    await refer(store, clock, marac_id, card_payload(received_on="2026-11-02",
                                                     incident_date="2026-11-01"))
    second = await refer(store, clock, marac_id, card_payload())
    assert second.status is ReferralStatus.PENDING and second.duplicate_of_id is None


async def test_another_victim_in_the_same_window_is_not_a_duplicate(store, clock):
    marac_id = await seeded(store, clock)
    await refer(store, clock, marac_id, card_payload())
    other = await refer(store, clock, marac_id, card_payload(victim_first_name="Lena",
                                                             victim_reference="RIV-V-0099"))
    assert other.status is ReferralStatus.PENDING
    async with store.unit_of_work() as session:
        statuses = (await session.scalars(select(Referral.status))).all()
    assert sorted(statuses) == [ReferralStatus.PENDING, ReferralStatus.PENDING]


async def test_a_new_incident_just_after_the_hearing_is_a_repeat_not_a_duplicate(store, clock):
    marac_id = await seeded(store, clock)
    first = await refer(store, clock, marac_id, card_payload(yes=15))  # received 24 Nov
    await accept(store, clock, marac_id, first.id)  # heard Wednesday 9 December
    clock.set(at(date(2026, 12, 11)))  # 13 working days after the first was received
    again = await refer(store, clock, marac_id, card_payload(
        yes=5, incident_date="2026-12-10", received_on="2026-12-11"))
    assert again.status is ReferralStatus.PENDING and again.duplicate_of_id is None
    assert again.qualifying_reasons == ["repeat"] and again.repeat_of_id == first.id
