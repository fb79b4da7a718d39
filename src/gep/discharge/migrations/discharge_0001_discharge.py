"""discharge: enterprises, permits, quota accounts and entries, bills, pledges, emissions, alerts, offers, checks

Revision ID: discharge_0001
Revises: (depends on the platform's core)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "discharge_0001"
down_revision = None
branch_labels = ("discharge",)
depends_on = ("0002",)


def upgrade() -> None:
    op.create_table(
        "discharge_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_import")),
    )
    op.create_table(
        "discharge_project_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("reserve", sa.JSON(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_project_check")),
    )
    op.create_table(
        "discharge_enterprise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=40), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_discharge_enterprise_organisation_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_enterprise")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_discharge_enterprise_credit_code")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_discharge_enterprise_organisation_id")),
    )
    op.create_table(
        "discharge_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["discharge_enterprise.id"], name=op.f("fk_discharge_account_enterprise_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_account")),
        sa.UniqueConstraint("code", name=op.f("uq_discharge_account_code")),
    )
    op.create_table(
        "discharge_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("pollutant", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("threshold_pct", sa.Integer(), nullable=False),
        sa.Column("used_grams", sa.BigInteger(), nullable=False),
        sa.Column("held_grams", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["discharge_enterprise.id"], name=op.f("fk_discharge_alert_enterprise_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_alert")),
        sa.UniqueConstraint(
            "enterprise_id", "pollutant", "year", "threshold_pct", name=op.f("uq_discharge_alert_enterprise_id")
        ),
    )
    op.create_table(
        "discharge_emission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("pollutant", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["discharge_enterprise.id"], name=op.f("fk_discharge_emission_enterprise_id")
        ),
        sa.ForeignKeyConstraint(["import_id"], ["discharge_import.id"], name=op.f("fk_discharge_emission_import_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_emission")),
        sa.UniqueConstraint("enterprise_id", "pollutant", "at", name="uq_discharge_emission"),
    )
    op.create_table(
        "discharge_permit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("end_year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("issuer_org_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["discharge_enterprise.id"], name=op.f("fk_discharge_permit_enterprise_id")
        ),
        sa.ForeignKeyConstraint(["issuer_org_id"], ["organisation.id"], name=op.f("fk_discharge_permit_issuer_org_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_permit")),
        sa.UniqueConstraint("number", name=op.f("uq_discharge_permit_number")),
    )
    op.create_index("ix_discharge_permit_enterprise", "discharge_permit", ["enterprise_id", "state"], unique=False)
    op.create_table(
        "discharge_pledge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("pollutant", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("contract_no", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["discharge_enterprise.id"], name=op.f("fk_discharge_pledge_enterprise_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_pledge")),
    )
    op.create_index("ix_discharge_pledge_enterprise", "discharge_pledge", ["enterprise_id", "state"], unique=False)
    op.create_table(
        "discharge_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("from_id", sa.Integer(), nullable=False),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.Column("pollutant", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["from_id"], ["discharge_account.id"], name=op.f("fk_discharge_entry_from_id")),
        sa.ForeignKeyConstraint(["to_id"], ["discharge_account.id"], name=op.f("fk_discharge_entry_to_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_entry")),
        sa.UniqueConstraint("key", name=op.f("uq_discharge_entry_key")),
    )
    op.create_index("ix_discharge_entry_from", "discharge_entry", ["from_id", "pollutant", "year"], unique=False)
    op.create_index("ix_discharge_entry_to", "discharge_entry", ["to_id", "pollutant", "year"], unique=False)
    op.create_table(
        "discharge_fee_bill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("permit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["discharge_enterprise.id"], name=op.f("fk_discharge_fee_bill_enterprise_id")
        ),
        sa.ForeignKeyConstraint(["permit_id"], ["discharge_permit.id"], name=op.f("fk_discharge_fee_bill_permit_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_fee_bill")),
        sa.UniqueConstraint("permit_id", "year", name=op.f("uq_discharge_fee_bill_permit_id")),
    )
    op.create_table(
        "discharge_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("escrow_id", sa.Integer(), nullable=True),
        sa.Column("pollutant", sa.String(length=10), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=False),
        sa.Column("kg_per_year", sa.BigInteger(), nullable=False),
        sa.Column("delivered_kg", sa.BigInteger(), nullable=False),
        sa.Column("returned_kg", sa.BigInteger(), nullable=False),
        sa.Column("sold_kg", sa.BigInteger(), nullable=True),
        sa.Column("settled_deals", sa.JSON(), nullable=False),
        sa.Column("listing", sa.String(length=40), nullable=False),
        sa.Column("start_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["discharge_account.id"], name=op.f("fk_discharge_offer_account_id")),
        sa.ForeignKeyConstraint(["escrow_id"], ["discharge_account.id"], name=op.f("fk_discharge_offer_escrow_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_offer")),
    )
    op.create_table(
        "discharge_permit_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("permit_id", sa.Integer(), nullable=False),
        sa.Column("pollutant", sa.String(length=10), nullable=False),
        sa.Column("grams_per_year", sa.BigInteger(), nullable=False),
        sa.Column("fee_yuan_per_t_year", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["permit_id"], ["discharge_permit.id"], name=op.f("fk_discharge_permit_line_permit_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_permit_line")),
        sa.UniqueConstraint("permit_id", "pollutant", name=op.f("uq_discharge_permit_line_permit_id")),
    )


def downgrade() -> None:
    op.drop_table("discharge_permit_line")
    op.drop_table("discharge_offer")
    op.drop_table("discharge_fee_bill")
    op.drop_index("ix_discharge_entry_to", table_name="discharge_entry")
    op.drop_index("ix_discharge_entry_from", table_name="discharge_entry")
    op.drop_table("discharge_entry")
    op.drop_index("ix_discharge_pledge_enterprise", table_name="discharge_pledge")
    op.drop_table("discharge_pledge")
    op.drop_index("ix_discharge_permit_enterprise", table_name="discharge_permit")
    op.drop_table("discharge_permit")
    op.drop_table("discharge_emission")
    op.drop_table("discharge_alert")
    op.drop_table("discharge_account")
    op.drop_table("discharge_enterprise")
    op.drop_table("discharge_project_check")
    op.drop_table("discharge_import")
