"""Teams' own meeting events: who joined the Teams meeting (shown as joined, not yet confirmed,
until they confirm their attendance), and when the chair was reminded that the Teams meeting
ended with the MARAC meeting still open (once), and the Teams meeting's own id (its targeted
in-meeting notifications are addressed to it).

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_arrival",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "person_id"),
    )
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(sa.Column("end_reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("teams_meeting_id", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meeting") as batch:
        batch.drop_column("teams_meeting_id")
        batch.drop_column("end_reminded_at")
    op.drop_table("meeting_arrival")
