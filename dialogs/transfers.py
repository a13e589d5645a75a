"""MARAC-to-MARAC transfers (../shared/MARAC.md, "After the meeting"; 002 §11): a victim whose
case was heard here has moved to another MARAC's area.

Out: the chair while the case's meeting runs, or the coordinator at any time, records the move
and names the receiving MARAC. The referral document (bot.features.transfers) carries the
case's plans; the referring agency is told that it must inform the partners. When the
receiving MARAC is run by this bot, the transfer arrives in its triage as a referral of its
own, with the earlier plans, provided both MARACs' sharing agreements allow it: the referring
agency has signed here, and the same agency has signed there.

In: a transfer is marked as one and shows where it came from on triage and the agenda. The
sending hearing counts as the victim's last hearing for the receiving MARAC's 12-month repeat
rule, the transfer's receipt standing for the new incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.criteria import Assessment, CriteriaError, assess
from dialogs.people import people_with
from dialogs.plans import PlanError, case_numbered, current, seen_version
from dialogs.referrals import last_heard
from dialogs.refusal import Refusal
from dialogs.scheduling import local_today
from storage.models import (
    Agency,
    Case,
    Marac,
    Meeting,
    MeetingStatus,
    Person,
    PlanVersion,
    Referral,
    ReferralSource,
    ReferralStatus,
    Role,
    Transfer,
    TransferDelivery,
)

NAME_MOST = 200


class TransferError(Refusal):
    """One plain sentence."""


@dataclass(frozen=True)
class Recorded:
    """A transfer recorded: who is to be told what."""

    transfer: Transfer
    case_number: str
    from_marac: str
    to_marac: str
    referring_agency_people: tuple[int, ...]  # told to inform the partners
    receiving_triage: tuple[int, ...]  # the receiving MARAC's coordinators, when delivered


def may_record(roles: frozenset[Role], meeting: Meeting) -> str | None:
    """The chair records a move while the case's meeting runs; the coordinator at any time."""
    if Role.COORDINATOR in roles:
        return None
    if Role.CHAIR in roles and meeting.status in (MeetingStatus.RUNNING, MeetingStatus.PAUSED):
        return None
    return ("Between meetings the coordinator records a transfer; the chair records one while "
            "the case's meeting runs.")


async def receiving_marac(session: AsyncSession, tenant_id: str, name: str) -> Marac | None:
    """The MARAC of this deployment and tenant named so (by its name, its name without
    "MARAC", or its case prefix), or None when it is run elsewhere."""
    wanted = name.strip().lower()
    return await session.scalar(select(Marac).where(Marac.tenant_id == tenant_id, or_(
        func.lower(Marac.name) == wanted, func.lower(Marac.name) == f"{wanted} marac",
        func.lower(Marac.case_prefix) == wanted)))


async def record(session: AsyncSession, marac_id: int, number: str, to_name: str,
                 roles: frozenset[Role], person_id: int | None, now: datetime) -> Recorded:
    """`transfer CASE MARAC`: record the move and, within this deployment, deliver it."""
    case = await case_numbered(session, marac_id, number)
    meeting = await session.get_one(Meeting, case.meeting_id)
    refused = may_record(roles, meeting)
    if refused is not None:
        raise TransferError(refused)
    if not closed_panel.may_see(case, roles, person_id):
        raise TransferError(closed_panel.refusal(case))
    name = _receiving_name(to_name)
    marac = await session.get_one(Marac, marac_id)
    to_marac = await receiving_marac(session, marac.tenant_id, name)
    if to_marac is not None and to_marac.id == marac_id:
        raise TransferError(f"{case.number} is already {marac.name}'s case: name the MARAC "
                            "the victim has moved to.")
    referral = await session.get(Referral, case.referral_id) if case.referral_id else None
    if referral is None:
        raise TransferError(f"{case.number} has no referral on record to send on.")
    shown_name = to_marac.name if to_marac else name
    if await _already(session, case.id, shown_name):
        raise TransferError(f"{case.number} has already been transferred to {shown_name}.")
    transfer = Transfer(case_id=case.id, from_marac_id=marac_id, from_referral_id=referral.id,
                        to_marac_id=to_marac.id if to_marac else None, to_marac_name=shown_name,
                        recorded_by_person_id=person_id, recorded_at=now,
                        delivery=TransferDelivery.OUTSIDE)
    session.add(transfer)
    receiving: tuple[int, ...] = ()
    if to_marac is not None:
        withheld = await _sharing_refusal(session, referral, to_marac)
        if withheld:
            transfer.delivery, transfer.note = TransferDelivery.WITHHELD, withheld
        else:
            await session.flush()
            transfer.referral_id = (await _arrive(session, transfer, referral, case, marac,
                                                  to_marac, person_id, now)).id
            transfer.delivery = TransferDelivery.DELIVERED
            receiving = await people_with(session, to_marac.id, (Role.COORDINATOR,))
    await session.flush()
    told = await people_with(session, marac_id, (Role.AGENCY_REPRESENTATIVE,),
                             agency_id=referral.referring_agency_id)
    return Recorded(transfer, case.number, marac.name, shown_name, told, receiving)


def _receiving_name(to_name: str) -> str:
    name = " ".join(to_name.split())
    if not name:
        raise TransferError("Name the MARAC the victim has moved to, e.g. "
                            "**transfer RIV-2026-001 Westbrook**.")
    if len(name) > NAME_MOST:
        raise TransferError(f"A MARAC's name is at most {NAME_MOST} characters.")
    return name


async def _already(session: AsyncSession, case_id: int, to_name: str) -> bool:
    return await session.scalar(select(Transfer.id).where(
        Transfer.case_id == case_id,
        func.lower(Transfer.to_marac_name) == to_name.lower())) is not None


async def _sharing_refusal(session: AsyncSession, referral: Referral, to_marac: Marac
                           ) -> str:
    """Why the sharing agreements do not let the case's details pass, or "" when they do."""
    agency = await session.get_one(Agency, referral.referring_agency_id)
    if not agency.signed_sharing_agreement:
        return (f"{agency.name} has not signed this MARAC's information sharing agreement: "
                f"send the referral document to {to_marac.name} by its secure route instead.")
    counterpart = await _counterpart(session, agency, to_marac)
    if counterpart is None or not counterpart.signed_sharing_agreement:
        return (f"{agency.name} has not signed {to_marac.name}'s information sharing "
                "agreement: send the referral document by its secure route instead.")
    return ""


async def _counterpart(session: AsyncSession, agency: Agency, to_marac: Marac) -> Agency | None:
    return await session.scalar(select(Agency).where(
        Agency.marac_id == to_marac.id, func.lower(Agency.name) == agency.name.lower()))


async def _arrive(session: AsyncSession, transfer: Transfer, original: Referral, case: Case,
                  marac: Marac, to_marac: Marac, person_id: int | None, now: datetime
                  ) -> Referral:
    """The transfer as a referral in the receiving MARAC's triage: pending whatever its score,
    for the receiving MARAC decides; a repeat when within its months of the last hearing."""
    received = local_today(to_marac, now)
    earlier = await last_heard(session, to_marac.id, original.victim_reference)
    try:
        decision = assess(Assessment(
            yes_count=original.dash_yes_count, incident_date=received,
            escalation=original.escalation, escalation_detail=original.escalation_detail,
            professional_judgement=original.professional_judgement,
            rationale=original.rationale, last_hearing=earlier[1] if earlier else None),
            threshold=to_marac.high_risk_threshold, repeat_months=to_marac.repeat_months)
    except CriteriaError as error:
        raise TransferError(str(error)) from error
    agency = await session.get_one(Agency, original.referring_agency_id)
    counterpart = await _counterpart(session, agency, to_marac)
    assert counterpart is not None  # the sharing agreements were checked
    recorder = await session.get(Person, person_id) if person_id is not None else None
    came = f"Transfer from {marac.name} (case {case.number})."
    referral = Referral(
        marac_id=to_marac.id, source=ReferralSource.TRANSFER,
        victim_first_name=original.victim_first_name,
        victim_reference=original.victim_reference, victim_index=original.victim_index,
        victim_age_band=original.victim_age_band, victim_gender=original.victim_gender,
        victim_ethnicity=original.victim_ethnicity,
        victim_disability=original.victim_disability,
        victim_sexual_orientation=original.victim_sexual_orientation,
        children_in_household=original.children_in_household,
        perpetrator_first_name=original.perpetrator_first_name,
        referring_agency_id=counterpart.id,
        referrer_name=f"{recorder.first_name if recorder else 'the coordinator'}, {marac.name}",
        incident_date=original.incident_date, received_on=received, area=to_marac.area,
        honour_based_violence=original.honour_based_violence,
        dash_answers=dict(original.dash_answers or {}),
        dash_yes_count=original.dash_yes_count, escalation=original.escalation,
        escalation_detail=original.escalation_detail,
        professional_judgement=original.professional_judgement, rationale=original.rationale,
        risk_level=decision.risk_level.value,
        qualifying_reasons=[reason.value for reason in decision.reasons],
        decision_explanation=(f"{came} {decision.explanation}" if decision.heard else
                              f"{came} The checklist alone does not meet the criteria: triage "
                              "decides."),
        repeat_of_id=earlier[0].id if earlier and "repeat" in decision.reasons else None,
        status=ReferralStatus.PENDING, created_at=now, updated_at=now)
    session.add(referral)
    await session.flush()
    return referral


# --- transfers in, as triage and the agenda show them ------------------------------------------

@dataclass(frozen=True)
class TransferIn:
    from_marac: str
    case_number: str
    earlier_plan: str  # "RIV-2026-001, version 2", or "" when none was written
    earlier_actions: tuple[str, ...]  # "Police: Flag the address (done)"


async def transfers_in(session: AsyncSession, referral_ids: list[int]
                       ) -> dict[int, TransferIn]:
    """Of these referrals, those that arrived by transfer: where from, with the earlier plan."""
    if not referral_ids:
        return {}
    rows = (await session.execute(
        select(Transfer, Marac.name, Case)
        .join(Marac, Marac.id == Transfer.from_marac_id)
        .join(Case, Case.id == Transfer.case_id)
        .where(Transfer.referral_id.in_(referral_ids)))).tuples().all()
    found = {}
    for transfer, name, case in rows:
        assert transfer.referral_id is not None
        version = await current(session, case)
        if case.closed_panel:  # its plan is the chair's and the admitted's only
            found[transfer.referral_id] = TransferIn(
                name, case.number, "heard in a closed panel: sent to the chair", ())
            continue
        found[transfer.referral_id] = TransferIn(
            name, case.number, f"{case.number}, version {version.version}" if version else "",
            await _action_lines(session, version) if version else ())
    return found


async def _action_lines(session: AsyncSession, version: PlanVersion) -> tuple[str, ...]:
    plan = (await seen_version(session, version)).plan
    return tuple(f"{a.agency}: {a.description} ({a.status.replace('_', ' ')})"
                 for a in plan.actions)


async def plans_of(session: AsyncSession, case: Case) -> list[PlanVersion]:
    """The plans a transfer carries: the case's current version and, for a repeat, each
    earlier hearing's, newest first."""
    found: list[PlanVersion] = []
    while case is not None:
        version = await current(session, case)
        if version is not None:
            found.append(version)
        referral = await session.get(Referral, case.referral_id) if case.referral_id else None
        if referral is None or referral.repeat_of_id is None:
            break
        earlier = await session.scalar(select(Case).where(
            Case.referral_id == referral.repeat_of_id))
        if earlier is None:
            break
        case = earlier
    return found


async def transfer_of(session: AsyncSession, marac_id: int, number: str,
                      roles: frozenset[Role], person_id: int | None) -> tuple[Transfer, Case]:
    """The latest transfer recorded for this MARAC's case (for its referral document)."""
    case = await case_numbered(session, marac_id, number)
    if not closed_panel.may_see(case, roles, person_id):
        raise PlanError(closed_panel.refusal(case))
    transfer = await session.scalar(
        select(Transfer).where(Transfer.case_id == case.id, Transfer.from_marac_id == marac_id)
        .order_by(Transfer.id.desc()).limit(1))
    if transfer is None:
        raise PlanError(f"{case.number} has not been transferred.")
    return transfer, case
