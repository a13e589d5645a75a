"""A team's roster as Teams lists it: each member's Teams id recorded against the Person with
the same Azure AD object id in the same tenant, so that the bot can open a 1:1 chat with
people who have never written to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person


@dataclass(frozen=True)
class Member:
    aad_object_id: str
    teams_user_id: str


async def record_members(session: AsyncSession, tenant_id: str, members: Iterable[Member]
                         ) -> int:
    """How many of the tenant's people got a new Teams id; members the store does not know
    are left alone (nothing is kept about them)."""
    teams_ids = {m.aad_object_id: m.teams_user_id for m in members
                 if m.aad_object_id and m.teams_user_id}
    if not tenant_id or not teams_ids:
        return 0
    people = await session.scalars(select(Person).where(
        Person.tenant_id == tenant_id, Person.aad_object_id.in_(teams_ids)))
    learnt = 0
    for person in people:
        if person.teams_user_id != teams_ids[person.aad_object_id]:
            person.teams_user_id = teams_ids[person.aad_object_id]
            learnt += 1
    return learnt
