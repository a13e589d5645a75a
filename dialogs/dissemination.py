"""Dissemination within 48 hours (../shared/MARAC.md, "After the meeting" and "Information
governance"). When the chair closes a case (or at the latest when the meeting ends) its plan is
written as version 1 and queued for every core agency and every agency that took part in the
planning or was given an action, but only for agencies that have signed the information
sharing agreement: any other is recorded as withheld and the coordinator is told. A closed
panel's plan goes only to the people admitted to it.

The deadline runs from the end of the meeting. Undelivered at 36 hours, the coordinators are
alerted; at 48 hours, the operations manager. Each alert is claimed once, in the database, so a
restart or a second replica never repeats one nor loses one.

Recipients are Person rows (an agency's representatives) and agency secure mailboxes; nothing
recorded about a perpetrator can be either."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.people import people_with
from dialogs.plans import Plan, record_version
from storage.models import (
    ActionFollowUp,
    ActionOrigin,
    Agency,
    AgencyInformation,
    AgencyMailbox,
    Attendance,
    AttendanceRole,
    Case,
    CaseStatus,
    DeliveryKind,
    Dissemination,
    MailMessage,
    Marac,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Person,
    PlanDelivery,
    PlannedAction,
    PlanVersion,
    Role,
)

DEADLINE = timedelta(hours=48)  # from the end of the meeting (002)
COORDINATOR_ALERT = timedelta(hours=36)
LOOKBACK = timedelta(days=14)  # cases closed before this are history, not dissemination
SETTLE = timedelta(minutes=1)  # a plan just queued is given one delivery round before alerts

CORE, TOOK_PART, ACTION = "core agency", "took part in the planning", "given an action"
NO_AGREEMENT = "has not signed the information sharing agreement"
CLOSED_PANEL = "closed panel: nobody from the agency was admitted"


@dataclass(frozen=True)
class Recipient:
    """One agency the plan is for, and how it reaches it (or why it does not)."""

    agency_id: int
    agency: str
    why: tuple[str, ...]
    people: tuple[int, ...]  # representatives, each sent the plan card 1:1
    mailbox_id: int | None
    withheld: str = ""  # why it is withheld; empty when it is sent

    @property
    def reachable(self) -> bool:
        return bool(self.people or self.mailbox_id)


@dataclass(frozen=True)
class ActionCard:
    """An action agreed at the meeting, for its owner to acknowledge."""

    follow_up: ActionFollowUp
    action: PlannedAction
    agency: str
    recipients: tuple[int, ...]


@dataclass(frozen=True)
class Queued:
    """A case's plan, just written and queued: the bot attaches a card to each delivery."""

    marac: Marac
    case: Case
    dissemination: Dissemination
    version: PlanVersion
    plan: Plan
    recipients: tuple[Recipient, ...]
    deliveries: tuple[PlanDelivery, ...]  # the Teams ones wait for their outbox message
    actions: tuple[ActionCard, ...]
    unsent_actions: tuple[str, ...]  # actions whose agency is withheld or unreachable
    coordinators: tuple[int, ...]


async def claim_closed_cases(session: AsyncSession, now: datetime) -> list[Queued]:
    """Cases closed at a meeting and not yet disseminated: each gets its first plan version,
    its dissemination record and its deliveries, once. A case the chair reopened (`back`)
    after its plan went out and closed again is written and sent again."""
    under_way_or_ended = Meeting.status.in_((MeetingStatus.RUNNING, MeetingStatus.PAUSED,
                                             MeetingStatus.ENDED))
    rows = (await session.execute(
        select(Case, Meeting, Marac).join(Meeting, Meeting.id == Case.meeting_id)
        .join(Marac, Marac.id == Meeting.marac_id)
        .outerjoin(Dissemination, Dissemination.case_id == Case.id)
        .where(Case.status == CaseStatus.CLOSED, Case.closed_at >= now - LOOKBACK,
               Dissemination.id.is_(None), under_way_or_ended)
        .order_by(Case.closed_at, Case.id)
        .with_for_update(of=Case, skip_locked=True))).tuples().all()
    # The "not yet disseminated" above was read before the cases' locks were had: another
    # replica may have written the dissemination and let go of the case since (PostgreSQL
    # rechecks a locked row, not the rows joined to it). A fresh statement sees its commit.
    done = set((await session.scalars(select(Dissemination.case_id).where(
        Dissemination.case_id.in_([case.id for case, _, _ in rows])))).all()) if rows else set()
    queued = [await _queue(session, marac, meeting, case, None, now)
              for case, meeting, marac in rows if case.id not in done]
    again = (await session.execute(
        select(Case, Meeting, Marac, Dissemination).join(Meeting, Meeting.id == Case.meeting_id)
        .join(Marac, Marac.id == Meeting.marac_id)
        .join(Dissemination, Dissemination.case_id == Case.id)
        .where(Case.status == CaseStatus.CLOSED, Case.closed_at >= now - LOOKBACK,
               Case.closed_at > Dissemination.queued_at, under_way_or_ended)
        .order_by(Case.closed_at, Case.id)
        .with_for_update(of=Dissemination, skip_locked=True))).tuples().all()
    return queued + [await _queue(session, marac, meeting, case, dissemination, now)
                     for case, meeting, marac, dissemination in again]


async def _queue(session: AsyncSession, marac: Marac, meeting: Meeting, case: Case,
                 dissemination: Dissemination | None, now: datetime) -> Queued:
    when = (case.closed_at or now).astimezone(ZoneInfo(marac.timezone)).strftime("%d %B %Y")
    # The timer's clock is read before its first statement waits for a turn's write, so a
    # case closed in that moment can carry a closed_at after `now`: stamped no earlier than
    # the close, its plan is not then taken for one closed again after it was queued.
    queued_at = max(now, case.closed_at) if case.closed_at else now
    if dissemination is None:
        version = await record_version(session, case, None, "The plan agreed at the meeting.",
                                       f"{case.number} was closed at the meeting of {when}.",
                                       now)
        dissemination = Dissemination(
            case_id=case.id, meeting_id=meeting.id, plan_version_id=version.id,
            queued_at=queued_at,
            deadline_at=meeting.ended_at + DEADLINE if meeting.ended_at else None)
        session.add(dissemination)
    else:
        version = await record_version(
            session, case, None, "The plan agreed at the meeting, reopened and closed again.",
            f"The chair reopened {case.number} at the meeting of {when} and closed it again.",
            now)
        dissemination.plan_version_id, dissemination.queued_at = version.id, queued_at
    await session.flush()
    recipients = await recipients_of(session, marac, meeting, case)
    deliveries: list[PlanDelivery] = []
    for recipient in recipients:
        deliveries += await _deliveries(session, dissemination, version, recipient, case, now)
    await session.flush()
    by_agency = {r.agency_id: r for r in recipients}
    cards, unsent = await _action_cards(session, case, by_agency, now)
    return Queued(marac, case, dissemination, version, Plan.from_json(version.content),
                  tuple(recipients), tuple(deliveries), tuple(cards), tuple(unsent),
                  await people_with(session, marac.id, (Role.COORDINATOR,)))


async def _deliveries(session: AsyncSession, dissemination: Dissemination,
                      version: PlanVersion, recipient: Recipient, case: Case, now: datetime
                      ) -> list[PlanDelivery]:
    why = ", ".join(recipient.why)

    def delivery(kind: DeliveryKind, **values: object) -> PlanDelivery:
        row = PlanDelivery(dissemination_id=dissemination.id, plan_version_id=version.id,
                           agency_id=recipient.agency_id, why=why, kind=kind, **values)
        session.add(row)
        return row

    if recipient.withheld:
        return [delivery(DeliveryKind.WITHHELD, note=recipient.withheld,
                         failure_reported_at=now)]
    if not recipient.reachable:
        return [delivery(DeliveryKind.NO_RECIPIENT,
                         note="No representative or secure mailbox is on record.",
                         failure_reported_at=now)]
    rows = [delivery(DeliveryKind.TEAMS, person_id=person) for person in recipient.people]
    if recipient.mailbox_id is not None:
        mail = MailMessage(mailbox_id=recipient.mailbox_id, plan_version_id=version.id,
                           subject=f"MARAC action plan {case.number}", created_at=now,
                           next_attempt_at=now)
        session.add(mail)
        await session.flush()
        rows.append(delivery(DeliveryKind.EMAIL, mail_id=mail.id))
    return rows


async def recipients_of(session: AsyncSession, marac: Marac, meeting: Meeting, case: Case
                        ) -> list[Recipient]:
    """Every core agency, every agency that took part in the planning (was represented at the
    meeting or shared information) and every agency given an action (002)."""
    agencies = (await session.scalars(
        select(Agency).where(Agency.marac_id == marac.id).order_by(Agency.id))).all()
    admitted = set(case.admitted_person_ids or [])
    present = set((await session.scalars(select(Attendance.agency_id).where(
        Attendance.meeting_id == meeting.id,
        Attendance.role == AttendanceRole.AGENCY_REPRESENTATIVE,
        Attendance.agency_id.is_not(None),
        *((Attendance.person_id.in_(admitted),) if case.closed_panel else ())))).all())
    shared = set((await session.scalars(select(AgencyInformation.agency_id).where(
        AgencyInformation.case_id == case.id, AgencyInformation.not_involved.is_(False)))).all())
    actioned = set((await session.scalars(select(PlannedAction.owning_agency_id).where(
        PlannedAction.case_id == case.id,
        PlannedAction.origin != ActionOrigin.EARLIER_PLAN))).all())
    mailboxes = dict((await session.execute(select(AgencyMailbox.agency_id, AgencyMailbox.id)))
                     .tuples().all())
    recipients = []
    for agency in agencies:
        why = tuple(reason for reason, holds in (
            (CORE, agency.is_core), (TOOK_PART, agency.id in present | shared),
            (ACTION, agency.id in actioned)) if holds)
        if not why:
            continue
        people = await people_with(session, marac.id, (Role.AGENCY_REPRESENTATIVE,), agency.id)
        mailbox = mailboxes.get(agency.id)
        withheld = ""
        if not agency.signed_sharing_agreement:
            withheld = NO_AGREEMENT
        elif case.closed_panel:
            people = closed_panel.admitted_only(case, people)
            mailbox = None  # a shared mailbox is read by people who were not admitted
            withheld = "" if people else CLOSED_PANEL
        recipients.append(Recipient(agency.id, agency.name, why, people, mailbox, withheld))
    return recipients


async def _action_cards(session: AsyncSession, case: Case, recipients: dict[int, Recipient],
                        now: datetime) -> tuple[list[ActionCard], list[str]]:
    followed = select(ActionFollowUp.action_id).where(ActionFollowUp.case_id == case.id)
    actions = (await session.scalars(select(PlannedAction).where(
        PlannedAction.case_id == case.id, PlannedAction.origin == ActionOrigin.MEETING,
        PlannedAction.id.not_in(followed)).order_by(PlannedAction.id))).all()
    cards, unsent = [], []
    for action in actions:
        recipient = recipients.get(action.owning_agency_id or 0)
        if recipient is None or recipient.withheld or not recipient.people:
            unsent.append(f"{recipient.agency if recipient else 'no agency'}: "
                          f"{action.description}")
            continue
        owner = await owner_of(session, action, recipient.people)
        follow_up = ActionFollowUp(action_id=action.id, case_id=case.id,
                                   owner_person_id=owner, card_sent_at=now)
        session.add(follow_up)
        cards.append(ActionCard(follow_up, action, recipient.agency,
                                (owner,) if owner is not None else recipient.people))
    await session.flush()
    return cards, unsent


async def owner_of(session: AsyncSession, action: PlannedAction, people: tuple[int, ...]
                   ) -> int | None:
    """The one representative of the owning agency whose first name the action names."""
    wanted = action.owner.split()[0].casefold() if action.owner.split() else ""
    matches = [p.id for p in (await session.scalars(
        select(Person).where(Person.id.in_(people)))).all()
        if p.first_name.casefold() == wanted]
    return matches[0] if len(matches) == 1 else None


# --- the 48-hour clock -------------------------------------------------------------------

async def start_clocks(session: AsyncSession) -> None:
    """A meeting has ended: its plans' 48 hours run from its end."""
    rows = (await session.execute(
        select(Dissemination, Meeting).join(Meeting, Meeting.id == Dissemination.meeting_id)
        .where(Dissemination.deadline_at.is_(None), Meeting.ended_at.is_not(None))
        .with_for_update(of=Dissemination, skip_locked=True))).tuples().all()
    for dissemination, meeting in rows:
        assert meeting.ended_at is not None
        dissemination.deadline_at = meeting.ended_at + DEADLINE


@dataclass(frozen=True)
class AgencyState:
    agency: str
    why: str
    state: str  # delivered, pending, failed, withheld
    detail: str = ""
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class CaseState:
    number: str
    first_name: str
    closed_panel: bool
    queued_at: datetime
    deadline_at: datetime | None
    agencies: tuple[AgencyState, ...]

    def count(self, state: str) -> int:
        return sum(1 for a in self.agencies if a.state == state)

    @property
    def undelivered(self) -> tuple[AgencyState, ...]:
        return tuple(a for a in self.agencies if a.state in ("pending", "failed"))

    @property
    def delivered_at(self) -> datetime | None:
        """When the last agency had it, once every agency sent to has it."""
        if self.undelivered:
            return None
        times = [a.delivered_at for a in self.agencies if a.delivered_at]
        return max(times) if times else None


async def state_of(session: AsyncSession, dissemination: Dissemination) -> CaseState:
    case = await session.get_one(Case, dissemination.case_id)
    rows = (await session.execute(
        select(PlanDelivery, Agency, OutboxMessage, MailMessage)
        .join(Agency, Agency.id == PlanDelivery.agency_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == PlanDelivery.outbox_id)
        .outerjoin(MailMessage, MailMessage.id == PlanDelivery.mail_id)
        .where(PlanDelivery.dissemination_id == dissemination.id,
               PlanDelivery.plan_version_id == dissemination.plan_version_id)
        .order_by(Agency.id, PlanDelivery.id))).tuples().all()
    grouped: dict[int, list[tuple[PlanDelivery, Agency, OutboxMessage | None,
                                  MailMessage | None]]] = {}
    for row in rows:
        grouped.setdefault(row[1].id, []).append(row)
    return CaseState(case.number, case.victim_first_name, case.closed_panel,
                     dissemination.queued_at, dissemination.deadline_at,
                     tuple(_agency_state(group) for group in grouped.values()))


def _agency_state(group: list[tuple[PlanDelivery, Agency, OutboxMessage | None,
                                    MailMessage | None]]) -> AgencyState:
    first, agency = group[0][0], group[0][1]
    if first.kind is DeliveryKind.WITHHELD:
        return AgencyState(agency.name, first.why, "withheld", first.note)
    if first.kind is DeliveryKind.NO_RECIPIENT:
        return AgencyState(agency.name, first.why, "failed", first.note)
    carriers = [outbox or mail for _, _, outbox, mail in group]
    delivered = [c.delivered_at for c in carriers if c is not None and c.delivered_at]
    if delivered:
        return AgencyState(agency.name, first.why, "delivered", delivered_at=min(delivered))
    errors = [c.last_error for c in carriers if c is not None and c.last_error]
    if all(c is not None and c.failed_at for c in carriers):
        return AgencyState(agency.name, first.why, "failed", errors[-1] if errors else "")
    return AgencyState(agency.name, first.why, "pending", errors[-1] if errors else "")


async def status(session: AsyncSession, marac_id: int, now: datetime) -> list[CaseState]:
    """`dissemination`: every plan still going out, and those of the last two weeks."""
    disseminations = (await session.scalars(
        select(Dissemination).join(Meeting, Meeting.id == Dissemination.meeting_id)
        .where(Meeting.marac_id == marac_id, Dissemination.queued_at >= now - LOOKBACK)
        .order_by(Dissemination.queued_at, Dissemination.id))).all()
    return [await state_of(session, d) for d in disseminations]


@dataclass(frozen=True)
class Alert:
    marac: Marac
    state: CaseState
    to_manager: bool  # False: the coordinators at 36 hours; True: the operations manager at 48
    recipients: tuple[int, ...]


async def claim_alerts(session: AsyncSession, now: datetime) -> list[Alert]:
    """Plans still undelivered 36 and 48 hours after the meeting: each alert claimed once."""
    rows = (await session.execute(
        select(Dissemination, Marac).join(Meeting, Meeting.id == Dissemination.meeting_id)
        .join(Marac, Marac.id == Meeting.marac_id)
        .where(Dissemination.deadline_at.is_not(None),
               Dissemination.deadline_at <= now + (DEADLINE - COORDINATOR_ALERT),
               Dissemination.queued_at <= now - SETTLE,
               Dissemination.manager_alerted_at.is_(None))
        .order_by(Dissemination.id)
        .with_for_update(of=Dissemination, skip_locked=True))).tuples().all()
    alerts = []
    for dissemination, marac in rows:
        state = await state_of(session, dissemination)
        if not state.undelivered:
            continue
        deadline = dissemination.deadline_at
        assert deadline is not None
        if dissemination.coordinator_alerted_at is None:
            dissemination.coordinator_alerted_at = now
            alerts.append(Alert(marac, state, False,
                                await people_with(session, marac.id, (Role.COORDINATOR,))))
        if now >= deadline:
            dissemination.manager_alerted_at = now
            alerts.append(Alert(marac, state, True, await people_with(
                session, marac.id, (Role.OPERATIONS_MANAGER,))))
    return alerts


@dataclass(frozen=True)
class Failure:
    marac: Marac
    number: str
    agency: str
    reason: str
    coordinators: tuple[int, ...]


async def claim_failures(session: AsyncSession) -> list[Failure]:
    """Deliveries that have failed for good, each reported to the coordinators once."""
    rows = (await session.execute(
        select(PlanDelivery, Agency, Case, Marac, OutboxMessage, MailMessage)
        .join(Agency, Agency.id == PlanDelivery.agency_id)
        .join(Dissemination, Dissemination.id == PlanDelivery.dissemination_id)
        .join(Case, Case.id == Dissemination.case_id)
        .join(Marac, Marac.id == Agency.marac_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == PlanDelivery.outbox_id)
        .outerjoin(MailMessage, MailMessage.id == PlanDelivery.mail_id)
        .where(PlanDelivery.failure_reported_at.is_(None),
               (OutboxMessage.failed_at.is_not(None)) | (MailMessage.failed_at.is_not(None)))
        .order_by(PlanDelivery.id)
        .with_for_update(of=PlanDelivery, skip_locked=True))).tuples().all()
    failures = []
    for delivery, agency, case, marac, outbox, mail in rows:
        carrier = outbox or mail
        delivery.failure_reported_at = carrier.failed_at if carrier else None
        how = "email"
        if delivery.kind is DeliveryKind.TEAMS and delivery.person_id is not None:
            person = await session.get_one(Person, delivery.person_id)
            how = f"Teams message to {person.first_name}"
        failures.append(Failure(marac, case.number, f"{agency.name} ({how})",
                                carrier.last_error if carrier else "",
                                await people_with(session, marac.id, (Role.COORDINATOR,))))
    return failures


async def set_mailbox(session: AsyncSession, marac_name: str, agency_name: str, address: str
                      ) -> str:
    """`marac mailbox`: an agency's secure mailbox for plans by email, or none (empty)."""
    agency = await session.scalar(
        select(Agency).join(Marac, Marac.id == Agency.marac_id)
        .where(Marac.name == marac_name, Agency.name == agency_name))
    if agency is None:
        raise ValueError(f"There is no agency {agency_name!r} in a MARAC named {marac_name!r}.")
    address = address.strip()
    found = await session.scalar(select(AgencyMailbox).where(
        AgencyMailbox.agency_id == agency.id))
    if not address:
        if found is not None:
            await session.delete(found)
        return f"{agency.name} has no secure mailbox now: plans reach it in Teams only."
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address) or len(address) > 320:
        raise ValueError(f"{address!r} is not an email address.")
    if found is None:
        session.add(AgencyMailbox(agency_id=agency.id, address=address))
    else:
        found.address = address
    return f"{agency.name}'s plans are also emailed to {address}."
