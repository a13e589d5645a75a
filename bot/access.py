"""Who is acting, in which MARAC, from where, and whether the command table lets them.

The one place where the role check runs, before any dialog code, from the Teams identity of
the person acting (never from anything in a card's payload)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from botbuilder.schema import Activity
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import EVERY_ROLE, Command, Place
from bot.conversation import kind_of, meeting_place, seen, tenant_of
from cards import notice
from dialogs.actor import Actor, identify
from dialogs.audit import Where, record
from dialogs.installation import marac_of_conversation
from storage.models import Meeting, MeetingStatus, Role, RoleGrant


@dataclass(frozen=True)
class Context:
    actor: Actor
    marac_id: int | None  # the MARAC in view: the conversation's, or in personal chat the actor's
    place: Place


async def context_of(session: AsyncSession, activity: Activity,
                     command: Command | None = None) -> Context:
    """`command`, when known, may count the roles held in any MARAC (`register`)."""
    place = Place.of(kind_of(activity))
    marac_id = await marac_of_conversation(session, seen(activity))
    actor = await identify(
        session,
        tenant_id=tenant_of(activity) or "",
        aad_object_id=activity.from_property.aad_object_id or "",
        display_name=activity.from_property.name or "",
        marac_id=marac_id,
        anywhere=place is Place.PERSONAL or (command is not None
                                              and command.before_registration),
        teams_user_id=activity.from_property.id,
    )
    if place is Place.PERSONAL and actor.person_id is not None:
        marac_id = await _first_marac_of(session, actor.person_id)
    elif actor.person_id is not None and await _is_stand_in(session, activity, actor.person_id):
        actor = replace(actor, roles=actor.roles | {Role.CHAIR})
    return Context(actor, marac_id, place)


async def _is_stand_in(session: AsyncSession, activity: Activity, person_id: int) -> bool:
    """The person the chair named to advance the agenda acts as chair in that meeting."""
    return await session.scalar(select(Meeting.id).where(
        Meeting.conversation_id == meeting_place(activity),
        Meeting.status.in_((MeetingStatus.RUNNING, MeetingStatus.PAUSED)),
        Meeting.stand_in_person_id == person_id)) is not None


async def _first_marac_of(session: AsyncSession, person_id: int) -> int | None:
    """In personal chat, the MARAC the person serves (the first, if they serve several)."""
    return await session.scalar(
        select(RoleGrant.marac_id).where(RoleGrant.person_id == person_id)
        .order_by(RoleGrant.marac_id).limit(1)
    )


def where(context: Context, activity: Activity) -> Where:
    return Where(context.marac_id, context.place.value, activity.conversation.id)


def audit(session: AsyncSession, context: Context, activity: Activity, action: str,
          now: datetime, *, subject: str = "", refused: str | None = None) -> None:
    record(session, context.actor, where(context, activity), action, now, subject=subject,
           refused=refused)


def refusal(command: Command, context: Context) -> str | None:
    """Why this person may not use this command here, in one sentence; None if they may."""
    if context.place not in command.places:
        return notice.not_here(command.name, sorted(p.value for p in command.places))
    if command.roles is not None and context.marac_id is None and not (
            command.before_registration):
        return notice.not_set_up()
    if not command.allows(context.actor.roles):
        if context.actor.roles == {Role.OBSERVER} and command.roles == EVERY_ROLE - {
                Role.OBSERVER}:
            return notice.observers_excluded(command.name)  # a command for case papers
        return notice.not_allowed(command.name, sorted(r.label for r in command.roles or ()))
    return None
