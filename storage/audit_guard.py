"""The audit trail is append-only: no code path may change or remove a row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from storage.models import AuditEvent


class AuditTrailIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse(*_: Any) -> None:
    raise AuditTrailIsAppendOnly("Audit rows cannot be changed or deleted.")
