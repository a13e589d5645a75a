"""Who is acting, in which MARAC, from where, and whether the command table lets them.

The one place where the role check runs, before any dialog code, from the Teams identity of
the person acting (never from anything in a card's payload)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    Text,
    and_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.turns.arrival import Arrival
from bot.turns.registry import Command, Place
from cards import notice
from dialogs.actor import CASE_PAPER_ROLES, Actor, gets_case_papers
from dialogs.audit import Where, append
from dialogs.membership import Grant, marac_of_press, named_in, roles_in, scope
from storage.crypto import keyring
from storage.database import core
from storage.models import (
    Apology,
    Conversation,
    Marac,
    Meeting,
    MeetingStatus,
    Person,
    Role,
    RoleGrant,
)


@dataclass(frozen=True)
class Context:
    actor: Actor
    marac_id: int | None  # the MARAC in view: the conversation's, or in personal chat the one
    place: Place          # named (dialogs.membership)
    unnamed: tuple[str, ...] = ()  # in personal chat, the MARACs of someone who named none


class NotThisTenant(Exception):
    """The activity comes from a tenant the bot does not serve. Raised inside the turn's unit
    of work, so that whatever the turn wrote so far is rolled back: nothing of theirs is kept."""


async def context_of(session: AsyncSession, arrival: Arrival,
                     command: Command | None = None, *,
                     tenants: frozenset[str] | None = None, named: int | None = None
                     ) -> Context:
    """`command`, when known, may count the roles held in any MARAC (`register`).

    In personal chat, `named` is the MARAC the person named (dialogs.membership): only the
    roles held there count.

    With `tenants` (the configured allow-list), the tenant check is made here too, in the same
    query: a tenant neither listed nor any MARAC's raises NotThisTenant.

    One query: the conversation's MARAC, whether the tenant is served, the person acting with
    the grants that count here (and so, in personal chat, their first MARAC), and whether they
    are the chair's named stand-in, or a deputy named in apologies, in a meeting running
    here."""
    place = Place.of(arrival.kind)
    tenant = arrival.tenant_id or ""
    checks_tenant = tenants is not None and tenant not in tenants
    if checks_tenant and not tenant:
        raise NotThisTenant(tenant)
    anywhere = place is Place.PERSONAL or (command is not None and command.before_registration)
    aad_object_id = arrival.sender_aad_object_id
    rows = (await core(session, _context_query(
        team=arrival.team_id is not None, anywhere=anywhere,
        stand_in=place is not Place.PERSONAL, tenant_check=checks_tenant,
        deputising=place is Place.PERSONAL), {
        "conversation": arrival.conversation_id, "team": arrival.team_id,
        "tenant": tenant, "aad": aad_object_id, "place": arrival.place})).all()
    first = rows[0]  # the anchor row: always one, more for a person with several grants
    if checks_tenant and not first.served:
        raise NotThisTenant(tenant)
    marac_id: int | None = first.marac_id
    display_name = arrival.sender_name
    if first.person_id is None:
        actor = Actor(tenant, aad_object_id, display_name.split(" ")[0] if display_name else "",
                      None, frozenset())
        return Context(actor, marac_id, place)
    if arrival.sender_id and first.teams_user_id != arrival.sender_id:
        # learnt here; 1:1 messages are addressed to it
        await session.execute(update(Person).where(Person.id == first.person_id)
                              .values(teams_user_id=arrival.sender_id))
    grants = [Grant(row.grant_marac_id, row.grant_marac_name, row.role)
              for row in rows if row.role is not None]
    if place is Place.PERSONAL and first.deputy_marac_id is not None:
        # named in apologies: the representative's role until that meeting ends
        grants.append(Grant(first.deputy_marac_id, first.deputy_marac_name,
                            Role.AGENCY_REPRESENTATIVE))
    unnamed: tuple[str, ...] = ()
    if place is Place.PERSONAL:
        scoped = scope(grants, named)
        marac_id, roles, unnamed = scoped.marac_id, scoped.roles, scoped.unnamed
    elif anywhere:  # `register` where no MARAC is yet: the MARAC is chosen by name there
        roles = frozenset(grant.role for grant in grants)
    else:
        roles = roles_in(grants, marac_id)
        if first.stand_in:
            roles |= {Role.CHAIR}  # the person the chair named to advance the agenda
        if first.deputy:
            roles |= {Role.AGENCY_REPRESENTATIVE}  # named in apologies, for this meeting only
    actor = Actor(tenant, aad_object_id, keyring().decrypt(first.first_name), first.person_id,
                  roles)
    return Context(actor, marac_id, place, unnamed)


@functools.cache
def _context_query(*, team: bool, anywhere: bool, stand_in: bool, tenant_check: bool,
                   deputising: bool = False) -> Select[Any]:
    """Built once per shape; each turn only binds its values."""
    marac: Select[Any]
    if team:
        marac = select(Marac.id).where(Marac.team_id == bindparam("team"))
    else:
        marac = select(Conversation.marac_id).where(
            Conversation.conversation_id == bindparam("conversation"))
    marac_id = marac.scalar_subquery()
    grant_here = RoleGrant.person_id == Person.id
    if not anywhere:
        grant_here = and_(grant_here, RoleGrant.marac_id == marac_id)
    granting = aliased(Marac)
    columns: list[Any] = [marac_id.label("marac_id"), Person.id.label("person_id"),
                          # as stored: decrypted once, not once for each of their grants
                          type_coerce(Person.first_name, Text).label("first_name"),
                          Person.teams_user_id, RoleGrant.role,
                          RoleGrant.marac_id.label("grant_marac_id"),
                          granting.name.label("grant_marac_name")]
    if stand_in:
        columns.append(exists().where(
            Meeting.conversation_id == bindparam("place"), Meeting.marac_id == marac_id,
            or_(Meeting.status == MeetingStatus.RUNNING,
                Meeting.status == MeetingStatus.PAUSED),
            Meeting.stand_in_person_id == Person.id).label("stand_in"))
        columns.append(exists().where(
            Meeting.conversation_id == bindparam("place"), Meeting.marac_id == marac_id,
            or_(Meeting.status == MeetingStatus.RUNNING,
                Meeting.status == MeetingStatus.PAUSED),
            Apology.meeting_id == Meeting.id,
            Apology.deputy_person_id == Person.id).label("deputy"))
    if deputising:
        columns += _deputising_columns()
    if tenant_check:
        columns.append(exists().where(Marac.tenant_id == bindparam("tenant")).label("served"))
    anchor = select(literal_column("1").label("one")).subquery("anchor")  # the one row
    return (select(*columns).select_from(anchor)
            .outerjoin(Person, and_(Person.tenant_id == bindparam("tenant"),
                                    Person.aad_object_id == bindparam("aad")))
            .outerjoin(RoleGrant, grant_here)
            .outerjoin(granting, granting.id == RoleGrant.marac_id))


def _deputising_columns() -> list[Any]:
    """The MARAC (id, name) of a meeting not yet ended for which the person is the deputy
    named in apologies: in personal chat they hold the representative's role there."""
    deputised = (select(Meeting.marac_id).join(Apology, Apology.meeting_id == Meeting.id)
                 .where(Apology.deputy_person_id == Person.id,
                        Meeting.status != MeetingStatus.ENDED)
                 .order_by(Meeting.starts_at).limit(1).scalar_subquery())
    named = aliased(Marac)
    return [deputised.label("deputy_marac_id"),
            select(named.name).where(named.id == deputised).scalar_subquery()
            .label("deputy_marac_name")]


async def named_marac(session: AsyncSession, arrival: Arrival, arguments: str
                      ) -> tuple[int | None, str]:
    """In personal chat, the MARAC named in what was typed and the words left; else none."""
    if Place.of(arrival.kind) is not Place.PERSONAL:
        return None, arguments
    return await named_in(session, arrival.tenant_id or "", arguments)


async def pressed_marac(session: AsyncSession, arrival: Arrival, data: dict[str, Any]
                        ) -> int | None:
    """In personal chat, the MARAC whose referral, case or action the button names."""
    if Place.of(arrival.kind) is not Place.PERSONAL:
        return None
    return await marac_of_press(session, data)


def where(context: Context, arrival: Arrival) -> Where:
    return Where(context.marac_id, context.place.value, arrival.conversation_id)


async def audit(session: AsyncSession, context: Context, arrival: Arrival, action: str,
                now: datetime, *, subject: str = "", refused: str | None = None) -> None:
    await append(session, context.actor, where(context, arrival), action, now,
                 subject=subject, refused=refused)


def refusal(command: Command, context: Context) -> str | None:
    """Why this person may not use this command here, in one sentence; None if they may."""
    if context.place not in command.places:
        return notice.not_here(command.name, sorted(p.value for p in command.places))
    if command.roles is not None and context.marac_id is None and not (
            command.before_registration):
        if context.unnamed:
            return notice.name_the_marac(command.name, context.unnamed)
        return notice.not_set_up()
    if not command.allows(context.actor.roles):
        roles = context.actor.roles
        if command.roles == CASE_PAPER_ROLES and roles and not gets_case_papers(roles):
            return notice.observers_excluded(command.name)  # a command for case papers
        return notice.not_allowed(command.name, sorted(r.label for r in command.roles or ()))
    return None
