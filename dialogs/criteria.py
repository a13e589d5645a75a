"""Who is heard: the referral criteria of MARAC.md, applied to one referral.

A referral is heard on any of four grounds, and every ground that applies is recorded:
visible high risk (14 or more DASH answers were yes), escalation, a repeat (a new incident
within 12 calendar months of the victim's last hearing), or professional judgement with a
written rationale. A heard case is high risk.

The project's assumption for a declined referral's risk level: below the threshold the
checklist alone cannot make a case high risk, so 10 to 13 yes answers is medium and fewer is
standard (the bands SafeLives guidance and several MARACs publish). Both numbers are
parameters of `assess`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dialogs.dash import QUESTION_COUNT

VISIBLE_HIGH_RISK = 14
MEDIUM_FROM = 10
REPEAT_MONTHS = 12
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


class Reason(StrEnum):
    VISIBLE_HIGH_RISK = "visible_high_risk"
    ESCALATION = "escalation"
    REPEAT = "repeat"
    PROFESSIONAL_JUDGEMENT = "professional_judgement"


class RiskLevel(StrEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"


class CriteriaError(ValueError):
    """A referral that cannot be assessed as given; its message is one plain sentence."""


@dataclass(frozen=True, kw_only=True)
class Assessment:
    yes_count: int
    incident_date: date
    escalation: bool = False
    escalation_detail: str = ""
    professional_judgement: bool = False
    rationale: str = ""
    last_hearing: date | None = None


@dataclass(frozen=True)
class Decision:
    heard: bool
    reasons: tuple[Reason, ...]
    risk_level: RiskLevel
    explanation: str


def assess(
    a: Assessment,
    threshold: int = VISIBLE_HIGH_RISK,
    medium_from: int = MEDIUM_FROM,
    repeat_months: int = REPEAT_MONTHS,
) -> Decision:
    _check(a, threshold, medium_from)
    reasons = _reasons(a, threshold, repeat_months)
    if reasons:
        explanation = f"Heard: {_and([_phrase(r, a, threshold, repeat_months) for r in reasons])}."
        return Decision(True, reasons, RiskLevel.HIGH, explanation)
    level = RiskLevel.MEDIUM if a.yes_count >= medium_from else RiskLevel.STANDARD
    explanation = (f"Declined: {_score(a.yes_count, threshold)}, with no escalation, repeat or "
                   "professional judgement recorded.")
    return Decision(False, (), level, explanation)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the month's end (29 Feb → 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def is_repeat(incident_date: date, last_hearing: date | None,
              months: int = REPEAT_MONTHS) -> bool:
    """Whether the incident is on or after the last hearing and within `months` of it."""
    if last_hearing is None:
        return False
    return last_hearing <= incident_date <= add_months(last_hearing, months)


def _check(a: Assessment, threshold: int, medium_from: int) -> None:
    if not 1 <= threshold <= QUESTION_COUNT:
        raise CriteriaError(f"The threshold must be between 1 and {QUESTION_COUNT}, "
                            f"not {threshold}.")
    if not 0 <= medium_from <= threshold:
        raise CriteriaError(f"The medium-risk score must be between 0 and {threshold}, "
                            f"not {medium_from}.")
    if not 0 <= a.yes_count <= QUESTION_COUNT:
        raise CriteriaError(f"The number of yes answers must be between 0 and "
                            f"{QUESTION_COUNT}, not {a.yes_count}.")
    if a.escalation and not a.escalation_detail.strip():
        raise CriteriaError("Escalation needs a description of how the abuse is getting worse "
                            "or more frequent.")
    if a.professional_judgement and not a.rationale.strip():
        raise CriteriaError("Professional judgement needs a written rationale.")


def _reasons(a: Assessment, threshold: int, repeat_months: int) -> tuple[Reason, ...]:
    applies = {
        Reason.VISIBLE_HIGH_RISK: a.yes_count >= threshold,
        Reason.ESCALATION: a.escalation,
        Reason.REPEAT: is_repeat(a.incident_date, a.last_hearing, repeat_months),
        Reason.PROFESSIONAL_JUDGEMENT: a.professional_judgement,
    }
    return tuple(reason for reason in Reason if applies[reason])


def _phrase(reason: Reason, a: Assessment, threshold: int, repeat_months: int) -> str:
    if reason is Reason.VISIBLE_HIGH_RISK:
        return _score(a.yes_count, threshold)
    if reason is Reason.ESCALATION:
        return "escalation is recorded"
    if reason is Reason.REPEAT:
        assert a.last_hearing is not None
        return (f"the incident is within {repeat_months} months of the last hearing on "
                f"{_long(a.last_hearing)}")
    return "professional judgement is recorded with a rationale"


def _score(yes_count: int, threshold: int) -> str:
    verb = "was" if yes_count == 1 else "were"
    return f"{yes_count} of {QUESTION_COUNT} answers {verb} yes ({threshold} needed)"


def _long(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _and(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} and {parts[-1]}"
