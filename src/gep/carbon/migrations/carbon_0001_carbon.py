"""carbon: projects, stands, monitoring reports, issuances, unit accounts, blocks, moves, retirements, offers

Revision ID: carbon_0001
Revises: (depends on registry_0001)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "carbon_0001"
down_revision = None
branch_labels = ("carbon",)
depends_on = ("registry_0001",)


def upgrade() -> None:
    op.create_table(
        "carbon_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_carbon_account_organisation_id")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_carbon_account_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_account")),
        sa.UniqueConstraint("code", name=op.f("uq_carbon_account_code")),
    )
    op.create_table(
        "carbon_project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("methodology", sa.String(length=60), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("developer_org_id", sa.Integer(), nullable=False),
        sa.Column("developer_name", sa.String(length=200), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("crediting_years", sa.Integer(), nullable=False),
        sa.Column("area_ha", sa.Float(), nullable=False),
        sa.Column("geojson", sa.JSON(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("next_number", sa.BigInteger(), nullable=False),
        sa.Column("issued_t", sa.BigInteger(), nullable=False),
        sa.Column("retired_t", sa.BigInteger(), nullable=False),
        sa.Column("flag", sa.Text(), nullable=False),
        sa.Column("check", sa.JSON(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["developer_org_id"], ["organisation.id"], name=op.f("fk_carbon_project_developer_org_id")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_carbon_project_region_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_project")),
        sa.UniqueConstraint("code", name=op.f("uq_carbon_project_code")),
    )
    op.create_table(
        "carbon_move",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("from_account_id", sa.Integer(), nullable=True),
        sa.Column("to_account_id", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(length=80), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_account_id"], ["carbon_account.id"], name=op.f("fk_carbon_move_from_account_id")
        ),
        sa.ForeignKeyConstraint(["project_id"], ["carbon_project.id"], name=op.f("fk_carbon_move_project_id")),
        sa.ForeignKeyConstraint(["to_account_id"], ["carbon_account.id"], name=op.f("fk_carbon_move_to_account_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_move")),
    )
    op.create_index("ix_carbon_move_project", "carbon_move", ["project_id", "id"], unique=False)
    op.create_table(
        "carbon_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("escrow_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("delivered", sa.BigInteger(), nullable=False),
        sa.Column("returned", sa.BigInteger(), nullable=False),
        sa.Column("sold", sa.BigInteger(), nullable=True),
        sa.Column("listing", sa.String(length=40), nullable=False),
        sa.Column("settled_deals", sa.JSON(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["carbon_account.id"], name=op.f("fk_carbon_offer_account_id")),
        sa.ForeignKeyConstraint(["escrow_id"], ["carbon_account.id"], name=op.f("fk_carbon_offer_escrow_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_offer")),
    )
    op.create_table(
        "carbon_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("measurements", sa.JSON(), nullable=False),
        sa.Column("estimate", sa.JSON(), nullable=False),
        sa.Column("estimated_t", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("verifier_org_id", sa.Integer(), nullable=True),
        sa.Column("verifier_name", sa.String(length=200), nullable=False),
        sa.Column("verified_t", sa.BigInteger(), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["carbon_project.id"], name=op.f("fk_carbon_period_project_id")),
        sa.ForeignKeyConstraint(
            ["verifier_org_id"], ["organisation.id"], name=op.f("fk_carbon_period_verifier_org_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_period")),
        sa.UniqueConstraint("project_id", "start", name="uq_carbon_period_start"),
    )
    op.create_table(
        "carbon_retirement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("beneficiary", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("ranges", sa.JSON(), nullable=False),
        sa.Column("certificate_serial", sa.String(length=40), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["carbon_account.id"], name=op.f("fk_carbon_retirement_account_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_retirement")),
        sa.UniqueConstraint("code", name=op.f("uq_carbon_retirement_code")),
        sa.UniqueConstraint("key", name=op.f("uq_carbon_retirement_key")),
    )
    op.create_table(
        "carbon_stand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("parcel_code", sa.String(length=60), nullable=False),
        sa.Column("species", sa.String(length=40), nullable=False),
        sa.Column("area_ha", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["parcel_id"], ["registry_parcel.id"], name=op.f("fk_carbon_stand_parcel_id")),
        sa.ForeignKeyConstraint(["project_id"], ["carbon_project.id"], name=op.f("fk_carbon_stand_project_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_stand")),
        sa.UniqueConstraint("project_id", "parcel_id", name=op.f("uq_carbon_stand_project_id")),
    )
    op.create_index("ix_carbon_stand_parcel", "carbon_stand", ["parcel_id"], unique=False)
    op.create_table(
        "carbon_block",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("retirement_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["carbon_account.id"], name=op.f("fk_carbon_block_account_id")),
        sa.ForeignKeyConstraint(["project_id"], ["carbon_project.id"], name=op.f("fk_carbon_block_project_id")),
        sa.ForeignKeyConstraint(
            ["retirement_id"], ["carbon_retirement.id"], name=op.f("fk_carbon_block_retirement_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_block")),
    )
    op.create_index("ix_carbon_block_account", "carbon_block", ["account_id", "state"], unique=False)
    op.create_index("ix_carbon_block_project", "carbon_block", ["project_id", "start"], unique=False)
    op.create_table(
        "carbon_issuance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["carbon_account.id"], name=op.f("fk_carbon_issuance_account_id")),
        sa.ForeignKeyConstraint(["period_id"], ["carbon_period.id"], name=op.f("fk_carbon_issuance_period_id")),
        sa.ForeignKeyConstraint(["project_id"], ["carbon_project.id"], name=op.f("fk_carbon_issuance_project_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carbon_issuance")),
        sa.UniqueConstraint("period_id", name=op.f("uq_carbon_issuance_period_id")),
    )


def downgrade() -> None:
    op.drop_table("carbon_issuance")
    op.drop_index("ix_carbon_block_project", table_name="carbon_block")
    op.drop_index("ix_carbon_block_account", table_name="carbon_block")
    op.drop_table("carbon_block")
    op.drop_index("ix_carbon_stand_parcel", table_name="carbon_stand")
    op.drop_table("carbon_stand")
    op.drop_table("carbon_retirement")
    op.drop_table("carbon_period")
    op.drop_table("carbon_offer")
    op.drop_index("ix_carbon_move_project", table_name="carbon_move")
    op.drop_table("carbon_move")
    op.drop_table("carbon_project")
    op.drop_table("carbon_account")
