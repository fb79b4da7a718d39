"""assessment: indicator sets, departments, submissions and their imports, score sheets, settled trades

Revision ID: assessment_0001
Revises: (depends on 0002)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assessment_0001"
down_revision = None
branch_labels = ("assessment",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "assessment_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_set")),
        sa.UniqueConstraint("version", name=op.f("uq_assessment_set_version")),
    )
    op.create_table(
        "assessment_trade",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("listing", sa.String(length=40), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_trade")),
        sa.UniqueConstraint("deal_id", name=op.f("uq_assessment_trade_deal_id")),
    )
    op.create_table(
        "assessment_department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_assessment_department_organisation_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_department")),
        sa.UniqueConstraint("code", name=op.f("uq_assessment_department_code")),
    )
    op.create_table(
        "assessment_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_version", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by_user_id"], ["user_account.id"], name=op.f("fk_assessment_import_by_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_import")),
    )
    op.create_table(
        "assessment_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_version", sa.String(length=60), nullable=False),
        sa.Column("set_digest", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["computed_by"], ["user_account.id"], name=op.f("fk_assessment_sheet_computed_by")),
        sa.ForeignKeyConstraint(["published_by"], ["user_account.id"], name=op.f("fk_assessment_sheet_published_by")),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_assessment_sheet_region_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_sheet")),
        sa.UniqueConstraint("set_version", "region_id", "year", name=op.f("uq_assessment_sheet_set_version")),
    )
    op.create_table(
        "assessment_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_version", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.Column("indicator", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["assessment_import.id"], name=op.f("fk_assessment_submission_import_id")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["user_account.id"], name=op.f("fk_assessment_submission_submitted_by")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_submission")),
    )
    op.create_index(
        "ix_assessment_submission_key",
        "assessment_submission",
        ["set_version", "year", "unit_code", "indicator"],
        unique=False,
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index("ix_assessment_submission_key", table_name="assessment_submission")
    op.drop_table("assessment_submission")
    op.drop_table("assessment_sheet")
    op.drop_table("assessment_import")
    op.drop_table("assessment_department")
    op.drop_table("assessment_trade")
    op.drop_table("assessment_set")
    # ### end Alembic commands ###
