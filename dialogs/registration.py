"""Registering a channel or chat as a MARAC's: until a coordinator does, the bot keeps
nothing about a conversation it is added to (../shared/MARAC.md, "Information governance").

A team's channels belong to the MARAC whose team it is; a group or meeting chat belongs to
the MARAC a coordinator registered it to, by typing `register` there."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.installation import ConversationSeen, Installation, record_installation
from dialogs.refusal import Refusal
from storage.models import Conversation, Marac, Role, RoleGrant


class RegistrationError(Refusal):
    """Why the conversation cannot be registered, in one sentence."""


@dataclass(frozen=True)
class Registration:
    marac_name: str
    installation: Installation


async def coordinated_by(session: AsyncSession, person_id: int | None) -> list[Marac]:
    if person_id is None:
        return []
    return list((await session.scalars(
        select(Marac).join(RoleGrant, RoleGrant.marac_id == Marac.id)
        .where(RoleGrant.person_id == person_id, RoleGrant.role == Role.COORDINATOR)
        .order_by(Marac.name))).all())


def choose(maracs: list[Marac], named: str) -> Marac:
    """The MARAC meant: the one named, or the only one the coordinator runs."""
    named = named.strip()
    if named:
        for marac in maracs:
            if marac.name.lower() == named.lower():
                return marac
        raise RegistrationError(f"You do not coordinate a MARAC called {named!r}.")
    if len(maracs) == 1:
        return maracs[0]
    raise RegistrationError("You coordinate several MARACs: type **register** and the MARAC's "
                            f"name, e.g. **register {maracs[0].name}**.")


async def register(session: AsyncSession, seen: ConversationSeen, marac: Marac,
                   now: datetime) -> Registration:
    """Make this conversation the MARAC's and keep its reference, so the bot can post in it."""
    if seen.tenant_id != marac.tenant_id:
        raise RegistrationError(f"This conversation is outside the {marac.name}'s organisation.")
    if seen.team_id is not None:
        await _bind_team(session, marac, seen.team_id)
    elif await _chat_owner(session, seen.conversation_id) not in (None, marac.id):
        raise RegistrationError("This chat is already registered to another MARAC.")
    seen = replace(seen, conversation_id=seen.conversation_id.split(";")[0])
    installation = await record_installation(session, seen, now, marac_id=marac.id)
    return Registration(marac.name, installation)


async def _bind_team(session: AsyncSession, marac: Marac, team_id: str) -> None:
    owner = await session.scalar(select(Marac).where(Marac.team_id == team_id))
    if owner is not None and owner.id != marac.id:
        raise RegistrationError(f"This team is already the {owner.name}'s.")
    if marac.team_id not in (None, team_id):
        raise RegistrationError(f"The {marac.name} already runs in another team; a MARAC "
                                "has one team.")
    marac.team_id = team_id


async def _chat_owner(session: AsyncSession, conversation_id: str) -> int | None:
    return await session.scalar(select(Conversation.marac_id).where(
        Conversation.conversation_id == conversation_id.split(";")[0]))
