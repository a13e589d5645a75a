"""The meeting's clock and record: slot warnings due now, and the summary at `end`."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.meeting import slot_of
from storage.models import (
    ActionOrigin,
    Agency,
    Case,
    CaseStatus,
    Marac,
    Meeting,
    MeetingStatus,
    PlannedAction,
)


@dataclass(frozen=True)
class SlotWarning:
    meeting: Meeting
    case: Case
    over: bool  # False: minutes remain; True: the slot is over
    remaining: int


async def claim_slot_warnings(session: AsyncSession, now: datetime) -> list[SlotWarning]:
    """Warnings now due in running meetings, each marked so that it is sent once: by the
    replica that holds the case's row, deciding on the row as locked (populate_existing),
    never on a copy this session read before another replica's claim.

    One statement over all running meetings reads only the slot clocks (no locks, nothing
    decrypted) of the open cases still owed a warning; only the cases whose warning is due
    by that reading are then locked and decided on, in a second statement."""
    clocks = (await session.execute(
        select(Case.id, Case.opened_at, Case.closed_at, Case.paused_seconds,
               Case.extra_seconds, Case.warned_at, Case.overrun_at, Meeting.paused_at,
               Marac.slot_seconds, Marac.warning_seconds)
        .join(Meeting, Meeting.id == Case.meeting_id)
        .join(Marac, Marac.id == Meeting.marac_id)
        .where(Meeting.status == MeetingStatus.RUNNING, Case.status == CaseStatus.OPEN,
               or_(Case.warned_at.is_(None), Case.overrun_at.is_(None))))).tuples().all()
    due = [case_id for case_id, opened, closed, paused, extra, warned, overrun, meeting_paused,
           slot, warning in clocks
           if _owed(_remaining(slot + extra, opened, closed or meeting_paused or now, paused),
                    warning, warned, overrun)]
    if not due:
        return []
    rows = (await session.execute(
        select(Meeting, Case, Marac).join(Case, Case.meeting_id == Meeting.id)
        .join(Marac, Marac.id == Meeting.marac_id)
        .where(Case.id.in_(due), Meeting.status == MeetingStatus.RUNNING,
               Case.status == CaseStatus.OPEN)
        .order_by(Case.id)
        .with_for_update(of=Case, skip_locked=True)
        .execution_options(populate_existing=True))).tuples().all()
    warnings = []
    for meeting, case, marac in rows:
        slot = slot_of(marac, meeting, case, now)
        if slot.remaining <= 0 and case.overrun_at is None:
            case.warned_at = case.warned_at or now
            case.overrun_at = now
            warnings.append(SlotWarning(meeting, case, True, slot.remaining))
        elif 0 < slot.remaining <= marac.warning_seconds and case.warned_at is None:
            case.warned_at = now
            warnings.append(SlotWarning(meeting, case, False, slot.remaining))
    return warnings


def _remaining(length: int, opened: datetime | None, end: datetime, paused_seconds: int
               ) -> int:
    """dialogs.meeting.slot_of's remaining seconds, from the columns alone."""
    if opened is None:
        return length
    return math.ceil(length - ((end - opened).total_seconds() - paused_seconds))


def _owed(remaining: int, warning_seconds: int, warned: datetime | None,
          overrun: datetime | None) -> bool:
    if remaining <= 0:
        return overrun is None
    return remaining <= warning_seconds and warned is None


@dataclass(frozen=True)
class Summary:
    heard: tuple[str, ...]
    deferred: tuple[str, ...]
    exceptional: tuple[str, ...]
    not_reached: tuple[str, ...]
    planned_seconds: int
    used_seconds: int
    actions_per_agency: tuple[tuple[str, int], ...]


async def summarise(session: AsyncSession, marac: Marac, meeting: Meeting, now: datetime
                    ) -> Summary:
    cases = list((await session.scalars(select(Case).where(Case.meeting_id == meeting.id)
                                        .order_by(Case.closed_panel, Case.slot))).all())
    deferred = (await session.scalars(select(Case.number).where(
        Case.deferred_from_meeting_id == meeting.id))).all()
    heard = [c for c in cases if c.status is CaseStatus.CLOSED]
    used = sum(slot_of(marac, meeting, c, now).length - slot_of(marac, meeting, c, now).remaining
               for c in heard)
    counts = (await session.execute(
        select(Agency.name, func.count(PlannedAction.id))
        .join(PlannedAction, PlannedAction.owning_agency_id == Agency.id)
        .where(PlannedAction.case_id.in_([c.id for c in heard]),
               PlannedAction.origin == ActionOrigin.MEETING)
        .group_by(Agency.name).order_by(Agency.name))).tuples().all()
    return Summary(
        heard=tuple(c.number for c in heard if not c.exceptional),
        deferred=tuple(deferred),
        exceptional=tuple(c.number for c in heard if c.exceptional),
        not_reached=tuple(c.number for c in cases if c.status is CaseStatus.LISTED),
        planned_seconds=marac.slot_seconds * (len(heard) + len(deferred)),
        used_seconds=used + meeting.deferred_seconds_used,
        actions_per_agency=tuple(Counter(dict(counts)).items()),
    )
