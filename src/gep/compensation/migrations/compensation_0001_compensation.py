"""compensation: scheme rounds, basins, sections, agreements, observations and their imports, settlements, damage cases

Revision ID: compensation_0001
Revises: (depends on 0002)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "compensation_0001"
down_revision = None
branch_labels = ("compensation",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "compensation_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_import")),
    )
    op.create_table(
        "compensation_scheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_scheme")),
        sa.UniqueConstraint("version", name=op.f("uq_compensation_scheme_version")),
    )
    op.create_table(
        "compensation_basin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("scheme_code", sa.String(length=40), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_compensation_basin_region_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_basin")),
        sa.UniqueConstraint("code", name=op.f("uq_compensation_basin_code")),
    )
    op.create_table(
        "compensation_damage_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("from_ecosystem", sa.String(length=60), nullable=False),
        sa.Column("to_ecosystem", sa.String(length=60), nullable=False),
        sa.Column("recovery_years", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=20), nullable=False),
        sa.Column("curve", sa.JSON(), nullable=False),
        sa.Column("discount_rate", sa.String(length=20), nullable=False),
        sa.Column("price_year", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("carbon_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("retirements", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_compensation_damage_case_region_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_damage_case")),
        sa.UniqueConstraint("code", name=op.f("uq_compensation_damage_case_code")),
    )
    op.create_table(
        "compensation_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("basin_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("river", sa.String(length=100), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("upstream_code", sa.String(length=40), nullable=False),
        sa.Column("upstream_name", sa.String(length=200), nullable=False),
        sa.Column("downstream_code", sa.String(length=40), nullable=False),
        sa.Column("downstream_name", sa.String(length=200), nullable=False),
        sa.Column("water_class", sa.String(length=8), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["basin_id"], ["compensation_basin.id"], name=op.f("fk_compensation_section_basin_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_section")),
        sa.UniqueConstraint("code", name=op.f("uq_compensation_section_code")),
    )
    op.create_table(
        "compensation_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("scheme_version", sa.String(length=60), nullable=False),
        sa.Column("first_year", sa.Integer(), nullable=False),
        sa.Column("last_year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("external_fen", sa.BigInteger(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["section_id"], ["compensation_section.id"], name=op.f("fk_compensation_agreement_section_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_agreement")),
        sa.UniqueConstraint("code", name=op.f("uq_compensation_agreement_code")),
        sa.UniqueConstraint("section_id", "scheme_version", name=op.f("uq_compensation_agreement_section_id")),
    )
    op.create_table(
        "compensation_observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("parameter", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=30), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["compensation_import.id"], name=op.f("fk_compensation_observation_import_id")
        ),
        sa.ForeignKeyConstraint(
            ["section_id"], ["compensation_section.id"], name=op.f("fk_compensation_observation_section_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_observation")),
        sa.UniqueConstraint(
            "section_id", "year", "month", "parameter", name=op.f("uq_compensation_observation_section_id")
        ),
    )
    op.create_index(
        "ix_compensation_observation_year", "compensation_observation", ["year", "section_id"], unique=False
    )
    op.create_table(
        "compensation_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("index_value", sa.String(length=20), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("means", sa.JSON(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("upstream_fen", sa.BigInteger(), nullable=False),
        sa.Column("downstream_fen", sa.BigInteger(), nullable=False),
        sa.Column("scheme_version", sa.String(length=60), nullable=False),
        sa.Column("scheme_digest", sa.String(length=64), nullable=False),
        sa.Column("data_digest", sa.String(length=64), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("flagged", sa.JSON(), nullable=False),
        sa.Column("gaps_accepted", sa.Boolean(), nullable=False),
        sa.Column("gaps_reason", sa.Text(), nullable=False),
        sa.Column("batch", sa.String(length=100), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"], ["compensation_agreement.id"], name=op.f("fk_compensation_settlement_agreement_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_settlement")),
        sa.UniqueConstraint("agreement_id", "year", name=op.f("uq_compensation_settlement_agreement_id")),
    )


def downgrade() -> None:
    op.drop_table("compensation_settlement")
    op.drop_table("compensation_observation")
    op.drop_table("compensation_agreement")
    op.drop_table("compensation_section")
    op.drop_table("compensation_damage_case")
    op.drop_table("compensation_basin")
    op.drop_table("compensation_scheme")
    op.drop_table("compensation_import")
