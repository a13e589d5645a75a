"""A core agency that shares information with no action of its own says why (002).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("agency_information", sa.Column("no_action_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agency_information") as table:
        table.drop_column("no_action_reason")
