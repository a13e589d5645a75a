"""New information after the meeting (../shared/MARAC.md, "After the meeting"): an agency adds
an update to a case's plan, which makes a new version. Where the update raises the risk, the
referring agency's representatives are told to update children's services within 24 hours
(001); when the referring agency is not known, the coordinators are told to see to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import closed_panel
from dialogs.people import people_with
from dialogs.plans import PlanError, case_numbered, current, may_see, record_version
from storage.models import (
    Agency,
    Case,
    Person,
    PlanUpdate,
    PlanVersion,
    Referral,
    Role,
)

CHILDREN_SERVICES_WITHIN = timedelta(hours=24)
UPDATERS = (Role.AGENCY_REPRESENTATIVE, Role.COORDINATOR, Role.CHAIR)


@dataclass(frozen=True)
class Updated:
    case: Case
    version: PlanVersion
    update: PlanUpdate
    by: str
    agency: str
    repeated: bool  # the same press again: nothing new
    # When the risk is raised: who must update children's services, and by when.
    tell: tuple[int, ...] = ()
    tell_is_referrer: bool = True
    children_services_by: datetime | None = None


async def add_update(session: AsyncSession, marac_id: int, number: str, text: str,
                     risk_raised: bool, roles: frozenset[Role], person_id: int | None,
                     now: datetime, source_key: str) -> Updated:
    case = await case_numbered(session, marac_id, number)
    await may_see(session, roles, person_id, case)
    if not roles & set(UPDATERS) or person_id is None:
        raise PlanError("Only agency representatives, the chair and the coordinator can add "
                        "to a plan.")
    person = await session.get_one(Person, person_id)
    agency = await session.get(Agency, person.agency_id) if person.agency_id else None
    done = await session.scalar(select(PlanUpdate).where(PlanUpdate.source_key == source_key))
    if done is not None:
        version = await current(session, case)
        assert version is not None
        return Updated(case, version, done, person.first_name, agency.name if agency else "",
                       True)
    if await current(session, case) is None:
        raise PlanError(f"{case.number} has no plan yet: updates are added after the meeting "
                        "has closed the case.")
    text = " ".join(text.split())
    if not text:
        raise PlanError("Write the new information.")
    if len(text) > 4000:
        raise PlanError("Keep the update under 4,000 characters.")
    update = PlanUpdate(case_id=case.id, person_id=person.id,
                        agency_id=agency.id if agency else None, text=text,
                        risk_raised=risk_raised, at=now, source_key=source_key)
    session.add(update)
    await session.flush()
    who = f"{person.first_name}" + (f" ({agency.name})" if agency else "")
    version = await record_version(
        session, case, person.id,
        "New information: the risk is raised." if risk_raised else "New information added.",
        f"{who} added information after the meeting.", now)
    updated = Updated(case, version, update, person.first_name, agency.name if agency else "",
                      False)
    if not risk_raised:
        return updated
    tell, is_referrer = await _children_services_updaters(session, marac_id, case)
    return Updated(case, version, update, person.first_name, agency.name if agency else "",
                   False, tell, is_referrer, now + CHILDREN_SERVICES_WITHIN)


async def _children_services_updaters(session: AsyncSession, marac_id: int, case: Case
                                      ) -> tuple[tuple[int, ...], bool]:
    referral = await session.get(Referral, case.referral_id) if case.referral_id else None
    if referral is not None:
        people = await people_with(session, marac_id, (Role.AGENCY_REPRESENTATIVE,),
                                   referral.referring_agency_id)
        people = closed_panel.admitted_only(case, people)
        if people:
            return people, True
    return await people_with(session, marac_id, (Role.COORDINATOR,)), False

