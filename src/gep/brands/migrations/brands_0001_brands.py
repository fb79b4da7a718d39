"""brands: producers, applications, inspections, state changes, batches, trace codes, chain heads and records

Revision ID: brands_0001
Revises: (depends on 0002)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "brands_0001"
down_revision = None
branch_labels = ("brands",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "brand_producer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_brand_producer_organisation_id")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_brand_producer_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_producer")),
    )
    op.create_table(
        "brand_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("parcel_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("standard_digest", sa.String(length=64), nullable=False),
        sa.Column("certificate_no", sa.String(length=40), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["producer_id"], ["brand_producer.id"], name=op.f("fk_brand_application_producer_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_application")),
    )
    op.create_index("ix_brand_application_state", "brand_application", ["state"], unique=False)
    op.create_table(
        "brand_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_no", sa.String(length=40), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.String(length=30), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("codes", sa.Integer(), nullable=False),
        sa.Column("sold_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["brand_application.id"], name=op.f("fk_brand_batch_application_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_batch")),
        sa.UniqueConstraint("batch_no", name=op.f("uq_brand_batch_batch_no")),
    )
    op.create_table(
        "brand_inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        sa.Column("laboratory", sa.String(length=200), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["brand_application.id"], name=op.f("fk_brand_inspection_application_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_inspection")),
    )
    op.create_table(
        "brand_state_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before", sa.String(length=20), nullable=False),
        sa.Column("after", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["brand_application.id"], name=op.f("fk_brand_state_change_application_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_state_change")),
    )
    op.create_index(
        op.f("ix_brand_state_change_application_id"), "brand_state_change", ["application_id"], unique=False
    )
    op.create_table(
        "brand_chain_head",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["brand_batch.id"], name=op.f("fk_brand_chain_head_batch_id")),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_brand_chain_head")),
    )
    op.create_table(
        "brand_trace_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("first_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["brand_batch.id"], name=op.f("fk_brand_trace_code_batch_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_trace_code")),
        sa.UniqueConstraint("batch_id", "serial", name=op.f("uq_brand_trace_code_batch_id")),
        sa.UniqueConstraint("code", name=op.f("uq_brand_trace_code_code")),
    )
    op.create_table(
        "brand_trace_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=120), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["brand_batch.id"], name=op.f("fk_brand_trace_record_batch_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_trace_record")),
        sa.UniqueConstraint("batch_id", "seq", name=op.f("uq_brand_trace_record_batch_id")),
    )


def downgrade() -> None:
    op.drop_table("brand_trace_record")
    op.drop_table("brand_trace_code")
    op.drop_table("brand_chain_head")
    op.drop_table("brand_state_change")
    op.drop_table("brand_inspection")
    op.drop_table("brand_batch")
    op.drop_table("brand_application")
    op.drop_table("brand_producer")
