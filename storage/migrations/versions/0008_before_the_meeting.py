"""Before the meeting (issue 16): the referrer's answer to "needs more information", and the
research an agency returns before the meeting (risks, actions taken and proposed, on time or
late).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RESEARCH = ("risks", "actions_taken", "actions_proposed")
MARKS = ("before_meeting", "late")


def upgrade() -> None:
    op.add_column("referral", sa.Column("information_answer", sa.Text(), nullable=True))
    for column in RESEARCH:
        op.add_column("agency_information", sa.Column(column, sa.Text(), nullable=True))
    for column in MARKS:
        op.add_column("agency_information", sa.Column(column, sa.Boolean(), nullable=False,
                                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("agency_information") as table:
        for column in RESEARCH + MARKS:
            table.drop_column(column)
    with op.batch_alter_table("referral") as table:
        table.drop_column("information_answer")
