"""Actions that slip (../shared/MARAC.md, "After the meeting"; 002): an action still open two
working days after its due date is escalated to the MARAC's coordinators, and after five to
its operations manager. Each escalation is claimed once, in the database, so a restart or a
second replica never repeats one nor loses one.

An escalation is due at the time of day of the due-date reminder, on the nth working day after
the due date (dialogs.working_days counts strictly after it). A closed panel's action goes only
to those admitted to it; when none of them holds the role, to the chair, who sees it by
office."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.acknowledgement import OPEN, OwnedAction, as_owned, due_reminder_at, follow_ups
from dialogs.people import people_with
from dialogs.scheduling import calendar_of
from storage.models import ActionFollowUp, Case, Marac, Role

COORDINATOR_AFTER = 2  # working days after the due date
MANAGER_AFTER = 5


@dataclass(frozen=True)
class Escalation:
    action: OwnedAction
    to_manager: bool  # False: the coordinators at 2 working days; True: the manager at 5
    working_days: int
    recipients: tuple[int, ...]


def escalate_at(marac: Marac, due_on: date, working_days: int) -> datetime:
    """When an action due on `due_on` and still open is escalated."""
    return due_reminder_at(marac, calendar_of(marac).add(due_on, working_days))


async def claim_escalations(session: AsyncSession, now: datetime) -> list[Escalation]:
    rows = (await session.execute(
        follow_ups()
        .where(ActionFollowUp.status.in_(OPEN),
               or_(ActionFollowUp.coordinator_escalated_at.is_(None),
                   ActionFollowUp.manager_escalated_at.is_(None)))
        .order_by(ActionFollowUp.id)
        .with_for_update(of=ActionFollowUp, skip_locked=True))).tuples().all()
    escalations = []
    for follow_up, action, case, agency, marac in rows:
        if action.due_on is None:
            continue
        steps = []
        if (follow_up.coordinator_escalated_at is None
                and escalate_at(marac, action.due_on, COORDINATOR_AFTER) <= now):
            follow_up.coordinator_escalated_at = now
            steps.append((False, COORDINATOR_AFTER, Role.COORDINATOR))
        if (follow_up.manager_escalated_at is None
                and escalate_at(marac, action.due_on, MANAGER_AFTER) <= now):
            follow_up.manager_escalated_at = now
            steps.append((True, MANAGER_AFTER, Role.OPERATIONS_MANAGER))
        for to_manager, days, role in steps:
            escalations.append(Escalation(as_owned(follow_up, action, case, agency, marac),
                                          to_manager, days,
                                          await _told(session, marac, case, role)))
    return escalations


async def _told(session: AsyncSession, marac: Marac, case: Case, role: Role
                ) -> tuple[int, ...]:
    people = await people_with(session, marac.id, (role,))
    if not case.closed_panel:
        return people
    return (closed_panel.admitted_only(case, people)
            or await people_with(session, marac.id, (Role.CHAIR,)))
