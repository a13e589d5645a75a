"""Who is heard: the DASH score, escalation, repeats and professional judgement."""

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest

from dialogs.criteria import (
    Assessment,
    CriteriaError,
    Reason,
    RiskLevel,
    add_months,
    assess,
    is_repeat,
)
from dialogs.dash import (
    BY_KEY,
    QUESTIONS,
    Answer,
    ChecklistError,
    check_answers,
    yes_count,
)

INCIDENT = date(2026, 3, 2)
PLAIN = Assessment(yes_count=9, incident_date=INCIDENT)


def _answers(yes: int, dont_know: int = 0) -> dict[str, Answer]:
    values = [Answer.YES] * yes + [Answer.DONT_KNOW] * dont_know
    values += [Answer.NO] * (len(QUESTIONS) - len(values))
    return {question.key: value for question, value in zip(QUESTIONS, values, strict=True)}


def _one_sentence(text: str) -> bool:
    return text[:1].isupper() and text.endswith(".") and ". " not in text


# The checklist


def test_the_checklist_has_24_numbered_questions_with_stable_keys():
    assert [q.number for q in QUESTIONS] == list(range(1, 25))
    assert len(BY_KEY) == 24
    for question in QUESTIONS:
        assert re.fullmatch(rf"q{question.number:02d}_[a-z]+(_[a-z]+)*", question.key)
        assert question.text.endswith("?") and len(question.text) <= 100
    assert QUESTIONS[0].key == "q01_injury"
    assert QUESTIONS[14].key == "q15_strangulation"


def test_only_yes_counts_and_dont_know_does_not():
    assert yes_count(_answers(13, dont_know=11)) == 13
    assert yes_count(_answers(0, dont_know=24)) == 0
    assert yes_count(_answers(24)) == 24


def test_check_answers_accepts_a_complete_payload_in_question_order():
    raw = {question.key: "dont_know" for question in reversed(QUESTIONS)}
    raw["q01_injury"] = "yes"
    checked = check_answers(raw)
    assert list(checked) == [question.key for question in QUESTIONS]
    assert checked["q01_injury"] is Answer.YES
    assert all(isinstance(answer, Answer) for answer in checked.values())
    assert yes_count(checked) == 1
    assert check_answers(_answers(5)) == _answers(5)


def test_check_answers_names_the_first_unanswered_question():
    raw: dict[str, object] = dict(_answers(3))
    del raw["q07_child_contact"]
    raw["q12_controlling"] = ""
    raw["q20_financial"] = None
    with pytest.raises(ChecklistError) as error:
        check_answers(raw)
    assert str(error.value) == "Question 7 is not answered: choose yes, no or don't know."
    with pytest.raises(ChecklistError, match="Question 1 is not answered"):
        check_answers({})


def test_check_answers_refuses_unknown_questions_and_answers():
    raw: dict[str, object] = dict(_answers(3))
    with pytest.raises(ChecklistError, match="has no question 'q25_extra'"):
        check_answers({**raw, "q25_extra": "yes"})
    for bad in ("maybe", "YES", 1, True):
        with pytest.raises(ChecklistError, match="Question 4 has an answer"):
            check_answers({**raw, "q04_isolated": bad})
    with pytest.raises(ValueError):  # ChecklistError is a ValueError for the edge
        check_answers({**raw, "q04_isolated": "maybe"})


def test_checklist_errors_are_one_sentence():
    for raw in ({}, {"nope": "yes"}, {**_answers(1), "q02_very_frightened": "maybe"}):
        with pytest.raises(ChecklistError) as error:
            check_answers(raw)
        assert _one_sentence(str(error.value)), str(error.value)


# The criteria


def test_13_yes_answers_are_declined_as_medium_and_14_are_heard_as_high():
    declined = assess(replace(PLAIN, yes_count=13))
    assert (declined.heard, declined.reasons, declined.risk_level) == (
        False, (), RiskLevel.MEDIUM)
    heard = assess(replace(PLAIN, yes_count=14))
    assert (heard.heard, heard.reasons, heard.risk_level) == (
        True, (Reason.VISIBLE_HIGH_RISK,), RiskLevel.HIGH)
    assert heard.explanation == "Heard: 14 of 24 answers were yes (14 needed)."


def test_dont_know_answers_do_not_reach_the_threshold():
    decision = assess(replace(PLAIN, yes_count=yes_count(_answers(13, dont_know=11))))
    assert not decision.heard


def test_declined_explanation_and_risk_bands():
    decision = assess(PLAIN)
    assert decision.explanation == ("Declined: 9 of 24 answers were yes (14 needed), with no "
                                    "escalation, repeat or professional judgement recorded.")
    assert decision.risk_level is RiskLevel.STANDARD
    assert assess(replace(PLAIN, yes_count=10)).risk_level is RiskLevel.MEDIUM
    assert "1 of 24 answers was yes" in assess(replace(PLAIN, yes_count=1)).explanation


def test_the_threshold_and_medium_band_are_configurable():
    assert assess(replace(PLAIN, yes_count=12), threshold=12).heard
    assert not assess(replace(PLAIN, yes_count=14), threshold=15).heard
    assert assess(PLAIN, medium_from=8).risk_level is RiskLevel.MEDIUM


def test_escalation_is_heard_but_needs_a_description():
    decision = assess(replace(PLAIN, escalation=True, escalation_detail="Weekly, was monthly."))
    assert (decision.heard, decision.reasons) == (True, (Reason.ESCALATION,))
    assert "Weekly" not in decision.explanation  # details stay off shared cards
    for detail in ("", "   "):
        with pytest.raises(CriteriaError) as error:
            assess(replace(PLAIN, escalation=True, escalation_detail=detail))
        assert _one_sentence(str(error.value))


def test_repeat_at_364_days_is_heard_and_at_366_days_is_not():
    hearing = date(2025, 3, 2)
    assert assess(replace(PLAIN, incident_date=hearing + timedelta(days=364),
                          last_hearing=hearing)).reasons == (Reason.REPEAT,)
    assert assess(replace(PLAIN, incident_date=hearing + timedelta(days=365),
                          last_hearing=hearing)).heard  # the anniversary itself counts
    late = assess(replace(PLAIN, incident_date=hearing + timedelta(days=366),
                          last_hearing=hearing))
    assert (late.heard, late.reasons) == (False, ())


def test_repeat_uses_calendar_months():
    assert is_repeat(date(2025, 2, 28), date(2024, 2, 29))  # 29 Feb clamps to 28 Feb
    assert not is_repeat(date(2025, 3, 1), date(2024, 2, 29))
    assert is_repeat(date(2028, 3, 10), date(2027, 3, 10))  # 366 days over 29 Feb 2028
    assert not is_repeat(date(2026, 3, 1), date(2026, 3, 2))  # before the hearing
    assert is_repeat(date(2026, 3, 2), date(2026, 3, 2))  # the day of the hearing
    assert not is_repeat(INCIDENT, None)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 15), 12) == date(2026, 12, 15)


def test_professional_judgement_needs_a_written_rationale():
    decision = assess(replace(PLAIN, professional_judgement=True,
                              rationale="Non-fatal strangulation last week."))
    assert decision.reasons == (Reason.PROFESSIONAL_JUDGEMENT,)
    assert decision.risk_level is RiskLevel.HIGH
    for rationale in ("", " \n\t "):
        with pytest.raises(CriteriaError) as error:
            assess(replace(PLAIN, professional_judgement=True, rationale=rationale))
        assert str(error.value) == "Professional judgement needs a written rationale."


def test_a_rationale_without_professional_judgement_is_not_a_reason():
    assert not assess(replace(PLAIN, rationale="Noted.")).heard


def test_every_reason_that_applies_is_recorded():
    decision = assess(Assessment(
        yes_count=16, incident_date=INCIDENT, escalation=True, escalation_detail="Worse.",
        professional_judgement=True, rationale="Threats to kill.",
        last_hearing=date(2025, 9, 3),
    ))
    assert decision.reasons == tuple(Reason)
    assert decision.explanation == (
        "Heard: 16 of 24 answers were yes (14 needed), escalation is recorded, the incident "
        "is within 12 months of the last hearing on 3 September 2025 and professional "
        "judgement is recorded with a rationale.")
    assert _one_sentence(decision.explanation)


def test_impossible_scores_are_refused():
    for count in (-1, 25):
        with pytest.raises(CriteriaError, match="between 0 and 24"):
            assess(replace(PLAIN, yes_count=count))
    with pytest.raises(CriteriaError):
        assess(PLAIN, threshold=0)
