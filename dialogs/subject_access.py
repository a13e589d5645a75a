"""Subject access: everything held about one victim, by their reference, with everyone
else's names redacted before it can leave the MARAC (002: redaction, and the operations
manager is the one who runs it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import blind_index
from storage.models import AgencyInformation, Case, PlannedAction, Referral

REDACTED = "[redacted]"


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
