"""assessment: tenure audits

Revision ID: assessment_0005
Revises: assessment_0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assessment_0005"
down_revision = "assessment_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_tenure_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("zone_code", sa.String(length=40), nullable=False),
        sa.Column("leader", sa.String(length=200), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_assessment_tenure_audit_created_by")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_assessment_tenure_audit_region_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_tenure_audit")),
        sa.UniqueConstraint("code", name=op.f("uq_assessment_tenure_audit_code")),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("assessment_tenure_audit")
    # ### end Alembic commands ###
