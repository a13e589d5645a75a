"""Disputes, complaints and breaches on the record (../shared/MARAC.md; 002 §7–9). Any
representative of the MARAC opens a dispute on a case's decision or action (`dispute CASE
what`); complaints and breaches are recorded the same way. It starts between the partners;
only the operations manager moves it on, through the operations manager, the agency managers
and the steering group, or closes it, each step dated and attributed (`escalate ID note`,
`resolve ID note`). The pipeline audits every step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.plans import case_numbered
from dialogs.refusal import Refusal
from dialogs.safe_text import safe_text
from storage.models import GOVERNANCE_STEPS, GovernanceRecord, GovernanceStep, Referral, Role

KINDS = ("dispute", "complaint", "breach")
OPENERS = frozenset({Role.AGENCY_REPRESENTATIVE, Role.COORDINATOR, Role.CHAIR,
                     Role.OPERATIONS_MANAGER})
ABOUT_MOST = 2000


class GovernanceError(Refusal):
    """One plain sentence."""


def may_open(roles: frozenset[Role], kind: str) -> str | None:
    """A dispute is any representative's; a complaint or breach anyone's with case papers."""
    if kind == "dispute" and Role.AGENCY_REPRESENTATIVE not in roles:
        return "Only an agency representative of this MARAC opens a dispute."
    if not roles & OPENERS:
        return f"You cannot record a {kind} in this MARAC."
    return None


async def open_record(session: AsyncSession, marac_id: int, kind: str, number: str,
                      about: str, roles: frozenset[Role], person_id: int | None,
                      now: datetime) -> GovernanceRecord:
    if kind not in KINDS:
        raise GovernanceError(f"Record a {', '.join(KINDS)}, not {kind!r}.")
    refused = may_open(roles, kind)
    if refused:
        raise GovernanceError(refused)
    case = await case_numbered(session, marac_id, number)
    text = safe_text(about.strip())
    if not text:
        raise GovernanceError(f"Say what the {kind} is about, e.g. **{kind} {case.number} "
                              "the action given to Housing**.")
    if len(text) > ABOUT_MOST:
        raise GovernanceError(f"Keep it to {ABOUT_MOST} characters.")
    record = GovernanceRecord(marac_id=marac_id, kind=kind, case_id=case.id, about=text,
                              step=1, opened_by_person_id=person_id, opened_at=now)
    session.add(record)
    await session.flush()
    session.add(GovernanceStep(record_id=record.id, step=1, at=now, by_person_id=person_id,
                               note=text))
    return record


async def record_disclosure(session: AsyncSession, marac_id: int, number: str, order: str,
                            person_id: int | None, now: datetime
                            ) -> tuple[GovernanceRecord, str | None]:
    """A disclosure to a court, under the order named (002 §13): recorded, and the victim's
    reference given back for the subject access review that redacts what is exported."""
    reference = " ".join(order.split())
    if not reference:
        raise GovernanceError("A court gets the plan only under a court order: give its "
                              f"reference, e.g. **disclose {number or 'RIV-2026-001'} "
                              "CO-2026-118**.")
    if len(reference) > 200:
        raise GovernanceError("A court order's reference is at most 200 characters.")
    case = await case_numbered(session, marac_id, number)
    record = GovernanceRecord(marac_id=marac_id, kind="disclosure", case_id=case.id,
                              about=f"Disclosure of {case.number} to a court",
                              court_order_ref=safe_text(reference), step=1,
                              opened_by_person_id=person_id, opened_at=now, closed_at=now)
    session.add(record)
    await session.flush()
    session.add(GovernanceStep(record_id=record.id, step=1, at=now, by_person_id=person_id,
                               note=f"Under court order {safe_text(reference)}."))
    referral = await session.get(Referral, case.referral_id) if case.referral_id else None
    return record, referral.victim_reference if referral else None


async def escalate(session: AsyncSession, marac_id: int, record_id: int,
                   roles: frozenset[Role], person_id: int | None, note: str, now: datetime
                   ) -> GovernanceRecord:
    """The operations manager moves it to the next of the four steps."""
    record = await _managed(session, marac_id, record_id, roles)
    if record.step >= len(GOVERNANCE_STEPS):
        raise GovernanceError(f"{record.kind.capitalize()} {record.id} is already with the "
                              "steering group, the last step.")
    record.step += 1
    session.add(GovernanceStep(record_id=record.id, step=record.step, at=now,
                               by_person_id=person_id, note=safe_text(note.strip())))
    return record


async def resolve(session: AsyncSession, marac_id: int, record_id: int, roles: frozenset[Role],
                  person_id: int | None, note: str, now: datetime) -> GovernanceRecord:
    record = await _managed(session, marac_id, record_id, roles)
    if not note.strip():
        raise GovernanceError("Say how it was resolved.")
    record.closed_at = now
    session.add(GovernanceStep(record_id=record.id, step=record.step, at=now,
                               by_person_id=person_id, note="Resolved: " + safe_text(note)))
    return record


async def steps_of(session: AsyncSession, record_id: int) -> list[GovernanceStep]:
    return list((await session.scalars(select(GovernanceStep).where(
        GovernanceStep.record_id == record_id).order_by(GovernanceStep.id))).all())


def step_name(step: int) -> str:
    return GOVERNANCE_STEPS[step - 1]


async def _managed(session: AsyncSession, marac_id: int, record_id: int,
                   roles: frozenset[Role]) -> GovernanceRecord:
    if Role.OPERATIONS_MANAGER not in roles:
        raise GovernanceError("Only the operations manager moves a dispute, complaint or "
                              "breach on.")
    record = await session.scalar(select(GovernanceRecord).where(
        GovernanceRecord.id == record_id, GovernanceRecord.marac_id == marac_id))
    if record is None:
        raise GovernanceError(f"There is no record {record_id} in this MARAC.")
    if record.closed_at is not None:
        raise GovernanceError(f"{record.kind.capitalize()} {record.id} is resolved already.")
    return record
