"""assessment: listed areas of the negative list and project checks

Revision ID: assessment_0003
Revises: assessment_0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assessment_0003"
down_revision = "assessment_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("area_ha", sa.Float(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["imported_by"], ["user_account.id"], name=op.f("fk_assessment_area_imported_by")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_area")),
    )
    op.create_table(
        "assessment_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("proponent", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=10), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("from_ecosystem", sa.String(length=40), nullable=False),
        sa.Column("to_ecosystem", sa.String(length=40), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("rule_id", sa.String(length=20), nullable=False),
        sa.Column("list_version", sa.String(length=60), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("gep_change_yuan", sa.Float(), nullable=True),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["checked_by"], ["user_account.id"], name=op.f("fk_assessment_project_checked_by")),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_assessment_project_region_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_project")),
        sa.UniqueConstraint("code", name=op.f("uq_assessment_project_code")),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("assessment_project")
    op.drop_table("assessment_area")
    # ### end Alembic commands ###
