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

from sqlalchemy import select
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
        if await _waiting(session, marac, flagged_too=True):  # nothing to triage: no message
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


async def claim_target_flags(session: AsyncSession, now: datetime) -> list[TargetFlag]:
    """Referrals and deferred cases whose target became impossible, each flagged once."""
    flags = []
    for marac in (await session.scalars(select(Marac).order_by(Marac.id))).all():
        due: list[tuple[Referral, str | None]] = [
            (r, None) for r in await _waiting(session, marac)
            if certain_at(marac, r.received_on) <= now]
        due += [(r, case.number) for r, case, meeting in await _deferred(session, marac)
                if _heard_on(marac, meeting) > target_day(marac, r.received_on)]
        coordinators = await people_with(session, marac.id, (Role.COORDINATOR,)) if due else ()
        for referral, case_number in due:
            if await _claim(session, referral):
                flags.append(_flag(marac, referral, case_number, coordinators, now))
    return flags


def _heard_on(marac: Marac, meeting: Meeting) -> date:
    return meeting.starts_at.astimezone(ZoneInfo(marac.timezone)).date()


async def _claim(session: AsyncSession, referral: Referral) -> bool:
    """Lock the referral only once it is due, so that one replica flags it; read afresh."""
    locked = await session.scalar(
        select(Referral).where(Referral.id == referral.id, Referral.target_flagged_at.is_(None))
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    return locked is not None


def _flag(marac: Marac, referral: Referral, case_number: str | None,
          coordinators: tuple[int, ...], now: datetime) -> TargetFlag:
    referral.target_flagged_at = now
    return TargetFlag(marac, referral.victim_reference, referral.victim_first_name,
                      referral.received_on, target_day(marac, referral.received_on),
                      case_number, coordinators)


async def _waiting(session: AsyncSession, marac: Marac, flagged_too: bool = False
                   ) -> list[Referral]:
    query = select(Referral).where(Referral.marac_id == marac.id,
                                   Referral.status.in_(AWAITING_TRIAGE))
    if not flagged_too:
        query = query.where(Referral.target_flagged_at.is_(None))
    return list((await session.scalars(query.order_by(Referral.id))).all())


async def _deferred(session: AsyncSession, marac: Marac
                    ) -> list[tuple[Referral, Case, Meeting]]:
    return list((await session.execute(
        select(Referral, Case, Meeting).join(Case, Case.referral_id == Referral.id)
        .join(Meeting, Meeting.id == Case.meeting_id)
        .where(Referral.marac_id == marac.id, Referral.target_flagged_at.is_(None),
               Case.deferred_from_meeting_id.is_not(None), Case.status == CaseStatus.LISTED)
        .order_by(Case.id))).tuples().all())
