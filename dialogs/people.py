"""Who holds which role in a MARAC: the coordinator grants and revokes; the first
coordinator is added from the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.refusal import Refusal
from storage.models import Agency, AuditEvent, Marac, Person, Role, RoleGrant


class PeopleError(Refusal):
    """One plain sentence."""


@dataclass(frozen=True)
class Member:
    first_name: str
    agency: str | None
    roles: tuple[Role, ...]


async def people_with(session: AsyncSession, marac_id: int, roles: tuple[Role, ...],
                      agency_id: int | None = None) -> tuple[int, ...]:
    """The ids of the MARAC's people holding any of these roles (of one agency, if given)."""
    query = (select(Person.id).join(RoleGrant, RoleGrant.person_id == Person.id)
             .where(RoleGrant.marac_id == marac_id, RoleGrant.role.in_(roles)).distinct())
    if agency_id is not None:
        query = query.where(Person.agency_id == agency_id)
    return tuple(sorted((await session.scalars(query)).all()))


async def members(session: AsyncSession, marac_id: int) -> list[Member]:
    rows = (await session.execute(
        select(Person, Agency.name, RoleGrant.role)
        .join(RoleGrant, RoleGrant.person_id == Person.id)
        .outerjoin(Agency, Agency.id == Person.agency_id)
        .where(RoleGrant.marac_id == marac_id).order_by(Person.id))).tuples().all()
    by_person: dict[int, Member] = {}
    for person, agency, role in rows:
        known = by_person.get(person.id)
        roles = (known.roles if known else ()) + (role,)
        by_person[person.id] = Member(person.first_name, agency, roles)
    return list(by_person.values())


def parse_role(word: str) -> Role:
    wanted = word.strip().lower().replace(" ", "_").replace("-", "_")
    for role in Role:
        if wanted in (role.value, role.value.split("_")[0]):
            return role
    raise PeopleError(f"'{word}' is not a role; the roles are "
                      f"{', '.join(r.label for r in Role)}.")


async def person_named(session: AsyncSession, marac_id: int, first_name: str) -> Person:
    """A person known to this MARAC by first name (names are encrypted: compared here)."""
    people = (await session.scalars(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.marac_id == marac_id).distinct())).all()
    matches = [p for p in people if p.first_name.casefold() == first_name.strip().casefold()]
    if len(matches) != 1:
        raise PeopleError(f"Name one person of this MARAC by first name; '{first_name}' "
                          f"matches {len(matches)}.")
    return matches[0]


async def grant(session: AsyncSession, marac_id: int, person: Person, role: Role) -> bool:
    """False if they already held it."""
    held = await session.scalar(select(RoleGrant.id).where(
        RoleGrant.marac_id == marac_id, RoleGrant.person_id == person.id,
        RoleGrant.role == role))
    if held is not None:
        return False
    session.add(RoleGrant(marac_id=marac_id, person_id=person.id, role=role))
    return True


async def revoke(session: AsyncSession, marac_id: int, person: Person, role: Role) -> bool:
    if role is Role.COORDINATOR:
        coordinators = await session.scalar(select(func.count()).select_from(RoleGrant).where(
            RoleGrant.marac_id == marac_id, RoleGrant.role == Role.COORDINATOR)) or 0
        if coordinators <= 1:
            raise PeopleError("A MARAC keeps at least one coordinator.")
    removed = await session.execute(delete(RoleGrant).where(
        RoleGrant.marac_id == marac_id, RoleGrant.person_id == person.id,
        RoleGrant.role == role))
    return bool(removed.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AuditLine:
    """One row of a case's audit trail, as the operations manager reads it."""

    at: datetime
    who: str  # the actor's first name, or their Azure AD id if the MARAC does not know them
    action: str
    place: str
    outcome: str
    detail: str


async def audit_of(session: AsyncSession, marac_id: int, subject: str, limit: int = 40
                   ) -> list[AuditLine]:
    """The audit trail of one case or referral, newest first."""
    rows = (await session.execute(
        select(AuditEvent, Person).outerjoin(Person, Person.id == AuditEvent.person_id)
        .where(AuditEvent.marac_id == marac_id, AuditEvent.subject == subject)
        .order_by(AuditEvent.id.desc()).limit(limit))).tuples().all()
    return [AuditLine(event.at, person.first_name if person else event.aad_object_id,
                      event.action, event.place, event.outcome, event.detail)
            for event, person in rows]


async def add_person(session: AsyncSession, marac_name: str, tenant_id: str,
                     aad_object_id: str, first_name: str, role_word: str,
                     agency_name: str | None) -> str:
    """The CLI's way in for the first coordinator; one sentence saying what was done."""
    marac = await session.scalar(select(Marac).where(Marac.name == marac_name))
    if marac is None:
        raise PeopleError(f"There is no MARAC called {marac_name!r}.")
    role = parse_role(role_word)
    agency_id = None
    if agency_name:
        agency_id = await session.scalar(select(Agency.id).where(
            Agency.marac_id == marac.id, Agency.name == agency_name))
        if agency_id is None:
            raise PeopleError(f"{agency_name!r} is not one of {marac_name}'s agencies.")
    person = await session.scalar(select(Person).where(
        Person.tenant_id == tenant_id, Person.aad_object_id == aad_object_id))
    if person is None:
        person = Person(tenant_id=tenant_id, aad_object_id=aad_object_id,
                        first_name=first_name.strip(), agency_id=agency_id)
        session.add(person)
        await session.flush()
    granted = await grant(session, marac.id, person, role)
    return (f"{person.first_name} {'is now' if granted else 'already was'} {role.label} of "
            f"{marac_name}.")
