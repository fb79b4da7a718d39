"""exchange: categories, listings, registrations, bids, deals, history, demands

Revision ID: exchange_0001
Revises: (depends on registry_0001,ledger_0001)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "exchange_0001"
down_revision = None
branch_labels = ("exchange",)
depends_on = ("registry_0001", "ledger_0001")


def upgrade() -> None:
    op.create_table(
        "exchange_category",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=160), nullable=False),
        sa.Column("right_type", sa.String(length=20), nullable=False),
        sa.Column("term_min_years", sa.Integer(), nullable=True),
        sa.Column("term_max_years", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("deposit_pct", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("deposit_min_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_pct", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("announce_s", sa.Integer(), nullable=False),
        sa.Column("bidding_s", sa.Integer(), nullable=False),
        sa.Column("contract_s", sa.Integer(), nullable=False),
        sa.Column("settle_s", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("sourcing", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_exchange_category")),
    )
    op.create_table(
        "exchange_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("area_mu_min", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("area_mu_max", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("budget_fen", sa.BigInteger(), nullable=True),
        sa.Column("term_years", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("party_name", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"], ["exchange_category.code"], name=op.f("fk_exchange_demand_category_code")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisation.id"], name=op.f("fk_exchange_demand_org_id")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_exchange_demand_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_demand")),
    )
    op.create_index("ix_exchange_demand_open", "exchange_demand", ["status", "side"], unique=False)
    op.create_table(
        "exchange_listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("category_code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("seller_org_id", sa.Integer(), nullable=True),
        sa.Column("seller_user_id", sa.Integer(), nullable=True),
        sa.Column("seller_name", sa.String(length=200), nullable=False),
        sa.Column("seller_account_id", sa.Integer(), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=True),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("lock_id", sa.String(length=40), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("geojson", sa.JSON(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("area_mu", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("term_years", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("start_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("increment_fen", sa.BigInteger(), nullable=False),
        sa.Column("reserve_fen", sa.BigInteger(), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("max_bids", sa.Integer(), nullable=False),
        sa.Column("top_share_pct", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("extension_window_s", sa.Integer(), nullable=False),
        sa.Column("extension_s", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bid_count", sa.Integer(), nullable=False),
        sa.Column("current_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("leader_registration_id", sa.Integer(), nullable=True),
        sa.Column("registrations", sa.Integer(), nullable=False),
        sa.Column("gep_basis", sa.JSON(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"], ["exchange_category.code"], name=op.f("fk_exchange_listing_category_code")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_exchange_listing_region_id")),
        sa.ForeignKeyConstraint(["right_id"], ["registry_right.id"], name=op.f("fk_exchange_listing_right_id")),
        sa.ForeignKeyConstraint(
            ["seller_account_id"], ["ledger_account.id"], name=op.f("fk_exchange_listing_seller_account_id")
        ),
        sa.ForeignKeyConstraint(["seller_org_id"], ["organisation.id"], name=op.f("fk_exchange_listing_seller_org_id")),
        sa.ForeignKeyConstraint(
            ["seller_user_id"], ["user_account.id"], name=op.f("fk_exchange_listing_seller_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_listing")),
        sa.UniqueConstraint("code", name=op.f("uq_exchange_listing_code")),
    )
    op.create_index("ix_exchange_listing_right", "exchange_listing", ["right_id"], unique=False)
    op.create_index("ix_exchange_listing_seller", "exchange_listing", ["seller_org_id", "seller_user_id"], unique=False)
    op.create_index("ix_exchange_listing_state", "exchange_listing", ["state", "closes_at"], unique=False)
    op.create_table(
        "exchange_demand_match",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demand_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("other_demand_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("why", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["demand_id"], ["exchange_demand.id"], name=op.f("fk_exchange_demand_match_demand_id")),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["exchange_listing.id"], name=op.f("fk_exchange_demand_match_listing_id")
        ),
        sa.ForeignKeyConstraint(
            ["other_demand_id"], ["exchange_demand.id"], name=op.f("fk_exchange_demand_match_other_demand_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_demand_match")),
        sa.UniqueConstraint("demand_id", "listing_id", name="uq_exchange_demand_match_listing"),
        sa.UniqueConstraint("demand_id", "other_demand_id", name="uq_exchange_demand_match_demand"),
    )
    op.create_table(
        "exchange_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("bidder_key", sa.String(length=40), nullable=False),
        sa.Column("bidder_org_id", sa.Integer(), nullable=True),
        sa.Column("bidder_user_id", sa.Integer(), nullable=True),
        sa.Column("bidder_name", sa.String(length=200), nullable=False),
        sa.Column("alias", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_account.id"], name=op.f("fk_exchange_registration_account_id")
        ),
        sa.ForeignKeyConstraint(
            ["bidder_org_id"], ["organisation.id"], name=op.f("fk_exchange_registration_bidder_org_id")
        ),
        sa.ForeignKeyConstraint(
            ["bidder_user_id"], ["user_account.id"], name=op.f("fk_exchange_registration_bidder_user_id")
        ),
        sa.ForeignKeyConstraint(["hold_id"], ["ledger_transfer.id"], name=op.f("fk_exchange_registration_hold_id")),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["exchange_listing.id"], name=op.f("fk_exchange_registration_listing_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_registration")),
        sa.UniqueConstraint("listing_id", "alias", name="uq_exchange_registration_alias"),
        sa.UniqueConstraint("listing_id", "bidder_key", name="uq_exchange_registration_bidder"),
    )
    op.create_table(
        "exchange_bid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("placed_by", sa.Integer(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["exchange_listing.id"], name=op.f("fk_exchange_bid_listing_id")),
        sa.ForeignKeyConstraint(
            ["registration_id"], ["exchange_registration.id"], name=op.f("fk_exchange_bid_registration_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_bid")),
        sa.UniqueConstraint("listing_id", "seq", name=op.f("uq_exchange_bid_listing_id")),
        sa.UniqueConstraint("registration_id", "key", name=op.f("uq_exchange_bid_registration_id")),
    )
    op.create_table(
        "exchange_deal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("contract_no", sa.String(length=40), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contract_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settle_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("title_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("certificate_serial", sa.String(length=40), nullable=False),
        sa.Column("defaulted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["exchange_listing.id"], name=op.f("fk_exchange_deal_listing_id")),
        sa.ForeignKeyConstraint(
            ["registration_id"], ["exchange_registration.id"], name=op.f("fk_exchange_deal_registration_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_deal")),
        sa.UniqueConstraint("contract_no", name=op.f("uq_exchange_deal_contract_no")),
        sa.UniqueConstraint("listing_id", "registration_id", name=op.f("uq_exchange_deal_listing_id")),
    )
    op.create_table(
        "exchange_listing_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("verb", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["exchange_deal.id"], name=op.f("fk_exchange_listing_event_deal_id")),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["exchange_listing.id"], name=op.f("fk_exchange_listing_event_listing_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_listing_event")),
    )
    op.create_index("ix_exchange_listing_event_listing", "exchange_listing_event", ["listing_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_exchange_listing_event_listing", table_name="exchange_listing_event")
    op.drop_table("exchange_listing_event")
    op.drop_table("exchange_deal")
    op.drop_table("exchange_bid")
    op.drop_table("exchange_registration")
    op.drop_table("exchange_demand_match")
    op.drop_index("ix_exchange_listing_state", table_name="exchange_listing")
    op.drop_index("ix_exchange_listing_seller", table_name="exchange_listing")
    op.drop_index("ix_exchange_listing_right", table_name="exchange_listing")
    op.drop_table("exchange_listing")
    op.drop_index("ix_exchange_demand_open", table_name="exchange_demand")
    op.drop_table("exchange_demand")
    op.drop_table("exchange_category")
