"""The operations manager's review of an action that cannot be completed (002: "the operations
manager decides on follow-up"). The review accepts it as it stands, reassigns it to another
agency with a new owner and due date, or closes it with a reason. Each is a new version of the
plan saying who decided what and why; a second press of the same decision does nothing, and a
different one is refused: the first review stands on the record."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.acknowledgement import OwnedAction, owned
from dialogs.people import people_with
from dialogs.plans import NotEntitled, PlanError, record_version
from dialogs.scheduling import local_today
from storage.models import (
    ActionFollowUp,
    ActionOrigin,
    ActionStatus,
    Agency,
    Case,
    Marac,
    Meeting,
    Person,
    PlannedAction,
    PlanVersion,
    Role,
    RoleGrant,
)


class Decision(enum.StrEnum):
    ACCEPTED = "accepted"
    REASSIGNED = "reassigned"
    CLOSED = "closed"


@dataclass(frozen=True)
class Reassignment:
    agency: str
    owner: str  # the new owner's first name, a representative of that agency
    due_on: str  # ISO date, today or later


@dataclass(frozen=True)
class Reviewed:
    action: OwnedAction
    decision: Decision
    changed: bool  # False: the same decision pressed again
    version: PlanVersion | None
    successor: int | None  # the reassigned action's follow-up, for its new owner's card
    new_owner: int | None


async def review(session: AsyncSession, follow_up_id: int, person_id: int | None,
                 decision: Decision, reason: str, to: Reassignment | None, now: datetime
                 ) -> Reviewed:
    row = (await session.execute(
        select(ActionFollowUp, PlannedAction, Case, Marac)
        .join(PlannedAction, PlannedAction.id == ActionFollowUp.action_id)
        .join(Case, Case.id == ActionFollowUp.case_id)
        .join(Meeting, Meeting.id == Case.meeting_id)
        .join(Marac, Marac.id == Meeting.marac_id)
        .where(ActionFollowUp.id == follow_up_id)
        .with_for_update(of=ActionFollowUp))).tuples().first()
    if row is None or person_id is None:
        raise PlanError("That action is not on any plan.")
    follow_up, action, case, marac = row
    await _must_manage(session, marac.id, person_id)
    if follow_up.status is not ActionStatus.CANNOT_COMPLETE:
        raise PlanError("Only an action its owner cannot complete is reviewed.")
    if follow_up.review is not None:
        if follow_up.review == decision.value:
            return Reviewed(await owned(session, follow_up_id), decision, False, None, None,
                            None)
        raise PlanError(f"This action was already reviewed: {follow_up.review}.")
    reason = " ".join(reason.split())[:1000]
    if decision is Decision.CLOSED and not reason:
        raise PlanError("Say why the action is closed.")
    successor = new_owner = None
    if decision is Decision.REASSIGNED:
        if to is None:
            raise PlanError("Choose the agency, the new owner and the due date.")
        successor, new_owner = await _reassign(session, marac, case, action, to, person_id,
                                               now)
        follow_up.reassigned_to_id = successor.action_id
    follow_up.review, follow_up.reviewed_at = decision.value, now
    follow_up.reviewed_by_person_id, follow_up.review_note = person_id, reason
    await session.flush()
    version = await record_version(session, case, person_id, _change(decision, action, to),
                                   reason or "Reviewed by the operations manager.", now)
    return Reviewed(await owned(session, follow_up_id), decision, True, version,
                    successor.id if successor else None, new_owner)


async def _must_manage(session: AsyncSession, marac_id: int, person_id: int) -> None:
    """The operations manager of the case's own MARAC, whatever roles are held elsewhere."""
    held = await session.scalar(select(RoleGrant.id).where(
        RoleGrant.person_id == person_id, RoleGrant.marac_id == marac_id,
        RoleGrant.role == Role.OPERATIONS_MANAGER))
    if held is None:
        raise NotEntitled("Only this MARAC's operations manager reviews an action that cannot "
                          "be completed.")


async def _reassign(session: AsyncSession, marac: Marac, case: Case, action: PlannedAction,
                    to: Reassignment, person_id: int, now: datetime
                    ) -> tuple[ActionFollowUp, int]:
    agency = await session.scalar(select(Agency).where(
        Agency.marac_id == marac.id, Agency.name == to.agency.strip()))
    if agency is None:
        raise PlanError("Choose one of this MARAC's agencies.")
    if not agency.signed_sharing_agreement:
        raise PlanError(f"{agency.name} has not signed the information sharing agreement: "
                        "choose another agency.")
    owner = await _representative(session, marac, case, agency, to.owner)
    due = _due(to.due_on, local_today(marac, now))
    successor = PlannedAction(case_id=case.id, origin=ActionOrigin.MEETING,
                              owning_agency_id=agency.id, for_whom=action.for_whom,
                              description=action.description, owner=owner.first_name,
                              risk=action.risk, due_on=due, added_by_person_id=person_id)
    session.add(successor)
    await session.flush()
    follow_up = ActionFollowUp(action_id=successor.id, case_id=case.id,
                               owner_person_id=owner.id, card_sent_at=now)
    session.add(follow_up)
    await session.flush()
    return follow_up, owner.id


async def _representative(session: AsyncSession, marac: Marac, case: Case, agency: Agency,
                          first_name: str) -> Person:
    wanted = first_name.strip().casefold()
    people = await people_with(session, marac.id, (Role.AGENCY_REPRESENTATIVE,), agency.id)
    if case.closed_panel:
        people = closed_panel.admitted_only(case, people)
    found = [p for p in (await session.scalars(select(Person).where(Person.id.in_(people))))
             .all() if wanted and p.first_name.casefold() == wanted]
    if len(found) != 1:
        raise PlanError(f"Name one representative of {agency.name} as the new owner"
                        + (" (one admitted to the closed panel)." if case.closed_panel
                           else "."))
    return found[0]


def _due(text: str, today: date) -> date:
    try:
        due = date.fromisoformat(text.strip())
    except ValueError as error:
        raise PlanError("Give the new owner a due date, e.g. 2026-12-18.") from error
    if due < today:
        raise PlanError("Give the new owner a due date from today on.")
    return due


def _change(decision: Decision, action: PlannedAction, to: Reassignment | None) -> str:
    short = action.description if len(action.description) <= 80 else (
        action.description[:77] + "...")
    if decision is Decision.REASSIGNED and to is not None:
        return f"Action reassigned to {to.agency.strip()} ({to.owner.strip()}): {short}"
    if decision is Decision.CLOSED:
        return f"Action closed by the operations manager: {short}"
    return f"Cannot complete accepted by the operations manager: {short}"


async def review_of(session: AsyncSession, follow_up_id: int) -> tuple[str, list[str]]:
    """The review on record ("" before one) and the agencies an action may be reassigned to."""
    follow_up = await session.get_one(ActionFollowUp, follow_up_id)
    case = await session.get_one(Case, follow_up.case_id)
    meeting = await session.get_one(Meeting, case.meeting_id)
    agencies = (await session.scalars(select(Agency.name).where(
        Agency.marac_id == meeting.marac_id, Agency.signed_sharing_agreement.is_(True))
        .order_by(Agency.name))).all()
    return follow_up.review or "", list(agencies)
