"""Retention: cases whose meeting is older than the MARAC's retention period are purged, with
their referral, plan, information and declarations; declined referrals likewise after the
same period from receipt. Each purge leaves an audit row saying what went, not what it held.

The purge runs on its own schedule (`purge_when_due`, hourly), claimed in the database so that
one replica does it, not on every timer tick: its statements run for all MARACs at once."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, delete, false, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dialogs.plans import purge_plans
from storage.models import (
    AgencyInformation,
    AuditEvent,
    Case,
    ConflictDeclaration,
    GovernanceRecord,
    HubFollowUp,
    Marac,
    Meeting,
    OutboxMessage,
    PlanDelivery,
    PlannedAction,
    ProcessedMessage,
    Referral,
    ReferralStatus,
    ScheduledJob,
    Transfer,
)

SYSTEM = "system"
JOB = "retention"
EVERY = timedelta(hours=1)  # how often the purge runs, whichever replica runs it
CHUNK = 500  # ids per IN list, well inside SQLite's and asyncpg's limits on parameters


@dataclass(frozen=True)
class Purged:
    marac_id: int
    cases: int
    referrals: int


OUTBOX_KEPT = timedelta(days=30)  # settled messages, kept a while to answer "was it sent?"


async def purge_when_due(session: AsyncSession, now: datetime, every: timedelta = EVERY
                         ) -> list[Purged] | None:
    """The purge, if it is due: claimed on the job's row (skipped while another replica holds
    it) and moved on by `every` in the same transaction, so it runs once per period across
    all replicas and runs again next tick if this one fails. None when it was not due."""
    if not await claim_job(session, JOB, now, every):
        return None
    return await purge_expired(session, now)


async def claim_job(session: AsyncSession, name: str, now: datetime, every: timedelta
                    ) -> bool:
    """Whether the job `name` is due and now this transaction's: its row is locked and
    its next due time set `every` from now."""
    job = await _locked_job(session, name, now)
    if job is None:
        values = {"name": name, "due_at": now}
        insert = (postgresql.insert(ScheduledJob) if session.get_bind().dialect.name == "postgresql"
                  else sqlite.insert(ScheduledJob))
        await session.execute(insert.values(values).on_conflict_do_nothing())
        job = await _locked_job(session, name, now)
    if job is None:
        return False  # another replica holds it, or it is not due yet
    job.due_at = now + every
    return True


async def _locked_job(session: AsyncSession, name: str, now: datetime) -> ScheduledJob | None:
    return await session.scalar(
        select(ScheduledJob).where(ScheduledJob.name == name, ScheduledJob.due_at <= now)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))


async def purge_expired(session: AsyncSession, now: datetime) -> list[Purged]:
    # A plan's own message is the record of its dissemination: it goes with the case.
    plan_messages = select(PlanDelivery.outbox_id).where(PlanDelivery.outbox_id.is_not(None))
    await session.execute(delete(OutboxMessage).where(or_(
        OutboxMessage.delivered_at < now - OUTBOX_KEPT,
        OutboxMessage.failed_at < now - OUTBOX_KEPT), OutboxMessage.id.not_in(plan_messages)))
    await session.execute(delete(ProcessedMessage).where(
        ProcessedMessage.at < now - timedelta(days=1)))
    maracs = (await session.execute(
        select(Marac.id, Marac.tenant_id, Marac.retention_days))).tuples().all()
    # One condition per retention period in use (usually one), not one query per MARAC.
    by_period: dict[int, list[int]] = defaultdict(list)
    for marac_id, _, days in maracs:
        by_period[days].append(marac_id)

    def expired(marac_column: InstrumentedAttribute[int],
                at_column: InstrumentedAttribute[datetime]) -> ColumnElement[bool]:
        return or_(false(), *(and_(marac_column.in_(ids), at_column < now - timedelta(days=days))
                              for days, ids in by_period.items()))

    case_rows = (await session.execute(
        select(Case.id, Case.referral_id, Meeting.marac_id)
        .join(Meeting, Meeting.id == Case.meeting_id)
        .where(expired(Meeting.marac_id, Meeting.starts_at)))).tuples().all()
    declined = (await session.execute(select(Referral.id, Referral.marac_id).where(
        Referral.status.in_((ReferralStatus.DECLINED, ReferralStatus.MERGED)),
        expired(Referral.marac_id, Referral.created_at)))).tuples().all()
    case_ids = [case_id for case_id, _, _ in case_rows]
    referral_ids = [r for _, r, _ in case_rows if r is not None] + [r for r, _ in declined]
    for ids in _chunks(case_ids):
        await purge_plans(session, ids)  # what came after the meeting goes first
        for model in (PlannedAction, AgencyInformation, ConflictDeclaration, Transfer,
                      HubFollowUp):
            await session.execute(delete(model).where(model.case_id.in_(ids)))
        await session.execute(update(GovernanceRecord).where(GovernanceRecord.case_id.in_(ids))
                              .values(case_id=None))  # the governance record outlives it
        await session.execute(delete(Case).where(Case.id.in_(ids)))
    for ids in _chunks(referral_ids):
        await session.execute(update(Transfer).where(Transfer.referral_id.in_(ids))
                              .values(referral_id=None))
        await session.execute(update(Transfer).where(Transfer.from_referral_id.in_(ids))
                              .values(from_referral_id=None))
    for ids in _chunks(referral_ids):
        await session.execute(update(Referral).where(or_(
            Referral.repeat_of_id.in_(ids), Referral.duplicate_of_id.in_(ids)
        )).values(repeat_of_id=None, duplicate_of_id=None))
    for ids in _chunks(referral_ids):
        await session.execute(delete(Referral).where(Referral.id.in_(ids)))
    cases = Counter(marac_id for _, _, marac_id in case_rows)
    referrals = Counter(marac_id for _, r, marac_id in case_rows if r is not None)
    referrals.update(marac_id for _, marac_id in declined)
    purged = []
    for marac_id, tenant_id, days in maracs:
        result = Purged(marac_id, cases[marac_id], referrals[marac_id])
        if result.cases or result.referrals:
            session.add(AuditEvent(
                at=now, tenant_id=tenant_id, aad_object_id=SYSTEM, marac_id=marac_id,
                place="retention schedule", conversation_id="", action="purge",
                outcome="done", detail=f"{result.cases} cases and {result.referrals} "
                                       f"referrals older than {days} days"))
            purged.append(result)
    return purged


Item = TypeVar("Item")


def _chunks(items: Sequence[Item]) -> Iterator[list[Item]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start:start + CHUNK])
