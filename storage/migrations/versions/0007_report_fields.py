"""The MARAC's figures (issue 18): the adult population cases heard are set against, and the
referral's optional equality fields the SafeLives data return profiles.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EQUALITY = ("victim_gender", "victim_ethnicity", "victim_disability",
            "victim_sexual_orientation")


def upgrade() -> None:
    op.add_column("marac", sa.Column("adult_population", sa.Integer(), nullable=True))
    for column in EQUALITY:
        op.add_column("referral", sa.Column(column, sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral") as table:
        for column in EQUALITY:
            table.drop_column(column)
    with op.batch_alter_table("marac") as table:
        table.drop_column("adult_population")
