"""Encrypt what identifies: a referral's DASH answers and its police incident reference are
stored encrypted (the reference matched through a keyed index, like the victim's), and the
conversation references kept for posting lose the display names Teams sent with them.

Existing rows are converted with the keys configured (MARAC_ENCRYPTION_KEYS, MARAC_INDEX_KEY).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from dialogs.installation import without_names
from storage.crypto import keyring

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rows(sql: str) -> list[Any]:
    return list(op.get_bind().execute(sa.text(sql)).all())


def _set(sql: str, values: list[dict[str, Any]]) -> None:
    if values:
        op.get_bind().execute(sa.text(sql), values)


def upgrade() -> None:
    referrals = _rows("SELECT id, police_incident_ref, dash_answers FROM referral")
    with op.batch_alter_table("referral") as table:
        table.drop_constraint("uq_referral_marac_id_police_incident_ref", type_="unique")
        table.add_column(sa.Column("police_incident_index", sa.String(length=64), nullable=True))
        table.alter_column("police_incident_ref", type_=sa.Text(),
                           existing_type=sa.String(length=64), existing_nullable=True)
        table.alter_column("dash_answers", type_=sa.Text(), existing_type=sa.JSON(),
                           existing_nullable=False, postgresql_using="dash_answers::text")
        table.create_unique_constraint("uq_referral_marac_id_police_incident_index",
                                       ["marac_id", "police_incident_index"])
    keys = keyring()
    converted = []
    for row in referrals:
        answers = row.dash_answers if isinstance(row.dash_answers, dict) else json.loads(
            row.dash_answers or "{}")
        ref = row.police_incident_ref
        converted.append({
            "id": row.id, "answers": keys.encrypt(json.dumps(answers)),
            "ref": keys.encrypt(ref) if ref else None,
            "index": keys.blind_index(ref) if ref else None})
    _set("UPDATE referral SET dash_answers = :answers, police_incident_ref = :ref, "
         "police_incident_index = :index WHERE id = :id", converted)
    _set("UPDATE conversation SET reference = :reference WHERE id = :id", [
        {"id": row.id, "reference": json.dumps(without_names(json.loads(row.reference)))}
        for row in _rows("SELECT id, reference FROM conversation")])


def downgrade() -> None:
    keys = keyring()
    plain = [{"id": row.id, "answers": keys.decrypt(row.dash_answers),
              "ref": keys.decrypt(row.police_incident_ref) if row.police_incident_ref else None}
             for row in _rows("SELECT id, police_incident_ref, dash_answers FROM referral")]
    _set("UPDATE referral SET dash_answers = :answers, police_incident_ref = :ref "
         "WHERE id = :id", plain)
    with op.batch_alter_table("referral") as table:
        table.drop_constraint("uq_referral_marac_id_police_incident_index", type_="unique")
        table.drop_column("police_incident_index")
        table.alter_column("dash_answers", type_=sa.JSON(), existing_type=sa.Text(),
                           existing_nullable=False, postgresql_using="dash_answers::json")
        table.alter_column("police_incident_ref", type_=sa.String(length=64),
                           existing_type=sa.Text(), existing_nullable=True)
        table.create_unique_constraint("uq_referral_marac_id_police_incident_ref",
                                       ["marac_id", "police_incident_ref"])
