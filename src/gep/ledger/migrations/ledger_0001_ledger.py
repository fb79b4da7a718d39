"""ledger: accounts and transfers (double entry)

Revision ID: ledger_0001
Revises: (depends on 0002)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ledger_0001"
down_revision = None
branch_labels = ("ledger",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "ledger_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("no_overdraft", sa.Boolean(), nullable=False),
        sa.Column("no_overcredit", sa.Boolean(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_ledger_account_organisation_id")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_ledger_account_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_account")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_account_code")),
    )
    op.create_table(
        "ledger_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("batch", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=14), nullable=False),
        sa.Column("debit_account_id", sa.Integer(), nullable=False),
        sa.Column("credit_account_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("pending_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("memo", sa.String(length=300), nullable=False),
        sa.Column("ref_type", sa.String(length=40), nullable=False),
        sa.Column("ref_id", sa.String(length=60), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_account_id"], ["ledger_account.id"], name=op.f("fk_ledger_transfer_credit_account_id")
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"], ["ledger_account.id"], name=op.f("fk_ledger_transfer_debit_account_id")
        ),
        sa.ForeignKeyConstraint(["pending_id"], ["ledger_transfer.id"], name=op.f("fk_ledger_transfer_pending_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfer")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_transfer_key")),
        sa.UniqueConstraint("pending_id", name=op.f("uq_ledger_transfer_pending_id")),
    )
    op.create_index("ix_ledger_transfer_credit", "ledger_transfer", ["credit_account_id", "id"], unique=False)
    op.create_index("ix_ledger_transfer_debit", "ledger_transfer", ["debit_account_id", "id"], unique=False)
    op.create_index("ix_ledger_transfer_ref", "ledger_transfer", ["ref_type", "ref_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ledger_transfer_ref", table_name="ledger_transfer")
    op.drop_index("ix_ledger_transfer_debit", table_name="ledger_transfer")
    op.drop_index("ix_ledger_transfer_credit", table_name="ledger_transfer")
    op.drop_table("ledger_transfer")
    op.drop_table("ledger_account")
