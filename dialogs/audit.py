"""The audit trail: every command and button, done or refused, with who, when and where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.actor import Actor
from storage.database import core
from storage.models import AuditEvent


@dataclass(frozen=True)
class Where:
    marac_id: int | None
    place: str
    conversation_id: str


def record(session: AsyncSession, actor: Actor, where: Where, action: str, now: datetime, *,
           subject: str = "", refused: str | None = None) -> None:
    """Add the row to the session (written when it next flushes)."""
    session.add(AuditEvent(**_row(actor, where, action, now, subject, refused)))


# Core, not the ORM: one plain INSERT, without a unit-of-work flush for a row nobody reads
# back in the turn (and without PostgreSQL's RETURNING of its id).
_APPEND = insert(cast(Table, AuditEvent.__table__))


async def append(session: AsyncSession, actor: Actor, where: Where, action: str,
                 now: datetime, *, subject: str = "", refused: str | None = None) -> None:
    """Write the row now, in the session's transaction: the same row as `record`."""
    await core(session, _APPEND, _row(actor, where, action, now, subject, refused))


def _row(actor: Actor, where: Where, action: str, now: datetime, subject: str,
         refused: str | None) -> dict[str, Any]:
    return {"at": now, "tenant_id": actor.tenant_id, "aad_object_id": actor.aad_object_id,
            "person_id": actor.person_id, "marac_id": where.marac_id, "place": where.place,
            "conversation_id": where.conversation_id, "action": action,
            "subject": _printable(subject)[:100],
            "outcome": "refused" if refused is not None else "done",
            "detail": _printable(refused or "")}


def _printable(text: str) -> str:
    """Without control characters (PostgreSQL text cannot hold NUL)."""
    return "".join(c for c in text if c.isprintable() or c == " ")
