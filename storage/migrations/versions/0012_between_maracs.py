"""Between MARACs and on the record (issue 17): MARAC-to-MARAC transfers, each with the
referral it became in the receiving MARAC's triage; children's services (HUB) follow-ups;
disputes, complaints and breaches with their steps.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_marac_id", sa.Integer(), nullable=False),
        sa.Column("from_referral_id", sa.Integer(), nullable=True),
        sa.Column("to_marac_id", sa.Integer(), nullable=True),
        sa.Column("to_marac_name", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_person_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery", sa.Enum("delivered", "withheld", "outside",
                                      name="transfer_delivery", native_enum=False,
                                      length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["marac_case.id"]),
        sa.ForeignKeyConstraint(["from_marac_id"], ["marac.id"]),
        sa.ForeignKeyConstraint(["from_referral_id"], ["referral.id"]),
        sa.ForeignKeyConstraint(["to_marac_id"], ["marac.id"]),
        sa.ForeignKeyConstraint(["recorded_by_person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("referral_id"),
    )
    op.create_table(
        "hub_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("needed", sa.Boolean(), nullable=False),
        sa.Column("within_hours", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referring_agency_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_person_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contacted_by_person_id", sa.Integer(), nullable=True),
        sa.Column("chased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["marac_case.id"]),
        sa.ForeignKeyConstraint(["referring_agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["recorded_by_person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["contacted_by_person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )


    op.create_table(
        "governance_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("marac_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("about", sa.Text(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("opened_by_person_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("court_order_ref", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["marac_id"], ["marac.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["marac_case.id"]),
        sa.ForeignKeyConstraint(["opened_by_person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "governance_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_person_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["governance_record.id"]),
        sa.ForeignKeyConstraint(["by_person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("governance_step")
    op.drop_table("governance_record")
    op.drop_table("hub_follow_up")
    op.drop_table("transfer")
