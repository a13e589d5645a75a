"""Between meetings (issue 17): an action still open 2 working days after its due date is
escalated to the coordinator, and after 5 to the operations manager, each once; the operations
manager's review of an action that cannot be completed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ESCALATIONS = ("coordinator_escalated_at", "manager_escalated_at")


def _reference(column: str, table: str) -> sa.Column[int]:
    """A nullable reference, its constraint named as the models' naming convention names it."""
    return sa.Column(column, sa.Integer(), sa.ForeignKey(
        f"{table}.id", name=f"fk_action_follow_up_{column}_{table}"), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("action_follow_up") as table:
        for column in ESCALATIONS:
            table.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("review", sa.String(20), nullable=True))
        table.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(_reference("reviewed_by_person_id", "person"))
        table.add_column(sa.Column("review_note", sa.Text(), nullable=False,
                                   server_default=""))
        table.add_column(_reference("reassigned_to_id", "planned_action"))


def downgrade() -> None:
    with op.batch_alter_table("action_follow_up") as table:
        for column in ("reassigned_to_id", "review_note", "reviewed_by_person_id",
                       "reviewed_at", "review", *ESCALATIONS):
            table.drop_column(column)
