"""Retention: cases whose meeting is older than the MARAC's retention period are purged, with
their referral, plan, information and declarations; declined referrals likewise after the
same period from receipt. Each purge leaves an audit row saying what went, not what it held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.plans import purge_plans
from storage.models import (
    AgencyInformation,
    AuditEvent,
    Case,
    ConflictDeclaration,
    Marac,
    Meeting,
    OutboxMessage,
    PlannedAction,
    ProcessedMessage,
    Referral,
    ReferralStatus,
)

SYSTEM = "system"


@dataclass(frozen=True)
class Purged:
    marac_id: int
    cases: int
    referrals: int


OUTBOX_KEPT = timedelta(days=30)  # settled messages, kept a while to answer "was it sent?"


async def purge_expired(session: AsyncSession, now: datetime) -> list[Purged]:
    await session.execute(delete(OutboxMessage).where(or_(
        OutboxMessage.delivered_at < now - OUTBOX_KEPT,
        OutboxMessage.failed_at < now - OUTBOX_KEPT)))
    await session.execute(delete(ProcessedMessage).where(
        ProcessedMessage.at < now - timedelta(days=1)))
    purged = []
    for marac in (await session.scalars(select(Marac))).all():
        cutoff = now - timedelta(days=marac.retention_days)
        result = await _purge(session, marac, cutoff)
        if result.cases or result.referrals:
            session.add(AuditEvent(
                at=now, tenant_id=marac.tenant_id, aad_object_id=SYSTEM, marac_id=marac.id,
                place="retention schedule", conversation_id="", action="purge",
                outcome="done", detail=f"{result.cases} cases and {result.referrals} "
                                       f"referrals older than {marac.retention_days} days"))
            purged.append(result)
    return purged


async def _purge(session: AsyncSession, marac: Marac, cutoff: datetime) -> Purged:
    case_rows = (await session.execute(
        select(Case.id, Case.referral_id).join(Meeting, Meeting.id == Case.meeting_id)
        .where(Meeting.marac_id == marac.id, Meeting.starts_at < cutoff))).tuples().all()
    case_ids = [case_id for case_id, _ in case_rows]
    declined = (await session.scalars(select(Referral.id).where(
        Referral.marac_id == marac.id, Referral.status.in_(
            (ReferralStatus.DECLINED, ReferralStatus.MERGED)),
        Referral.created_at < cutoff))).all()
    referral_ids = [r for _, r in case_rows if r is not None] + list(declined)
    await purge_plans(session, case_ids)  # what came after the meeting goes first
    for model in (PlannedAction, AgencyInformation, ConflictDeclaration):
        await session.execute(delete(model).where(model.case_id.in_(case_ids)))
    await session.execute(delete(Case).where(Case.id.in_(case_ids)))
    if referral_ids:
        await session.execute(update(Referral).where(or_(
            Referral.repeat_of_id.in_(referral_ids), Referral.duplicate_of_id.in_(referral_ids)
        )).values(repeat_of_id=None, duplicate_of_id=None))
        await session.execute(delete(Referral).where(Referral.id.in_(referral_ids)))
    return Purged(marac.id, len(case_ids), len(referral_ids))
