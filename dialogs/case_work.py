"""What is done to a case while its slot runs: agency information, actions, the person who
will update the victim, declarations of knowing someone; and what the case card shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import earlier_plan
from dialogs.dash import BY_KEY
from dialogs.earlier_plan import EarlierAction
from dialogs.meeting import MeetingError
from storage.models import (
    ActionOrigin,
    Agency,
    AgencyInformation,
    Attendance,
    Case,
    CaseStatus,
    ConflictDeclaration,
    Person,
    PlannedAction,
    Referral,
    Role,
)

FOR_WHOM = ("victim", "perpetrator", "children")
NO_INFORMATION = "No relevant information held."


@dataclass(frozen=True)
class InformationLine:
    agency: str
    text: str


@dataclass(frozen=True)
class ActionLine:
    agency: str
    owner: str
    description: str
    for_whom: str
    risk: str
    due_on: date | None
    from_earlier_plan: bool


@dataclass(frozen=True)
class SharedCase:
    """What the case card in a shared channel shows: the number and first name only, and
    where planning stands."""

    number: str
    victim_first_name: str
    status: str  # a CaseStatus value
    declaration_pending: bool
    exceptional: bool

    @classmethod
    def of(cls, case: Case) -> SharedCase:
        return cls(case.number, case.victim_first_name, case.status.value,
                   bool(case.declaration_pending), bool(case.exceptional))


@dataclass(frozen=True)
class CaseView:
    """Everything an entitled person sees of a case."""

    case: Case
    referral: Referral | None
    risks: tuple[str, ...]
    information: tuple[InformationLine, ...]
    actions: tuple[ActionLine, ...]
    earlier: tuple[EarlierAction, ...] = ()  # a repeat: the last plan's actions and outcomes


def _must_be_open(case: Case) -> None:
    if case.status is not CaseStatus.OPEN:
        raise MeetingError(f"{case.number} is not open for planning now.")


async def add_information(session: AsyncSession, case: Case, agency_id: int, text: str,
                          not_involved: bool, person_id: int | None, now: datetime,
                          no_action_reason: str = "") -> None:
    """An agency's research, or "not involved: systems flagged"; sending again replaces it.
    `no_action_reason`: why none of the agency's own actions follows from it, if none does."""
    _must_be_open(case)
    text, no_action_reason = text.strip(), no_action_reason.strip()
    if not text and not not_involved:
        raise MeetingError("Write what your agency holds, or choose not involved.")
    if len(text) > 4000:
        raise MeetingError("Keep the information under 4,000 characters.")
    if len(no_action_reason) > 1000:
        raise MeetingError("Keep the reason for no action under 1,000 characters.")
    found = await session.scalar(select(AgencyInformation).where(
        AgencyInformation.case_id == case.id, AgencyInformation.agency_id == agency_id))
    if found is None:
        found = AgencyInformation(case_id=case.id, agency_id=agency_id, sent_at=now)
        session.add(found)
    found.text = text or "Not involved: systems flagged."
    found.no_action_reason = no_action_reason or None
    found.not_involved, found.sent_by_person_id, found.sent_at = not_involved, person_id, now
    found.before_meeting = found.late = False  # replaced live: it is the meeting's now


async def add_action(session: AsyncSession, case: Case, fields: Mapping[str, object],
                     agencies: Mapping[str, int], person_id: int | None, today: date,
                     source_key: str) -> PlannedAction:
    """An action from the card; the same press twice adds it once."""
    _must_be_open(case)
    if case.exceptional:
        raise MeetingError("No action planning takes place for an exceptional case.")
    done = await session.scalar(select(PlannedAction).where(
        PlannedAction.source_key == source_key))
    if done is not None:
        return done
    action = PlannedAction(
        case_id=case.id, origin=ActionOrigin.MEETING, source_key=source_key,
        owning_agency_id=_agency(fields, agencies), owner=_field(fields, "owner", "an owner"),
        description=_field(fields, "description", "what is to be done"),
        for_whom=_for_whom(fields), risk=_field(fields, "risk", "the risk it addresses"),
        due_on=_due(fields, today), added_by_person_id=person_id,
    )
    session.add(action)
    await session.flush()
    return action


async def may_agree_for(session: AsyncSession, case: Case, roles: frozenset[Role],
                        person_id: int | None, fields: Mapping[str, object],
                        agencies: Mapping[str, int]) -> None:
    """Agencies own their actions: a representative agrees actions for their own agency only;
    the chair and the coordinator for any agency present at the meeting or that sent research
    on the case. Raises MeetingError, in one sentence, otherwise."""
    name = _field(fields, "agency", "an owning agency")
    agency_id = _agency(fields, agencies)
    if roles & {Role.CHAIR, Role.COORDINATOR}:
        present = await session.scalar(select(Attendance.id).where(
            Attendance.meeting_id == case.meeting_id, Attendance.agency_id == agency_id)
            .limit(1))
        researched = await session.scalar(select(AgencyInformation.id).where(
            AgencyInformation.case_id == case.id, AgencyInformation.agency_id == agency_id)
            .limit(1))
        if present is None and researched is None:
            raise MeetingError(f"{name} is not at this meeting and sent no research on "
                               f"{case.number}, so no action can be agreed for it.")
        return
    own = await session.scalar(select(Person.agency_id).where(Person.id == person_id))
    if own != agency_id:
        raise MeetingError(f"You can agree actions for your own agency only; {name}'s "
                           "representative, the chair or the coordinator agrees its actions.")


def _field(fields: Mapping[str, object], key: str, label: str, limit: int = 1000) -> str:
    value = fields.get(key)
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        raise MeetingError(f"An action needs {label}.")
    if len(text) > limit:
        raise MeetingError(f"Keep {label} under {limit} characters.")
    return text


def _agency(fields: Mapping[str, object], agencies: Mapping[str, int]) -> int:
    name = _field(fields, "agency", "an owning agency")
    if name not in agencies:
        raise MeetingError(f"'{name}' is not one of this MARAC's agencies.")
    return agencies[name]


def _for_whom(fields: Mapping[str, object]) -> str:
    value = fields.get("for_whom")
    if value not in FOR_WHOM:
        raise MeetingError("Say whom the action is for: the victim, the perpetrator or the "
                           "children.")
    return str(value)


def _due(fields: Mapping[str, object], today: date) -> date:
    raw = _field(fields, "due_on", "a due date")
    try:
        due = date.fromisoformat(raw)
    except ValueError as error:
        raise MeetingError(f"The due date must be a date like {today.isoformat()}.") from error
    if due < today:
        raise MeetingError("The due date cannot be in the past.")
    return due


def set_victim_contact(case: Case, name: str) -> None:
    _must_be_open(case)
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise MeetingError("Name the person who will update the victim.")
    case.victim_contact = name


async def declare_knowing(session: AsyncSession, case: Case, person_id: int, now: datetime
                          ) -> bool:
    """True for a new declaration (the operations manager is to be told); False if repeated."""
    found = await session.scalar(select(ConflictDeclaration).where(
        ConflictDeclaration.case_id == case.id, ConflictDeclaration.person_id == person_id))
    if found is not None:
        return False
    session.add(ConflictDeclaration(case_id=case.id, person_id=person_id, declared_at=now))
    case.declaration_pending = True
    return True


def information_text(sent: AgencyInformation) -> str:
    """What an agency shared as the case view and the plan show it: research returned before
    the meeting is marked so (and late when it was), with its risks and actions."""
    parts = [sent.text]
    if sent.before_meeting:
        parts.insert(0, "Sent before the meeting" + (", late:" if sent.late else ":"))
        parts += [f"{label}: {value}" for label, value in (
            ("Risks seen", sent.risks), ("Actions already taken", sent.actions_taken),
            ("Actions proposed", sent.actions_proposed)) if value]
    if sent.no_action_reason:
        parts.append(f"No action follows: {sent.no_action_reason}")
    return " ".join(parts)


async def view(session: AsyncSession, case: Case, marac_id: int) -> CaseView:
    referral = await session.get(Referral, case.referral_id) if case.referral_id else None
    agencies = {a.id: a.name for a in (await session.scalars(
        select(Agency).where(Agency.marac_id == marac_id).order_by(Agency.id))).all()}
    sent = {i.agency_id: information_text(i)
            for i in (await session.scalars(select(AgencyInformation).where(
                AgencyInformation.case_id == case.id))).all()}
    information = tuple(InformationLine(name, sent.get(agency_id, NO_INFORMATION))
                        for agency_id, name in agencies.items())
    actions = tuple(ActionLine(
        agencies.get(a.owning_agency_id or 0, "Any agency"), a.owner, a.description, a.for_whom,
        a.risk, a.due_on, a.origin is ActionOrigin.EARLIER_PLAN)
        for a in (await session.scalars(select(PlannedAction).where(
            PlannedAction.case_id == case.id).order_by(PlannedAction.id))).all())
    risks = tuple(BY_KEY[key].text for key, answer in (referral.dash_answers if referral
                                                       else {}).items()
                  if answer == "yes" and key in BY_KEY)
    return CaseView(case, referral, risks, information, actions,
                    await earlier_plan.outcomes(session, referral))

