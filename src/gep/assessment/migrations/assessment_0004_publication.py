"""assessment: accounting runs published on the public portal

Revision ID: assessment_0004
Revises: assessment_0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assessment_0004"
down_revision = "assessment_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by"], ["user_account.id"], name=op.f("fk_assessment_publication_published_by")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_assessment_publication_region_id")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["accounting_run.id"], name=op.f("fk_assessment_publication_run_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_publication")),
        sa.UniqueConstraint("run_id", name=op.f("uq_assessment_publication_run_id")),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("assessment_publication")
    # ### end Alembic commands ###
