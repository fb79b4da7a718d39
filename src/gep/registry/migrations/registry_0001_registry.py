"""registry: holders, parcels, rights, locks, the history of events, import batches

Revision ID: registry_0001
Revises: (the core's 0002)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "registry_0001"
down_revision = None
branch_labels = ("registry",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "registry_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("parcel_ids", sa.JSON(), nullable=False),
        sa.Column("right_ids", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("document", sa.String(length=300), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_registry_event_region_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_event")),
    )
    op.create_index("ix_registry_event_region", "registry_event", ["region_id", "id"], unique=False)
    op.create_table(
        "registry_holder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id_digest", sa.String(length=64), nullable=False),
        sa.Column("id_masked", sa.String(length=40), nullable=False),
        sa.Column("village_code", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_registry_holder_organisation_id")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_registry_holder_region_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_registry_holder_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_holder")),
    )
    op.create_table(
        "registry_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("parcels", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_registry_import_region_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_import")),
        sa.UniqueConstraint("region_id", "digest", name=op.f("uq_registry_import_region_id")),
    )
    op.create_table(
        "registry_parcel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("geojson", sa.Text(), nullable=False),
        sa.Column("minx", sa.Float(), nullable=False),
        sa.Column("miny", sa.Float(), nullable=False),
        sa.Column("maxx", sa.Float(), nullable=False),
        sa.Column("maxy", sa.Float(), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("township_code", sa.String(length=40), nullable=False),
        sa.Column("village_code", sa.String(length=40), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("parents", sa.JSON(), nullable=False),
        sa.Column("children", sa.JSON(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_registry_parcel_region_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_parcel")),
        sa.UniqueConstraint("region_id", "code", name=op.f("uq_registry_parcel_region_id")),
    )
    op.create_index(
        "ix_registry_parcel_bbox",
        "registry_parcel",
        ["region_id", "kind", "minx", "maxx", "miny", "maxy"],
        unique=False,
    )
    op.create_index("ix_registry_parcel_village", "registry_parcel", ["region_id", "village_code"], unique=False)
    op.create_table(
        "registry_right",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("certificate_no", sa.String(length=80), nullable=False),
        sa.Column("source_document", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["holder_id"], ["registry_holder.id"], name=op.f("fk_registry_right_holder_id")),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["registry_parcel.id"], name=op.f("fk_registry_right_parcel_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_right")),
        sa.UniqueConstraint("certificate_no", name=op.f("uq_registry_right_certificate_no")),
    )
    op.create_index("ix_registry_right_holder", "registry_right", ["holder_id"], unique=False)
    op.create_index("ix_registry_right_parcel", "registry_right", ["parcel_id"], unique=False)
    op.create_table(
        "registry_lock",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("holder_organisation_id", sa.Integer(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_organisation_id"], ["organisation.id"], name=op.f("fk_registry_lock_holder_organisation_id")
        ),
        sa.ForeignKeyConstraint(
            ["right_id"], ["registry_right.id"], name=op.f("fk_registry_lock_right_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_lock")),
    )
    op.create_index("ix_registry_lock_right", "registry_lock", ["right_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_registry_lock_right", table_name="registry_lock")
    op.drop_table("registry_lock")
    op.drop_index("ix_registry_right_parcel", table_name="registry_right")
    op.drop_index("ix_registry_right_holder", table_name="registry_right")
    op.drop_table("registry_right")
    op.drop_index("ix_registry_parcel_village", table_name="registry_parcel")
    op.drop_index("ix_registry_parcel_bbox", table_name="registry_parcel")
    op.drop_table("registry_parcel")
    op.drop_table("registry_import")
    op.drop_table("registry_holder")
    op.drop_index("ix_registry_event_region", table_name="registry_event")
    op.drop_table("registry_event")
