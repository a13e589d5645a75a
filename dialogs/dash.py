"""The DASH risk checklist (SafeLives, 2009): 24 questions, each answered yes, no or don't know.

The questions follow the published topics and their order, in the project's own words; a
practitioner who knows the published form finds each question under its usual number. Only
"yes" counts towards the score (MARAC.md, "Who is heard").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    DONT_KNOW = "dont_know"


class ChecklistError(ValueError):
    """A checklist that cannot be scored; its message is one plain sentence."""


@dataclass(frozen=True)
class Question:
    number: int
    key: str
    text: str


def _questions(*items: tuple[str, str]) -> tuple[Question, ...]:
    return tuple(
        Question(number, f"q{number:02d}_{topic}", text)
        for number, (topic, text) in enumerate(items, start=1)
    )


QUESTIONS: tuple[Question, ...] = _questions(
    ("injury", "Was the victim injured in the current incident?"),
    ("very_frightened", "Does the victim say they are very frightened?"),
    ("what_afraid_of", "Is the victim afraid of what may happen next, such as more violence?"),
    ("isolated", "Is the victim cut off from family or friends?"),
    ("depressed_or_suicidal", "Is the victim feeling depressed or thinking of suicide?"),
    ("separation", "Has the victim left, or tried to leave, the perpetrator in the last year?"),
    ("child_contact", "Is there a dispute over contact with the children?"),
    ("stalking", "Does the perpetrator keep messaging, following or harassing the victim?"),
    ("pregnancy", "Is the victim pregnant, or has the victim had a baby in the last 18 "
                  "months?"),
    ("more_often", "Has the abuse become more frequent?"),
    ("getting_worse", "Is the abuse becoming more serious?"),
    ("controlling", "Is the perpetrator controlling or extremely jealous?"),
    ("weapons", "Has the perpetrator ever hurt the victim with a weapon or an object?"),
    ("threats_to_kill", "Has the perpetrator threatened to kill the victim or "
                        "someone else, and did the victim believe it?"),
    ("strangulation", "Has the perpetrator ever choked, strangled, smothered or drowned the "
                      "victim, or tried to?"),
    ("sexual_abuse", "Has the perpetrator done or said sexual things that hurt or degraded "
                     "the victim or someone else?"),
    ("other_person_threat", "Does anyone else threaten the victim, or frighten them?"),
    ("hurt_others", "Is the perpetrator known to have hurt anyone else, such as children "
                    "or relatives?"),
    ("animal_cruelty", "Has the perpetrator ever been cruel to an animal or a pet?"),
    ("financial", "Are there money problems, such as the victim depending on the "
                  "perpetrator for money?"),
    ("perpetrator_problems", "Has the perpetrator struggled in the last year with drugs, "
                             "alcohol or mental health?"),
    ("perpetrator_suicide", "Has the perpetrator ever threatened to take their own life, "
                            "or tried to?"),
    ("breached_orders", "Has the perpetrator ever broken bail, an injunction or a formal "
                        "agreement?"),
    ("criminal_history", "Does the perpetrator have a criminal record or past trouble with "
                         "the police?"),
)
QUESTION_COUNT = len(QUESTIONS)
BY_KEY: Mapping[str, Question] = {question.key: question for question in QUESTIONS}

_UNANSWERED: tuple[object, ...] = (None, "")
_VALUES = frozenset(answer.value for answer in Answer)


def yes_count(answers: Mapping[str, Answer]) -> int:
    """The score: how many of the 24 questions were answered yes ("don't know" is not yes)."""
    return sum(1 for key, answer in answers.items() if key in BY_KEY and answer == Answer.YES)


def check_answers(answers: Mapping[str, object]) -> dict[str, Answer]:
    """A raw mapping (a card's payload) as answers in question order, or a ChecklistError.

    Every question must be answered: a missing key, None or "" (an untouched choice set) is
    refused, naming the first unanswered question. Keys outside the 24 are refused too, so
    the caller passes only the checklist's own fields.
    """
    unknown = sorted(str(key) for key in answers if key not in BY_KEY)
    if unknown:
        raise ChecklistError(f"The DASH checklist has no question '{unknown[0]}'.")
    checked: dict[str, Answer] = {}
    for question in QUESTIONS:
        checked[question.key] = _answer(question, answers.get(question.key))
    return checked


def _answer(question: Question, raw: object) -> Answer:
    if raw in _UNANSWERED:
        raise ChecklistError(
            f"Question {question.number} is not answered: choose yes, no or don't know."
        )
    if isinstance(raw, str) and raw in _VALUES:
        return Answer(raw)
    raise ChecklistError(
        f"Question {question.number} has an answer the checklist does not accept: "
        "choose yes, no or don't know."
    )
