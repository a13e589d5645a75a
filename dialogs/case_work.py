"""What is done to a case while its slot runs: agency information, actions, the person who
will update the victim, declarations of knowing someone; and what the case card shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import earlier_plan
from dialogs.dash import BY_KEY
from dialogs.earlier_plan import EarlierAction
from dialogs.meeting import CaseToAdvance, MeetingError
from storage.database import core
from storage.models import (
    ActionOrigin,
    Agency,
    AgencyInformation,
    Attendance,
    Case,
    CaseStatus,
    ConflictDeclaration,
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
    def of(cls, case: Case | CaseToAdvance) -> SharedCase:
        return cls(case.number, case.victim_first_name or "", case.status.value,
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
    values = action_values(case, fields, agencies, person_id, today, source_key)
    done = await session.scalar(select(PlannedAction).where(
        PlannedAction.source_key == source_key))
    if done is not None:
        return done
    action = PlannedAction(**values)
    session.add(action)
    await session.flush()
    return action


def action_values(case: Case, fields: Mapping[str, object], agencies: Mapping[str, int],
                  person_id: int | None, today: date, source_key: str) -> dict[str, Any]:
    """The action the card asks for, checked whole before anything is written."""
    _must_be_open(case)
    if case.exceptional:
        raise MeetingError("No action planning takes place for an exceptional case.")
    return {"case_id": case.id, "origin": ActionOrigin.MEETING, "source_key": source_key,
            "owning_agency_id": _agency(fields, agencies),
            "owner": _field(fields, "owner", "an owner"),
            "description": _field(fields, "description", "what is to be done"),
            "for_whom": _for_whom(fields), "risk": _field(fields, "risk", "the risk it addresses"),
            "due_on": _due(fields, today), "added_by_person_id": person_id}


def _insert_once(table: Any, columns: tuple[str, ...], unique: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, the same text on SQLite and PostgreSQL: a repeat
    is refused by the constraint, with no look-up first. As text with typed parameters (the
    encrypted columns are encrypted on the way in), so SQLAlchemy compiles it once."""
    names = ", ".join(columns)
    return text(f"INSERT INTO {table.name} ({names}) VALUES "
                f"({', '.join(':' + c for c in columns)}) ON CONFLICT ({unique}) DO NOTHING"
                ).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


_ADD_ACTION = _insert_once(PlannedAction.__table__, (
    "case_id", "origin", "source_key", "owning_agency_id", "owner", "description", "for_whom",
    "risk", "due_on", "added_by_person_id"), "source_key")


async def add_action_once(session: AsyncSession, record: CaseRecord, values: dict[str, Any]
                          ) -> bool:
    """The action (action_values) added to the case, once: False when this press was
    already served (the same card and inputs), by this replica or another at this instant."""
    if any(line.source_key == values["source_key"] for line in record.actions):
        return False
    inserted = await core(session, _ADD_ACTION, values)
    if inserted.rowcount:
        record.actions.append(ActionRow(
            values["owning_agency_id"], values["owner"], values["description"],
            values["for_whom"], values["risk"], values["due_on"], ActionOrigin.MEETING,
            values["source_key"]))
    return bool(inserted.rowcount)


def may_agree(case: Case, roles: frozenset[Role], own_agency: int | None,
              fields: Mapping[str, object], record: CaseRecord) -> None:
    """Agencies own their actions: a representative agrees actions for their own agency only;
    the chair and the coordinator for any agency present at the meeting or that sent research
    on the case. Raises MeetingError, in one sentence, otherwise."""
    name = _field(fields, "agency", "an owning agency")
    agency_id = _agency(fields, record.agency_ids)
    if roles & {Role.CHAIR, Role.COORDINATOR}:
        line = next(a for a in record.agencies if a.id == agency_id)
        if not line.present and line.sent is None:
            raise MeetingError(f"{name} is not at this meeting and sent no research on "
                               f"{case.number}, so no action can be agreed for it.")
        return
    if own_agency != agency_id:
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


class Sent(Protocol):
    """What an agency shared on a case, as the case view and the plan show it."""

    @property
    def text(self) -> str: ...
    @property
    def before_meeting(self) -> bool: ...
    @property
    def late(self) -> bool: ...
    @property
    def risks(self) -> str | None: ...
    @property
    def actions_taken(self) -> str | None: ...
    @property
    def actions_proposed(self) -> str | None: ...
    @property
    def no_action_reason(self) -> str | None: ...


def information_text(sent: Sent) -> str:
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


@dataclass(frozen=True)
class SentRow:
    text: str
    before_meeting: bool
    late: bool
    risks: str | None
    actions_taken: str | None
    actions_proposed: str | None
    no_action_reason: str | None


@dataclass(frozen=True)
class AgencyLine:
    id: int
    name: str
    present: bool  # someone confirmed attendance for it at the case's meeting
    sent: SentRow | None  # what it shared on the case, if anything


@dataclass(frozen=True)
class ActionRow:
    owning_agency_id: int | None
    owner: str
    description: str
    for_whom: str
    risk: str
    due_on: date | None
    origin: ActionOrigin
    source_key: str | None


@dataclass
class CaseRecord:
    """What a press on a case reads of it, in two statements: the MARAC's agencies (once a
    press) with what each shared on the case, and the case's actions."""

    agencies: tuple[AgencyLine, ...]
    actions: list[ActionRow] = field(default_factory=list)

    @property
    def agency_ids(self) -> dict[str, int]:
        return {a.name: a.id for a in self.agencies}

    @property
    def agency_names(self) -> list[str]:
        return [a.name for a in self.agencies]

    def counts(self) -> tuple[int, int, int]:
        """The case card's figures: agencies that shared, actions agreed at the meeting, and
        how many of those agencies shared before the meeting; nothing decrypted to count."""
        shared = [a.sent for a in self.agencies if a.sent is not None]
        return (len(shared), sum(a.origin is ActionOrigin.MEETING for a in self.actions),
                sum(s.before_meeting for s in shared))

    def view(self, case: Case, referral: Referral | None,
             earlier: tuple[EarlierAction, ...]) -> CaseView:
        names = {a.id: a.name for a in self.agencies}
        information = tuple(InformationLine(a.name, information_text(a.sent) if a.sent
                                            else NO_INFORMATION) for a in self.agencies)
        actions = tuple(ActionLine(
            names.get(a.owning_agency_id or 0, "Any agency"), a.owner, a.description,
            a.for_whom, a.risk, a.due_on, a.origin is ActionOrigin.EARLIER_PLAN)
            for a in self.actions)
        risks = tuple(BY_KEY[key].text for key, answer in (referral.dash_answers if referral
                                                           else {}).items()
                      if answer == "yes" and key in BY_KEY)
        return CaseView(case, referral, risks, information, actions, earlier)


_AGENCIES_WITH_INFORMATION = (
    select(Agency.id, Agency.name,
           exists().where(Attendance.meeting_id == bindparam("meeting"),
                          Attendance.agency_id == Agency.id).label("present"),
           AgencyInformation.id.label("sent_id"), AgencyInformation.text,
           AgencyInformation.before_meeting, AgencyInformation.late, AgencyInformation.risks,
           AgencyInformation.actions_taken, AgencyInformation.actions_proposed,
           AgencyInformation.no_action_reason).select_from(Agency)
    .outerjoin(AgencyInformation, (AgencyInformation.agency_id == Agency.id)
               & (AgencyInformation.case_id == bindparam("case")))
    .where(Agency.marac_id == bindparam("marac")).order_by(Agency.id))
_MEETING_ACTIONS = (select(func.count()).select_from(PlannedAction).where(
    PlannedAction.case_id == bindparam("case"), PlannedAction.origin == ActionOrigin.MEETING)
    .scalar_subquery())
_AGENCY_COUNTS = (
    select(Agency.id, Agency.name,
           AgencyInformation.id.label("sent_id"), AgencyInformation.before_meeting,
           _MEETING_ACTIONS.label("actions"))
    .select_from(Agency).outerjoin(AgencyInformation, (AgencyInformation.agency_id == Agency.id)
               & (AgencyInformation.case_id == bindparam("case")))
    .where(Agency.marac_id == bindparam("marac")).order_by(Agency.id))
_ACTIONS = (select(PlannedAction.owning_agency_id, PlannedAction.owner,
                   PlannedAction.description, PlannedAction.for_whom, PlannedAction.risk,
                   PlannedAction.due_on, PlannedAction.origin, PlannedAction.source_key)
            .where(PlannedAction.case_id == bindparam("case")).order_by(PlannedAction.id))
async def case_record(session: AsyncSession, case: Case, marac_id: int, *,
                      actions: bool = True) -> CaseRecord:
    rows = (await core(session, _AGENCIES_WITH_INFORMATION, {
        "meeting": case.meeting_id, "case": case.id, "marac": marac_id})).all()
    record = CaseRecord(tuple(AgencyLine(row.id, row.name, row.present, SentRow(
        row.text, row.before_meeting, row.late, row.risks, row.actions_taken,
        row.actions_proposed, row.no_action_reason) if row.sent_id is not None else None)
        for row in rows))
    if actions:
        record.actions.extend(ActionRow(*row) for row in (await core(
            session, _ACTIONS, {"case": case.id})).all())
    return record


async def card_counts(session: AsyncSession, case: Case | CaseToAdvance, marac_id: int
                      ) -> tuple[list[str], tuple[int, int, int]]:
    """The case card's agency names and figures (counts), reading no encrypted column."""
    rows = (await core(session, _AGENCY_COUNTS, {"case": case.id, "marac": marac_id})).all()
    actions = rows[0].actions if rows else 0
    shared = [row for row in rows if row.sent_id is not None]
    return ([row.name for row in rows],
            (len(shared), actions, sum(bool(row.before_meeting) for row in shared)))


async def view(session: AsyncSession, case: Case, marac_id: int,
               record: CaseRecord | None = None, referral: Referral | None = None) -> CaseView:
    if referral is None and case.referral_id:
        referral = await session.get(Referral, case.referral_id)
    record = record or await case_record(session, case, marac_id)
    return record.view(case, referral, await earlier_plan.outcomes(session, referral))
