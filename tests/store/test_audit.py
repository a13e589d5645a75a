"""The audit trail is append-only: neither the code nor a raw SQL client can change a row."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from storage.audit_guard import AuditTrailIsAppendOnly
from storage.models import AuditEvent


def event() -> AuditEvent:
    return AuditEvent(at=datetime(2026, 11, 24, tzinfo=UTC), tenant_id="t", aad_object_id="a",
                      place="channel", conversation_id="c", action="next", outcome="refused",
                      detail="Only a chair of this MARAC can use 'next'.")


async def test_the_code_cannot_change_or_delete_an_audit_row(store):
    async with store.unit_of_work() as session:
        session.add(event())
    for change in ("update", "delete"):
        with pytest.raises(AuditTrailIsAppendOnly):
            async with store.unit_of_work() as session:
                row = await session.get_one(AuditEvent, 1)
                if change == "update":
                    row.outcome = "done"
                else:
                    await session.delete(row)
    async with store.unit_of_work() as session:
        assert (await session.get_one(AuditEvent, 1)).outcome == "refused"


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET outcome = 'done'",
                                       "DELETE FROM audit_event"])
async def test_the_database_refuses_raw_changes_to_the_audit_trail(store, statement):
    async with store.unit_of_work() as session:
        session.add(event())
    with pytest.raises(Exception, match="audit rows cannot be changed or deleted"):
        async with store.engine.begin() as connection:
            await connection.execute(text(statement))
    async with store.unit_of_work() as session:
        assert (await session.get_one(AuditEvent, 1)).outcome == "refused"
