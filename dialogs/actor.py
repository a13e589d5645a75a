"""Who is asking: their Teams identity and the roles they hold where they are asking."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, Role, RoleGrant

# Observers get no case papers: the one rule, wherever case papers are shown or a command
# for them is offered.
CASE_PAPER_ROLES = frozenset(Role) - {Role.OBSERVER}


def gets_case_papers(roles: frozenset[Role]) -> bool:
    return bool(roles & CASE_PAPER_ROLES)


@dataclass(frozen=True)
class Actor:
    tenant_id: str
    aad_object_id: str
    first_name: str
    person_id: int | None
    roles: frozenset[Role]

    @property
    def is_known(self) -> bool:
        return self.person_id is not None


async def identify(
    session: AsyncSession,
    *,
    tenant_id: str,
    aad_object_id: str,
    display_name: str,
    marac_id: int | None,
    anywhere: bool = False,
    teams_user_id: str | None = None,
) -> Actor:
    """The roles come from the store, keyed by Azure AD identity; never from the message.

    They are the roles held in the MARAC whose conversation this is (none where the
    conversation is no MARAC's), or with `anywhere` (a personal chat) in any MARAC.
    """
    person = await session.scalar(
        select(Person).where(
            Person.tenant_id == tenant_id, Person.aad_object_id == aad_object_id
        )
    )
    first_name = display_name.split(" ")[0] if display_name else ""
    if person is None:
        return Actor(tenant_id, aad_object_id, first_name, None, frozenset())
    if teams_user_id and person.teams_user_id != teams_user_id:
        person.teams_user_id = teams_user_id  # learnt here; 1:1 messages are addressed to it
    grants = select(RoleGrant.role).where(RoleGrant.person_id == person.id)
    if not anywhere:
        grants = grants.where(RoleGrant.marac_id == marac_id)
    roles = frozenset((await session.scalars(grants)).all())
    return Actor(tenant_id, aad_object_id, person.first_name, person.id, roles)
