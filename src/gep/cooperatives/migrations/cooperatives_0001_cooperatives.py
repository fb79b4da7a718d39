"""cooperatives: cooperatives, intake contracts, asset packages, revenue and payments

Revision ID: cooperatives_0001
Revises: (the registry's registry_0001)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cooperatives_0001"
down_revision = None
branch_labels = ("cooperatives",)
depends_on = "registry_0001"


def upgrade() -> None:
    op.create_table(
        "coop_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("vep", sa.JSON(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_coop_package_organisation_id")),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_coop_package_region_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_package")),
        sa.UniqueConstraint("organisation_id", "code", name=op.f("uq_coop_package_organisation_id")),
    )
    op.create_table(
        "coop_cooperative",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["holder_id"], ["registry_holder.id"], name=op.f("fk_coop_cooperative_holder_id")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_coop_cooperative_organisation_id")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_coop_cooperative_region_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_coop_cooperative")),
    )
    op.create_table(
        "coop_revenue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("residue_account", sa.String(length=200), nullable=False),
        sa.Column("residue_fen", sa.BigInteger(), nullable=False),
        sa.Column("retained_fen", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_coop_revenue_organisation_id")),
        sa.ForeignKeyConstraint(["package_id"], ["coop_package.id"], name=op.f("fk_coop_revenue_package_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_revenue")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_coop_revenue_idempotency_key")),
    )
    op.create_table(
        "coop_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("annual_rent_fen", sa.BigInteger(), nullable=False),
        sa.Column("lump_sum_fen", sa.BigInteger(), nullable=False),
        sa.Column("revenue_share_pct", sa.String(length=12), nullable=False),
        sa.Column("payment", sa.String(length=12), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("lock_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("document", sa.String(length=300), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["holder_id"], ["registry_holder.id"], name=op.f("fk_coop_contract_holder_id")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_coop_contract_organisation_id")
        ),
        sa.ForeignKeyConstraint(["parcel_id"], ["registry_parcel.id"], name=op.f("fk_coop_contract_parcel_id")),
        sa.ForeignKeyConstraint(["right_id"], ["registry_right.id"], name=op.f("fk_coop_contract_right_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_contract")),
    )
    op.create_index("ix_coop_contract_holder", "coop_contract", ["holder_id"], unique=False)
    op.create_index("ix_coop_contract_org", "coop_contract", ["organisation_id", "status"], unique=False)
    op.create_table(
        "coop_package_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["coop_contract.id"], name=op.f("fk_coop_package_item_contract_id")),
        sa.ForeignKeyConstraint(
            ["package_id"], ["coop_package.id"], name=op.f("fk_coop_package_item_package_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_package_item")),
        sa.UniqueConstraint("contract_id", name=op.f("uq_coop_package_item_contract_id")),
    )
    op.create_table(
        "coop_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("revenue_id", sa.Integer(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["coop_contract.id"], name=op.f("fk_coop_payment_contract_id")),
        sa.ForeignKeyConstraint(["holder_id"], ["registry_holder.id"], name=op.f("fk_coop_payment_holder_id")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], name=op.f("fk_coop_payment_organisation_id")),
        sa.ForeignKeyConstraint(["revenue_id"], ["coop_revenue.id"], name=op.f("fk_coop_payment_revenue_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_payment")),
        sa.UniqueConstraint("contract_id", "kind", "period", name=op.f("uq_coop_payment_contract_id")),
    )
    op.create_index("ix_coop_payment_holder", "coop_payment", ["holder_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_coop_payment_holder", table_name="coop_payment")
    op.drop_table("coop_payment")
    op.drop_table("coop_package_item")
    op.drop_index("ix_coop_contract_org", table_name="coop_contract")
    op.drop_index("ix_coop_contract_holder", table_name="coop_contract")
    op.drop_table("coop_contract")
    op.drop_table("coop_revenue")
    op.drop_table("coop_cooperative")
    op.drop_table("coop_package")
