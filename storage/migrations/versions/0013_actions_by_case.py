"""A case's actions found by index (issue 21): every meeting press and `next` read them, and
without it each read scanned every action ever agreed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_planned_action_case", "planned_action",
                    ["case_id", "owning_agency_id"])


def downgrade() -> None:
    op.drop_index("ix_planned_action_case", table_name="planned_action")
