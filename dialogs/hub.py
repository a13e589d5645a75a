"""Children's services (the HUB) after the conference (../shared/MARAC.md, "After the
meeting"; 001 §4, §6). On closing a case the chair records whether the referring agency must
update the HUB, and by when: within 24 hours or 3 days. The referring agency's representatives
are told. Its representative records the contact (`hub CASE contacted`); with none recorded
2 working days after the chair's record, the children's services representatives are
prompted to chase, once: the prompt is claimed in the database, so a restart or a second
replica neither repeats nor loses it. Each step is a new version of the plan, so the plan's
history shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.people import people_with
from dialogs.plans import case_numbered, record_version
from dialogs.refusal import Refusal
from dialogs.scheduling import calendar_of
from storage.models import (
    Agency,
    Case,
    CaseStatus,
    HubFollowUp,
    Marac,
    Meeting,
    Person,
    Referral,
    Role,
)

CHASE_AFTER = 2  # working days with no contact recorded
WITHIN = {"24h": 24, "24": 24, "24 hours": 24, "3d": 72, "3": 72, "3 days": 72}
CHILDRENS_SERVICES = "Children's Social Care"


class HubError(Refusal):
    """One plain sentence."""


@dataclass(frozen=True)
class Recorded:
    case_number: str
    follow_up: HubFollowUp
    told: tuple[int, ...]  # the referring agency's representatives


@dataclass(frozen=True)
class Chase:
    case_number: str
    agency: str  # the referring agency that has not made contact
    recipients: tuple[int, ...]  # the children's services representatives


def within_hours(word: str) -> int | None:
    """24 or 72 for a deadline, None for "not needed"; a HubError for anything else."""
    wanted = " ".join(word.lower().split())
    if wanted in ("no", "none", "not needed"):
        return None
    if wanted in WITHIN:
        return WITHIN[wanted]
    raise HubError("Say whether the HUB must be updated: **24h**, **3d** or **no**.")


def chase_at(marac: Marac, recorded_at: datetime) -> datetime:
    """The same time of day, 2 working days after the chair's record (in the MARAC's zone)."""
    local = recorded_at.astimezone(ZoneInfo(marac.timezone))
    day = calendar_of(marac).add(local.date(), CHASE_AFTER)
    return datetime.combine(day, local.timetz())


async def record(session: AsyncSession, marac_id: int, number: str, when: str,
                 roles: frozenset[Role], person_id: int | None, now: datetime) -> Recorded:
    """`hub CASE 24h|3d|no`: the chair, once the case is closed."""
    if Role.CHAIR not in roles:
        raise HubError("Only the chair records whether the HUB must be updated.")
    hours = within_hours(when)
    case = await case_numbered(session, marac_id, number)
    if case.status is not CaseStatus.CLOSED:
        raise HubError(f"{case.number} is not closed: record the HUB update on closing it.")
    if await session.scalar(select(HubFollowUp.id).where(HubFollowUp.case_id == case.id)):
        raise HubError(f"The HUB update for {case.number} is already recorded.")
    marac = await session.get_one(Marac, marac_id)
    referral = await session.get(Referral, case.referral_id) if case.referral_id else None
    follow_up = HubFollowUp(
        case_id=case.id, needed=hours is not None, within_hours=hours,
        due_at=now + timedelta(hours=hours) if hours else None,
        chase_at=chase_at(marac, now) if hours else None,
        referring_agency_id=referral.referring_agency_id if referral else None,
        recorded_by_person_id=person_id, recorded_at=now)
    session.add(follow_up)
    change = (f"The referring agency updates children's services (the HUB) within "
              f"{_within(hours)}." if hours else "Children's services (the HUB) need no update.")
    await record_version(session, case, person_id, change, "Recorded by the chair on closing "
                         "the case (001).", now)
    told: tuple[int, ...] = ()
    if hours and follow_up.referring_agency_id is not None:
        told = await people_with(session, marac_id, (Role.AGENCY_REPRESENTATIVE,),
                                 agency_id=follow_up.referring_agency_id)
    return Recorded(case.number, follow_up, told)


async def contacted(session: AsyncSession, marac_id: int, number: str, person_id: int | None,
                    now: datetime) -> str:
    """`hub CASE contacted`: the referring agency's representative has updated the HUB."""
    case = await case_numbered(session, marac_id, number)
    follow_up = await session.scalar(select(HubFollowUp).where(HubFollowUp.case_id == case.id))
    if follow_up is None or not follow_up.needed:
        raise HubError(f"No HUB update is asked for {case.number}.")
    person = await session.get(Person, person_id) if person_id is not None else None
    if person is None or person.agency_id != follow_up.referring_agency_id:
        raise HubError("Only the referring agency's representative records the contact.")
    if follow_up.contacted_at is not None:
        return f"The HUB contact for {case.number} was already recorded."
    follow_up.contacted_at, follow_up.contacted_by_person_id = now, person_id
    await record_version(session, case, person_id, "Children's services (the HUB) updated "
                         "by the referring agency.", "Contact recorded (001).", now)
    return f"Recorded: the HUB has been updated for {case.number}."


async def claim_chases(session: AsyncSession, now: datetime) -> list[Chase]:
    """The follow-ups with no contact recorded 2 working days on, each claimed once."""
    rows = (await session.execute(
        select(HubFollowUp, Case, Meeting.marac_id)
        .join(Case, Case.id == HubFollowUp.case_id)
        .join(Meeting, Meeting.id == Case.meeting_id)
        .where(HubFollowUp.needed, HubFollowUp.contacted_at.is_(None),
               HubFollowUp.chased_at.is_(None), HubFollowUp.chase_at <= now)
        .order_by(HubFollowUp.id)
        .with_for_update(of=HubFollowUp, skip_locked=True))).tuples().all()
    chases = []
    for follow_up, case, marac_id in rows:
        follow_up.chased_at = now
        agency = (await session.get(Agency, follow_up.referring_agency_id)
                  if follow_up.referring_agency_id else None)
        name = agency.name if agency else "the referring agency"
        await record_version(session, case, None, f"Children's services prompted to chase "
                             f"{name}: no HUB contact recorded in {CHASE_AFTER} working days.",
                             "The HUB chases an agency that has not made contact (001).", now)
        recipients = await _childrens_services(session, marac_id)
        if case.closed_panel:
            recipients = closed_panel.admitted_only(case, recipients)
        chases.append(Chase(case.number, name, recipients))
    return chases


async def _childrens_services(session: AsyncSession, marac_id: int) -> tuple[int, ...]:
    agency = await session.scalar(select(Agency.id).where(Agency.marac_id == marac_id,
                                                          Agency.name == CHILDRENS_SERVICES))
    if agency is None:
        return ()
    return await people_with(session, marac_id, (Role.AGENCY_REPRESENTATIVE,), agency_id=agency)


def chase_text(chase: Chase) -> str:
    return (f"{chase.case_number}: {chase.agency} has recorded no contact with the HUB "
            f"{CHASE_AFTER} working days after the conference. Please chase them.")


def _within(hours: int) -> str:
    return "24 hours" if hours == 24 else "3 days"
