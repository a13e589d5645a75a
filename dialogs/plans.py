"""The action plan as the record (../shared/MARAC.md, "After the meeting"): one versioned plan
per case. The first version is the plan agreed when the chair closed the case; every change
after the meeting (an action done or that cannot be completed, new information) is a new
version that says who changed what, and why. Versions are snapshots: an old one reads as it
was sent, whatever happens to the case later.

Who may see a plan: anyone with a role in the MARAC but an observer (observers get no case
papers); a closed-panel plan only the chair and the people admitted to it; and nobody from an
agency that has not signed the information sharing agreement (002)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.actor import gets_case_papers
from dialogs.case_work import view
from dialogs.refusal import Refusal
from dialogs.safe_text import safe_text, safe_value
from storage.models import (
    ActionFollowUp,
    ActionOrigin,
    ActionStatus,
    Agency,
    Case,
    Dissemination,
    MailMessage,
    Marac,
    Meeting,
    OutboxMessage,
    Person,
    PlanDelivery,
    PlannedAction,
    PlanUpdate,
    PlanVersion,
    Referral,
    Role,
)


class PlanError(Refusal):
    """What was asked of a plan cannot be done; str() is one plain sentence."""


class NotEntitled(PlanError):
    """The person may not see or change this; the answer shows nothing of the case."""


@dataclass(frozen=True)
class PlanAction:
    action_id: int
    agency: str
    owner: str
    description: str
    for_whom: str
    risk: str
    due_on: str | None  # ISO date
    origin: str  # meeting, or prepopulated from the referral
    status: str = ActionStatus.OPEN.value
    note: str = ""  # the done note, or why it cannot be completed


@dataclass(frozen=True)
class PlanUpdateLine:
    at: str  # ISO instant
    by: str  # first name (agency)
    text: str
    risk_raised: bool


@dataclass(frozen=True)
class Plan:
    """Everything a version of the plan holds, as stored (JSON) and as shown."""

    case_number: str
    victim_first_name: str
    marac: str
    meeting_at: str  # ISO instant
    closed_panel: bool
    responsible: tuple[str, ...]  # the attendees: collectively responsible (002)
    referral: dict[str, Any] | None  # qualifying reasons, DASH count, children, referrer
    risks: tuple[str, ...]
    information: tuple[tuple[str, str], ...]  # (agency, what it shared)
    actions: tuple[PlanAction, ...]
    victim_contact: str
    exceptional: str = ""
    exceptional_note: str = ""
    earlier_actions: tuple[str, ...] = ()  # a repeat victim's earlier plan, for information
    earlier_plan: str = ""  # "RIV-2025-014, version 3"
    updates: tuple[PlanUpdateLine, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        values = dict(data)
        values["responsible"] = tuple(values.get("responsible", ()))
        values["risks"] = tuple(values.get("risks", ()))
        values["information"] = tuple(tuple(pair) for pair in values.get("information", ()))
        values["actions"] = tuple(PlanAction(**a) for a in values.get("actions", ()))
        values["earlier_actions"] = tuple(values.get("earlier_actions", ()))
        values["updates"] = tuple(PlanUpdateLine(**u) for u in values.get("updates", ()))
        return cls(**values)


@dataclass(frozen=True)
class PlanSeen:
    """One version of a plan with who made it and why: what `plan CASE` shows."""

    plan: Plan
    version: int
    created_at: datetime
    changed_by: str  # first name, or "the meeting"
    change: str
    reason: str
    versions: int  # how many versions there are


async def case_numbered(session: AsyncSession, marac_id: int, number: str) -> Case:
    case = await session.scalar(
        select(Case).join(Meeting, Meeting.id == Case.meeting_id)
        .where(Meeting.marac_id == marac_id, func.upper(Case.number) == number.strip().upper()))
    if case is None:
        raise PlanError(f"There is no case {number.strip() or '(none given)'} in this MARAC.")
    return case


def refusal(roles: frozenset[Role], person_id: int | None, agency: Agency | None, case: Case
            ) -> str | None:
    """Why this person may not see this case's plan, in one sentence; None if they may."""
    if not gets_case_papers(roles):
        return "Observers do not receive case papers, so I cannot show you a plan."
    if not closed_panel.may_see(case, roles, person_id):
        return closed_panel.refusal(case)
    if agency is not None and not agency.signed_sharing_agreement:
        return (f"{agency.name} has not signed the information sharing agreement, so it cannot "
                "see MARAC plans; ask your coordinator.")
    return None


async def may_see(session: AsyncSession, roles: frozenset[Role], person_id: int | None,
                  case: Case) -> None:
    person = await session.get(Person, person_id) if person_id is not None else None
    agency = (await session.get(Agency, person.agency_id)
              if person is not None and person.agency_id is not None else None)
    refused = refusal(roles, person_id, agency, case)
    if refused is not None:
        raise NotEntitled(refused)


async def build(session: AsyncSession, case: Case) -> Plan:
    """The plan as the store holds it now."""
    meeting = await session.get_one(Meeting, case.meeting_id)
    marac = await session.get_one(Marac, meeting.marac_id)
    seen = await view(session, case, marac.id)
    agencies = {a.id: a.name for a in (await session.scalars(
        select(Agency).where(Agency.marac_id == marac.id))).all()}
    rows = (await session.execute(
        select(PlannedAction, ActionFollowUp)
        .outerjoin(ActionFollowUp, ActionFollowUp.action_id == PlannedAction.id)
        .where(PlannedAction.case_id == case.id).order_by(PlannedAction.id))).tuples().all()
    actions, earlier = [], []
    for action, follow_up in rows:
        agency = agencies.get(action.owning_agency_id or 0, "Any agency")
        if action.origin is ActionOrigin.EARLIER_PLAN:
            earlier.append(f"{agency}: {action.description}")
            continue
        actions.append(PlanAction(
            action.id, agency, action.owner, action.description, action.for_whom, action.risk,
            action.due_on.isoformat() if action.due_on else None, action.origin.value,
            follow_up.status.value if follow_up else ActionStatus.OPEN.value,
            follow_up.note if follow_up else ""))
    referral = seen.referral
    updates = await _updates(session, case)
    return Plan(
        case_number=case.number, victim_first_name=case.victim_first_name, marac=marac.name,
        meeting_at=meeting.starts_at.isoformat(), closed_panel=case.closed_panel,
        responsible=tuple(case.responsible or ()),
        referral=_referral(referral, agencies) if referral else None,
        risks=seen.risks, information=tuple((i.agency, i.text) for i in seen.information),
        actions=tuple(actions), victim_contact=case.victim_contact,
        exceptional=case.exceptional, exceptional_note=case.exceptional_note,
        earlier_actions=tuple(earlier), earlier_plan=await _earlier_label(session, referral),
        updates=updates,
    )


def _referral(referral: Referral, agencies: dict[int, str]) -> dict[str, Any]:
    return {"reasons": list(referral.qualifying_reasons), "dash_yes": referral.dash_yes_count,
            "children": referral.children_in_household,
            "referring_agency": agencies.get(referral.referring_agency_id, ""),
            "repeat": referral.repeat_of_id is not None}


async def _updates(session: AsyncSession, case: Case) -> tuple[PlanUpdateLine, ...]:
    rows = (await session.execute(
        select(PlanUpdate, Person, Agency)
        .outerjoin(Person, Person.id == PlanUpdate.person_id)
        .outerjoin(Agency, Agency.id == PlanUpdate.agency_id)
        .where(PlanUpdate.case_id == case.id).order_by(PlanUpdate.at, PlanUpdate.id))
    ).tuples().all()
    return tuple(PlanUpdateLine(
        update.at.isoformat(),
        f"{person.first_name if person else 'someone'}"
        + (f" ({agency.name})" if agency else ""), update.text, update.risk_raised)
        for update, person, agency in rows)


async def earlier_plan_of(session: AsyncSession, referral: Referral | None
                          ) -> PlanVersion | None:
    """A repeat victim's plan from the hearing their referral repeats: its latest version."""
    if referral is None or referral.repeat_of_id is None:
        return None
    return await session.scalar(
        select(PlanVersion).join(Case, Case.id == PlanVersion.case_id)
        .where(Case.referral_id == referral.repeat_of_id)
        .order_by(PlanVersion.version.desc()).limit(1))


async def _earlier_label(session: AsyncSession, referral: Referral | None) -> str:
    earlier = await earlier_plan_of(session, referral)
    if earlier is None:
        if referral is not None and referral.repeat_of_id is not None:
            return "a repeat: the earlier plan's actions are listed for information"
        return ""
    number = await session.scalar(select(Case.number).where(Case.id == earlier.case_id))
    return f"{number}, version {earlier.version}"


async def record_version(session: AsyncSession, case: Case, person_id: int | None, change: str,
                         reason: str, now: datetime) -> PlanVersion:
    """A new version of the case's plan as it stands now, saying who changed what and why."""
    # One version at a time per case: the row lock queues a second writer behind the first.
    await session.scalar(select(Case.id).where(Case.id == case.id).with_for_update())
    latest = await session.scalar(
        select(func.max(PlanVersion.version)).where(PlanVersion.case_id == case.id)) or 0
    referral = await session.get(Referral, case.referral_id) if case.referral_id else None
    earlier = await earlier_plan_of(session, referral)
    plan = await build(session, case)
    version = PlanVersion(case_id=case.id, version=latest + 1, created_at=now,
                          changed_by_person_id=person_id, change=change, reason=reason,
                          content=plan.to_json(),
                          earlier_plan_id=earlier.id if earlier else None)
    session.add(version)
    await session.flush()
    return version


async def current(session: AsyncSession, case: Case) -> PlanVersion | None:
    return await session.scalar(
        select(PlanVersion).where(PlanVersion.case_id == case.id)
        .order_by(PlanVersion.version.desc()).limit(1))


async def seen_version(session: AsyncSession, version: PlanVersion) -> PlanSeen:
    who = "the meeting"
    if version.changed_by_person_id is not None:
        person = await session.get_one(Person, version.changed_by_person_id)
        who = person.first_name
    count = await session.scalar(select(func.count()).select_from(PlanVersion).where(
        PlanVersion.case_id == version.case_id)) or 0
    return PlanSeen(Plan.from_json(safe_value(version.content)), version.version,
                    version.created_at, who, safe_text(version.change), safe_text(version.reason),
                    count)


async def show(session: AsyncSession, marac_id: int, number: str, roles: frozenset[Role],
               person_id: int | None) -> PlanSeen:
    """`plan CASE`: the current version, to those entitled to it."""
    case = await case_numbered(session, marac_id, number)
    await may_see(session, roles, person_id, case)
    version = await current(session, case)
    if version is None:
        raise PlanError(f"{case.number} has no plan yet: it is written when the chair closes "
                        "the case at the meeting.")
    return await seen_version(session, version)


def due_date(action: PlanAction) -> date | None:
    return date.fromisoformat(action.due_on) if action.due_on else None


async def purge_plans(session: AsyncSession, case_ids: list[int]) -> None:
    """Everything after the meeting held for these cases (plan versions, dissemination and
    its deliveries and emails, action follow-ups, updates), for retention to run before it
    deletes the cases and their actions. A later repeat's link to a purged plan is cut."""
    if not case_ids:
        return
    versions = select(PlanVersion.id).where(PlanVersion.case_id.in_(case_ids))
    disseminations = select(Dissemination.id).where(Dissemination.case_id.in_(case_ids))
    messages = (await session.scalars(select(PlanDelivery.outbox_id).where(
        PlanDelivery.dissemination_id.in_(disseminations),
        PlanDelivery.outbox_id.is_not(None)))).all()
    await session.execute(delete(PlanDelivery).where(
        PlanDelivery.dissemination_id.in_(disseminations)))
    await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(messages)))
    await session.execute(delete(MailMessage).where(MailMessage.plan_version_id.in_(versions)))
    await session.execute(delete(Dissemination).where(Dissemination.case_id.in_(case_ids)))
    await session.execute(delete(ActionFollowUp).where(ActionFollowUp.case_id.in_(case_ids)))
    await session.execute(delete(PlanUpdate).where(PlanUpdate.case_id.in_(case_ids)))
    await session.execute(update(PlanVersion).where(PlanVersion.earlier_plan_id.in_(versions))
                          .values(earlier_plan_id=None))
    await session.execute(delete(PlanVersion).where(PlanVersion.case_id.in_(case_ids)))
