"""Acknowledgement in chat (../shared/MARAC.md, "After the meeting"): each action agreed at the
meeting goes to its owner, who acknowledges it, marks it done (with a note), or says it cannot
be completed (with the reason). An action that cannot be completed changes the plan, and the
coordinator and the operations manager are told: the operations manager decides on follow-up
(002). Owners who have not acknowledged within 2 working days are reminded, and every open
action is reminded on its due date; each reminder is claimed once, in the database."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.people import people_with
from dialogs.plans import NotEntitled, PlanError, record_version
from dialogs.scheduling import calendar_of
from storage.models import (
    ActionFollowUp,
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

ACKNOWLEDGE_WORKING_DAYS = 2
DUE_REMINDER_AT = time(9, 0)
OPEN = (ActionStatus.OPEN, ActionStatus.ACKNOWLEDGED)


class Verb(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DONE = "done"
    CANNOT = "cannot"


@dataclass(frozen=True)
class OwnedAction:
    """An action as its owner's card shows it."""

    follow_up_id: int
    case_number: str
    victim_first_name: str
    marac: str
    agency: str
    owner: str
    description: str
    for_whom: str
    risk: str
    due_on: date | None
    status: ActionStatus
    note: str

    @property
    def awaits_acknowledgement(self) -> bool:
        return self.status is ActionStatus.OPEN

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


def follow_ups() -> Select[tuple[ActionFollowUp, PlannedAction, Case, Agency, Marac]]:
    """Follow-ups with their action, case, owning agency and MARAC."""
    return (select(ActionFollowUp, PlannedAction, Case, Agency, Marac)
            .join(PlannedAction, PlannedAction.id == ActionFollowUp.action_id)
            .join(Case, Case.id == ActionFollowUp.case_id)
            .join(Meeting, Meeting.id == Case.meeting_id)
            .join(Marac, Marac.id == Meeting.marac_id)
            .outerjoin(Agency, Agency.id == PlannedAction.owning_agency_id))


async def owned(session: AsyncSession, follow_up_id: int) -> OwnedAction:
    row = (await session.execute(
        follow_ups()
        .where(ActionFollowUp.id == follow_up_id))).tuples().first()
    if row is None:
        raise PlanError("That action is not on any plan.")
    return as_owned(*row)


def as_owned(follow_up: ActionFollowUp, action: PlannedAction, case: Case, agency: Agency | None,
           marac: Marac) -> OwnedAction:
    return OwnedAction(follow_up.id, case.number, case.victim_first_name, marac.name,
                       agency.name if agency else "Any agency", action.owner,
                       action.description, action.for_whom, action.risk, action.due_on,
                       follow_up.status, follow_up.note)


@dataclass(frozen=True)
class Answered:
    action: OwnedAction
    changed: bool  # False: pressed again, nothing new
    version: PlanVersion | None  # the plan's new version, when the answer changed the plan
    answered_by: str
    tell: tuple[int, ...]  # coordinators and operations managers, when it cannot be completed
    reviewers: tuple[int, ...] = ()  # of those, the operations managers, who review it


async def may_answer(session: AsyncSession, follow_up: ActionFollowUp, action: PlannedAction,
                     marac_id: int, person: Person) -> bool:
    """The owner; any representative of the owning agency when no one owner is known; or a
    coordinator of the MARAC, who keeps the plan current."""
    if follow_up.owner_person_id == person.id:
        return True
    roles = set((await session.scalars(select(RoleGrant.role).where(
        RoleGrant.person_id == person.id, RoleGrant.marac_id == marac_id))).all())
    if Role.COORDINATOR in roles:
        return True
    return (follow_up.owner_person_id is None and Role.AGENCY_REPRESENTATIVE in roles
            and person.agency_id is not None and person.agency_id == action.owning_agency_id)


async def answer(session: AsyncSession, follow_up_id: int, person_id: int | None, verb: Verb,
                 text: str, now: datetime) -> Answered:
    row = (await session.execute(
        select(ActionFollowUp, PlannedAction, Case, Meeting)
        .join(PlannedAction, PlannedAction.id == ActionFollowUp.action_id)
        .join(Case, Case.id == ActionFollowUp.case_id)
        .join(Meeting, Meeting.id == Case.meeting_id)
        .where(ActionFollowUp.id == follow_up_id)
        .with_for_update(of=ActionFollowUp))).tuples().first()
    if row is None or person_id is None:
        raise PlanError("That action is not on any plan.")
    follow_up, action, case, meeting = row
    person = await session.get_one(Person, person_id)
    if not await may_answer(session, follow_up, action, meeting.marac_id, person):
        raise NotEntitled("Only the action's owner, their agency or the coordinator can answer "
                        "for this action.")
    text = " ".join(text.split())[:1000]
    changed, version, tell = await _apply(session, follow_up, action, case, meeting, person,
                                          verb, text, now)
    reviewers = await people_with(session, meeting.marac_id,
                                  (Role.OPERATIONS_MANAGER,)) if tell else ()
    return Answered(await owned(session, follow_up_id), changed, version, person.first_name,
                    tell, reviewers)


async def _apply(session: AsyncSession, follow_up: ActionFollowUp, action: PlannedAction,
                 case: Case, meeting: Meeting, person: Person, verb: Verb, text: str,
                 now: datetime) -> tuple[bool, PlanVersion | None, tuple[int, ...]]:
    closed = follow_up.status in (ActionStatus.DONE, ActionStatus.CANNOT_COMPLETE)
    if verb is Verb.ACKNOWLEDGE:
        if follow_up.acknowledged_at is not None or closed:
            return False, None, ()
        follow_up.status, follow_up.acknowledged_at = ActionStatus.ACKNOWLEDGED, now
        follow_up.answered_by_person_id = person.id
        return True, None, ()
    wanted = ActionStatus.DONE if verb is Verb.DONE else ActionStatus.CANNOT_COMPLETE
    if follow_up.status is wanted:
        return False, None, ()  # pressed again
    if closed:
        marked = "done" if follow_up.status is ActionStatus.DONE else "cannot be completed"
        raise PlanError(f"This action is already marked {marked}; ask the coordinator to "
                        "change the plan.")
    if verb is Verb.CANNOT and not text:
        raise PlanError("Say why the action cannot be completed.")
    follow_up.status, follow_up.closed_at, follow_up.note = wanted, now, text
    follow_up.acknowledged_at = follow_up.acknowledged_at or now
    follow_up.answered_by_person_id = person.id
    await session.flush()
    short = action.description if len(action.description) <= 80 else (
        action.description[:77] + "...")
    if verb is Verb.DONE:
        version = await record_version(session, case, person.id, f"Action done: {short}",
                                       text or "Marked done by its owner.", now)
        return True, version, ()
    version = await record_version(session, case, person.id,
                                   f"Action cannot be completed: {short}", text, now)
    tell = await people_with(session, meeting.marac_id,
                             (Role.COORDINATOR, Role.OPERATIONS_MANAGER))
    return True, version, tell


async def open_actions(session: AsyncSession, person_id: int, marac_id: int | None = None
                       ) -> list[OwnedAction]:
    """`my actions`: the person's open actions across cases (of one MARAC, with `marac_id`),
    soonest due first."""
    person = await session.get_one(Person, person_id)
    mine = ActionFollowUp.owner_person_id == person.id
    if person.agency_id is not None:
        mine = or_(mine, (ActionFollowUp.owner_person_id.is_(None))
                   & (PlannedAction.owning_agency_id == person.agency_id))
    rows = (await session.execute(
        follow_ups()
        .where(ActionFollowUp.status.in_(OPEN), mine,
               *(() if marac_id is None else (Marac.id == marac_id,))))).tuples().all()
    actions = [as_owned(*row) for row in rows]
    return sorted(actions, key=lambda a: (a.due_on or date.max, a.case_number, a.follow_up_id))


@dataclass(frozen=True)
class ActionReminder:
    action: OwnedAction
    due: bool  # True: the due date has come; False: not acknowledged in 2 working days
    recipients: tuple[int, ...]


def acknowledge_by(marac: Marac, card_sent_at: datetime) -> datetime:
    """2 working days after the card was sent, at the same time of day."""
    zone = ZoneInfo(marac.timezone)
    sent = card_sent_at.astimezone(zone)
    day = calendar_of(marac).add(sent.date(), ACKNOWLEDGE_WORKING_DAYS)
    return datetime.combine(day, sent.timetz().replace(tzinfo=None), tzinfo=zone)


def due_reminder_at(marac: Marac, due_on: date) -> datetime:
    return datetime.combine(due_on, DUE_REMINDER_AT, tzinfo=ZoneInfo(marac.timezone))


async def claim_reminders(session: AsyncSession, now: datetime) -> list[ActionReminder]:
    rows = (await session.execute(
        follow_ups()
        .where(ActionFollowUp.status.in_(OPEN),
               or_(ActionFollowUp.acknowledge_reminded_at.is_(None),
                   ActionFollowUp.due_reminded_at.is_(None)))
        .order_by(ActionFollowUp.id)
        .with_for_update(of=ActionFollowUp, skip_locked=True))).tuples().all()
    reminders = []
    for follow_up, action, case, agency, marac in rows:
        kinds = []
        if (follow_up.acknowledge_reminded_at is None and follow_up.acknowledged_at is None
                and acknowledge_by(marac, follow_up.card_sent_at) <= now):
            follow_up.acknowledge_reminded_at = now
            kinds.append(False)
        if (follow_up.due_reminded_at is None and action.due_on is not None
                and due_reminder_at(marac, action.due_on) <= now):
            follow_up.due_reminded_at = now
            kinds.append(True)
        if not kinds:
            continue
        recipients = await _answerers(session, follow_up, action, case, marac)
        for due in kinds:
            reminders.append(ActionReminder(as_owned(follow_up, action, case, agency, marac), due,
                                            recipients))
    return reminders


async def _answerers(session: AsyncSession, follow_up: ActionFollowUp, action: PlannedAction,
                     case: Case, marac: Marac) -> tuple[int, ...]:
    if follow_up.owner_person_id is not None:
        return (follow_up.owner_person_id,)
    people = await people_with(session, marac.id, (Role.AGENCY_REPRESENTATIVE,),
                               action.owning_agency_id)
    return closed_panel.admitted_only(case, people)
