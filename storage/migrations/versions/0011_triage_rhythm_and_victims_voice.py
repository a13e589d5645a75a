"""Before the meeting, the rest: the weekly triage queue is sent once per triage weekday, a
referral that can no longer be heard within the 14-working-day target is flagged to the
coordinator once, and the referral records the victim's voice (encrypted at rest, as one
EncryptedJSON value).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("marac") as batch:
        batch.add_column(sa.Column("triage_queue_sent_on", sa.Date(), nullable=True))
    with op.batch_alter_table("referral") as batch:
        batch.add_column(sa.Column("target_flagged_at", sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("victim_voice", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral") as batch:
        batch.drop_column("victim_voice")
        batch.drop_column("target_flagged_at")
    with op.batch_alter_table("marac") as batch:
        batch.drop_column("triage_queue_sent_on")
