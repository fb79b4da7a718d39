"""assessment: reward policies and rounds

Revision ID: assessment_0002
Revises: assessment_0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assessment_0002"
down_revision = "assessment_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_reward_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_reward_policy")),
        sa.UniqueConstraint("version", name=op.f("uq_assessment_reward_policy_version")),
    )
    op.create_table(
        "assessment_reward_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=60), nullable=False),
        sa.Column("policy_digest", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("batch_key", sa.String(length=80), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["user_account.id"], name=op.f("fk_assessment_reward_round_approved_by")
        ),
        sa.ForeignKeyConstraint(
            ["computed_by"], ["user_account.id"], name=op.f("fk_assessment_reward_round_computed_by")
        ),
        sa.ForeignKeyConstraint(["region_id"], ["region.id"], name=op.f("fk_assessment_reward_round_region_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_reward_round")),
        sa.UniqueConstraint(
            "policy_version", "region_id", "year", name=op.f("uq_assessment_reward_round_policy_version")
        ),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("assessment_reward_round")
    op.drop_table("assessment_reward_policy")
    # ### end Alembic commands ###
