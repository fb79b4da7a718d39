"""exchange: a listing may sell units another domain set aside (carbon units, discharge quota)

Revision ID: exchange_0002
Revises: exchange_0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "exchange_0002"
down_revision = "exchange_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_listing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("units_ref", sa.String(length=60), server_default="", nullable=False))
    with op.batch_alter_table("exchange_category", schema=None) as batch_op:
        batch_op.add_column(sa.Column("units_from", sa.String(length=100), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("exchange_category", schema=None) as batch_op:
        batch_op.drop_column("units_from")
    with op.batch_alter_table("exchange_listing", schema=None) as batch_op:
        batch_op.drop_column("units_ref")
