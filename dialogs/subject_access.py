"""Subject access: everything held about one victim, by their reference, with everyone
else's names redacted before it can leave the MARAC (002: redaction, and the operations
manager is the one who runs it). The operations manager then reviews it: withholds whole
items (third-party information, material whose release would put someone at risk) and
redacts further words, before the export is made."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.refusal import Refusal
from storage.crypto import blind_index
from storage.models import AgencyInformation, Case, PlannedAction, Referral

REDACTED = "[redacted]"
WITHHELD = "[withheld by the operations manager]"
MAX_REDACTIONS = 50


class ReviewError(Refusal):
    """Why the review cannot be applied, in one sentence."""


@dataclass(frozen=True)
class Review:
    withheld: frozenset[int]  # items, numbered from 1 in the order they are listed
    redacted: tuple[str, ...]  # further words or names to take out


@dataclass(frozen=True)
class HeldCase:
    number: str
    status: str
    information: tuple[str, ...]
    actions: tuple[str, ...]


@dataclass(frozen=True)
class HeldReferral:
    received_on: date
    status: str
    risk_level: str
    reasons: tuple[str, ...]
    case: HeldCase | None


@dataclass(frozen=True)
class SubjectAccess:
    reference: str
    first_name: str
    referrals: tuple[HeldReferral, ...]


async def gather(session: AsyncSession, marac_id: int, reference: str) -> SubjectAccess:
    referrals = (await session.scalars(select(Referral).where(
        Referral.marac_id == marac_id, Referral.victim_index == blind_index(reference))
        .order_by(Referral.received_on))).all()
    held = []
    for referral in referrals:
        others = {referral.perpetrator_first_name, referral.referrer_name}
        held.append(HeldReferral(
            referral.received_on, referral.status.value, referral.risk_level,
            tuple(referral.qualifying_reasons), await _case(session, referral.id, others)))
    first_name = referrals[0].victim_first_name if referrals else ""
    return SubjectAccess(reference, first_name, tuple(held))


async def _case(session: AsyncSession, referral_id: int, others: set[str]) -> HeldCase | None:
    case = await session.scalar(select(Case).where(Case.referral_id == referral_id))
    if case is None:
        return None
    others = others | {case.victim_contact}
    information = (await session.scalars(select(AgencyInformation).where(
        AgencyInformation.case_id == case.id))).all()
    actions = (await session.scalars(select(PlannedAction).where(
        PlannedAction.case_id == case.id))).all()
    others |= {a.owner for a in actions}
    return HeldCase(
        case.number, case.status.value,
        tuple(redact(i.text, others) for i in information),
        tuple(redact(f"{a.description} (for the {a.for_whom})", others) for a in actions))


def redact(text: str, names: set[str]) -> str:
    """Other people's names out of free text, whole words, any case."""
    for name in sorted((n for n in names if n and n.strip()), key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name.strip())}\b", REDACTED, text, flags=re.IGNORECASE)
    return text


def items(held: SubjectAccess) -> list[str]:
    """The free-text items a review can withhold, in the order every view lists them."""
    return [text for referral in held.referrals if referral.case
            for text in (*referral.case.information, *referral.case.actions)]


def read_review(data: dict[str, Any], count: int) -> Review:
    """The operations manager's choices from the review card's inputs."""
    withheld = set()
    for key, value in data.items():
        if key.startswith("withhold_") and value == "true":
            number = key.removeprefix("withhold_")
            if not number.isdigit() or not 1 <= int(number) <= count:
                raise ReviewError("The review names an item that is not held; run **sar** "
                                  "again and review the current record.")
            withheld.add(int(number))
    words = data.get("redact", "")
    if not isinstance(words, str):
        raise ReviewError("Further redactions must be words separated by commas.")
    redacted = tuple(w.strip() for w in words.split(",") if w.strip())
    if len(redacted) > MAX_REDACTIONS or any(len(w) > 100 for w in redacted):
        raise ReviewError(f"At most {MAX_REDACTIONS} further redactions, each under 100 "
                          "characters.")
    return Review(frozenset(withheld), redacted)


def reviewed(held: SubjectAccess, review: Review) -> SubjectAccess:
    """What is released: withheld items replaced by a note, further words redacted."""
    number = 0

    def release(text: str) -> str:
        nonlocal number
        number += 1
        return WITHHELD if number in review.withheld else redact(text, set(review.redacted))

    referrals = []
    for referral in held.referrals:
        case = referral.case
        if case is not None:
            case = replace(case, information=tuple(release(t) for t in case.information),
                           actions=tuple(release(t) for t in case.actions))
        referrals.append(replace(referral, case=case))
    return replace(held, referrals=tuple(referrals))
