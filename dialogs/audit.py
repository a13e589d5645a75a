"""The audit trail: every command and button, done or refused, with who, when and where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.actor import Actor
from storage.models import AuditEvent


@dataclass(frozen=True)
class Where:
    marac_id: int | None
    place: str
    conversation_id: str


def record(session: AsyncSession, actor: Actor, where: Where, action: str, now: datetime, *,
           subject: str = "", refused: str | None = None) -> None:
    session.add(AuditEvent(
        at=now, tenant_id=actor.tenant_id, aad_object_id=actor.aad_object_id,
        person_id=actor.person_id, marac_id=where.marac_id, place=where.place,
        conversation_id=where.conversation_id, action=action, subject=subject[:100],
        outcome="refused" if refused is not None else "done", detail=refused or "",
    ))
