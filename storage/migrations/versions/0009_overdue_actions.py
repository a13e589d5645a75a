"""Overdue actions (issue 17): an action still open 2 working days after its due date is
escalated to the coordinator, and after 5 to the operations manager, each once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ESCALATIONS = ("coordinator_escalated_at", "manager_escalated_at")


def upgrade() -> None:
    for column in ESCALATIONS:
        op.add_column("action_follow_up",
                      sa.Column(column, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_follow_up") as table:
        for column in ESCALATIONS:
            table.drop_column(column)
