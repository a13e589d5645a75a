"""Triage's weekly rhythm (002): on the MARAC's triage weekday the triage members are sent the
queue, once that day; and a referral waiting in triage, or a deferred case, that can no longer
be heard within the target (14 working days of receipt) is flagged to the coordinator once,
on the day that becomes certain.

A referral waiting in triage could still be heard in time at any meeting from the start of its
hearing window to the target day that has not begun (dialogs.scheduling places it so); it
becomes certain when the last such meeting begins, or at once when there is none (bank
holidays can leave a window without a meeting day). A deferred case is listed at a later
meeting: it becomes certain when it is deferred past the target day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.people import people_with
from dialogs.scheduling import calendar_of, local_today, meeting_days, starts_at_on
from dialogs.triage import AWAITING_TRIAGE
from storage.models import Case, CaseStatus, Marac, Meeting, Referral, Role

QUEUE_DUE_AT = time(9, 0)  # the morning of the triage weekday


@dataclass(frozen=True)
class TriageQueue:
    marac: Marac
    recipients: tuple[int, ...]  # the triage members' person ids


@dataclass(frozen=True)
class TargetFlag:
    marac: Marac
    reference: str
    first_name: str
    received_on: date
    target_day: date
    case_number: str | None  # a deferred case's number; None for a referral in triage
    recipients: tuple[int, ...]  # the coordinators' person ids


async def claim_triage_queues(session: AsyncSession, now: datetime) -> list[TriageQueue]:
    """The MARACs whose triage weekday it is, from 09:00, each marked sent for the day; a
    MARAC with nothing waiting sends nothing."""
    due = []
    for marac in (await session.scalars(select(Marac).order_by(Marac.id))).all():
        today = local_today(marac, now)
        if not _queue_due(marac, now) or await _claimed_elsewhere(session, marac, now):
            continue
        marac.triage_queue_sent_on = today
        if await _any_waiting(session, marac.id):  # nothing to triage: no message
            due.append(TriageQueue(marac, await people_with(session, marac.id,
                                                            (Role.TRIAGE_MEMBER,))))
    return due


def _queue_due(marac: Marac, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(marac.timezone))
    return (local.weekday() == marac.triage_weekday and local.time() >= QUEUE_DUE_AT
            and marac.triage_queue_sent_on != local.date())


async def _claimed_elsewhere(session: AsyncSession, marac: Marac, now: datetime) -> bool:
    """Lock the MARAC's row only when its queue is due, so that one replica sends it (and a
    referral being submitted meanwhile is not held up on other ticks); read it afresh."""
    locked = await session.scalar(
        select(Marac).where(Marac.id == marac.id).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True))
    return locked is None or not _queue_due(marac, now)


def target_day(marac: Marac, received_on: date) -> date:
    return calendar_of(marac).add(received_on, marac.target_working_days)


def certain_at(marac: Marac, received_on: date) -> datetime:
    """When a referral still waiting in triage can no longer be heard by its target day: the
    start of the last meeting it could be heard at in time, or its day of receipt if none."""
    calendar = calendar_of(marac)
    first, _ = calendar.window(received_on, marac.earliest_working_days,
                               marac.latest_working_days)
    last_day = target_day(marac, received_on)
    last = None
    for day in meeting_days(marac, calendar, first):
        if day > last_day:
            break
        last = day
    if last is None:
        return datetime.combine(received_on, time(0, 0), tzinfo=ZoneInfo(marac.timezone))
    return starts_at_on(marac, last)


# Every MARAC's referrals waiting in triage and deferred cases not yet flagged, in two
# statements of the columns the check reads, whatever the number of MARACs (the timer asks
# every tick); a referral found due is then read whole as it is claimed.
_WAITING_UNFLAGGED = (
    select(Referral.id, Referral.marac_id, Referral.received_on)
    .where(Referral.status.in_(AWAITING_TRIAGE), Referral.target_flagged_at.is_(None))
    .order_by(Referral.marac_id, Referral.id))
_DEFERRED_UNFLAGGED = (
    select(Referral.id, Referral.marac_id, Referral.received_on, Case.number,
           Meeting.starts_at)
    .join(Case, Case.referral_id == Referral.id).join(Meeting, Meeting.id == Case.meeting_id)
    .where(Referral.target_flagged_at.is_(None), Case.deferred_from_meeting_id.is_not(None),
           Case.status == CaseStatus.LISTED)
    .order_by(Referral.marac_id, Case.id))


async def claim_target_flags(session: AsyncSession, now: datetime) -> list[TargetFlag]:
    """Referrals and deferred cases whose target became impossible, each flagged once."""
    waiting = (await session.execute(_WAITING_UNFLAGGED)).all()
    deferred = (await session.execute(_DEFERRED_UNFLAGGED)).all()
    if not waiting and not deferred:
        return []
    ids = {row.marac_id for row in waiting} | {case.marac_id for case in deferred}
    maracs = {m.id: m for m in (await session.scalars(
        select(Marac).where(Marac.id.in_(ids)))).all()}
    due: dict[int, list[tuple[int, str | None]]] = {}
    for row in waiting:
        if certain_at(maracs[row.marac_id], row.received_on) <= now:
            due.setdefault(row.marac_id, []).append((row.id, None))
    for case in deferred:
        marac = maracs[case.marac_id]
        if _heard_on(marac, case.starts_at) > target_day(marac, case.received_on):
            due.setdefault(case.marac_id, []).append((case.id, case.number))
    flags = []
    for marac_id in sorted(due):
        coordinators = await people_with(session, marac_id, (Role.COORDINATOR,))
        for referral_id, case_number in due[marac_id]:
            referral = await _claim(session, referral_id)
            if referral is not None:
                flags.append(_flag(maracs[marac_id], referral, case_number, coordinators,
                                   now))
    return flags


def _heard_on(marac: Marac, starts_at: datetime) -> date:
    return starts_at.astimezone(ZoneInfo(marac.timezone)).date()


async def _claim(session: AsyncSession, referral_id: int) -> Referral | None:
    """Lock the referral only once it is due, so that one replica flags it; read afresh."""
    return await session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.target_flagged_at.is_(None))
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))


def _flag(marac: Marac, referral: Referral, case_number: str | None,
          coordinators: tuple[int, ...], now: datetime) -> TargetFlag:
    referral.target_flagged_at = now
    return TargetFlag(marac, referral.victim_reference, referral.victim_first_name,
                      referral.received_on, target_day(marac, referral.received_on),
                      case_number, coordinators)


async def _any_waiting(session: AsyncSession, marac_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(
        Referral.marac_id == marac_id, Referral.status.in_(AWAITING_TRIAGE)))))
