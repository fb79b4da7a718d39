"""exchange: a listing may sell a pledged right for its bank after a default (collateral_ref)

Revision ID: exchange_0003
Revises: exchange_0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "exchange_0003"
down_revision = "exchange_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_listing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collateral_ref", sa.String(length=80), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("exchange_listing", schema=None) as batch_op:
        batch_op.drop_column("collateral_ref")
