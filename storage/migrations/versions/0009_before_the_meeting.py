"""Before the meeting (issue 16): the referrer's answer to "needs more information", and the
research an agency returns before the meeting (risks, actions taken and proposed, on time or
late), and a representative's apologies for a meeting with the deputy they name.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RESEARCH = ("risks", "actions_taken", "actions_proposed")
MARKS = ("before_meeting", "late")


def upgrade() -> None:
    op.create_table(
        "apology",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("deputy_person_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"],
                                name=op.f("fk_apology_meeting_id_meeting")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_apology_person_id_person")),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"],
                                name=op.f("fk_apology_agency_id_agency")),
        sa.ForeignKeyConstraint(["deputy_person_id"], ["person.id"],
                                name=op.f("fk_apology_deputy_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apology")),
        sa.UniqueConstraint("meeting_id", "person_id",
                            name=op.f("uq_apology_meeting_id_person_id")),
    )
    op.add_column("referral", sa.Column("information_answer", sa.Text(), nullable=True))
    for column in RESEARCH:
        op.add_column("agency_information", sa.Column(column, sa.Text(), nullable=True))
    for column in MARKS:
        op.add_column("agency_information", sa.Column(column, sa.Boolean(), nullable=False,
                                                      server_default=sa.false()))


def downgrade() -> None:
    op.drop_table("apology")
    with op.batch_alter_table("agency_information") as table:
        for column in RESEARCH + MARKS:
            table.drop_column(column)
    with op.batch_alter_table("referral") as table:
        table.drop_column("information_answer")
