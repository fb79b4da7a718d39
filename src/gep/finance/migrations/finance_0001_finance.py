"""finance: loans, collateral, instalments, loan steps, settlement records and their imports

Revision ID: finance_0001
Revises: (depends on credit_0001, registry_0001)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "finance_0001"
down_revision = None
branch_labels = ("finance",)
depends_on = ("credit_0001", "registry_0001")


def upgrade() -> None:
    op.create_table(
        "finance_settlement_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("recorded", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_settlement_import")),
        sa.UniqueConstraint("digest", name=op.f("uq_finance_settlement_import_digest")),
    )
    op.create_table(
        "finance_loan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("product", sa.String(length=40), nullable=False),
        sa.Column("bank_org_id", sa.Integer(), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("borrower_kind", sa.String(length=20), nullable=False),
        sa.Column("borrower_subject_id", sa.Integer(), nullable=True),
        sa.Column("borrower_user_id", sa.Integer(), nullable=True),
        sa.Column("borrower_org_id", sa.Integer(), nullable=True),
        sa.Column("borrower_name", sa.String(length=200), nullable=False),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=300), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("principal_account_id", sa.Integer(), nullable=True),
        sa.Column("borrower_account_id", sa.Integer(), nullable=True),
        sa.Column("disbursed_on", sa.Date(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bank_org_id"], ["organisation.id"], name=op.f("fk_finance_loan_bank_org_id")),
        sa.ForeignKeyConstraint(["borrower_org_id"], ["organisation.id"], name=op.f("fk_finance_loan_borrower_org_id")),
        sa.ForeignKeyConstraint(
            ["borrower_subject_id"], ["credit_subject.id"], name=op.f("fk_finance_loan_borrower_subject_id")
        ),
        sa.ForeignKeyConstraint(
            ["borrower_user_id"], ["user_account.id"], name=op.f("fk_finance_loan_borrower_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_loan")),
        sa.UniqueConstraint("code", name=op.f("uq_finance_loan_code")),
        sa.UniqueConstraint("key", name=op.f("uq_finance_loan_key")),
    )
    op.create_index("ix_finance_loan_bank", "finance_loan", ["bank_org_id", "state"], unique=False)
    op.create_index("ix_finance_loan_borrower", "finance_loan", ["borrower_user_id", "borrower_org_id"], unique=False)
    op.create_table(
        "finance_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("counterpart", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["credit_subject.id"], name=op.f("fk_finance_settlement_subject_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_settlement")),
        sa.UniqueConstraint("subject_id", "reference", name=op.f("uq_finance_settlement_subject_id")),
    )
    op.create_index("ix_finance_settlement_on", "finance_settlement", ["subject_id", "on"], unique=False)
    op.create_table(
        "finance_collateral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("right_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("parcel_kind", sa.String(length=30), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=True),
        sa.Column("appraisal_fen", sa.BigInteger(), nullable=True),
        sa.Column("lock_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("proceeds_fen", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["finance_loan.id"], name=op.f("fk_finance_collateral_loan_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_collateral")),
        sa.UniqueConstraint("loan_id", "right_id", name=op.f("uq_finance_collateral_loan_id")),
    )
    op.create_index("ix_finance_collateral_right", "finance_collateral", ["right_id"], unique=False)
    op.create_table(
        "finance_instalment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["finance_loan.id"], name=op.f("fk_finance_instalment_loan_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_instalment")),
        sa.UniqueConstraint("loan_id", "n", name=op.f("uq_finance_instalment_loan_id")),
    )
    op.create_table(
        "finance_loan_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("verb", sa.String(length=20), nullable=False),
        sa.Column("before", sa.String(length=12), nullable=False),
        sa.Column("after", sa.String(length=12), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["finance_loan.id"], name=op.f("fk_finance_loan_step_loan_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_loan_step")),
    )
    op.create_index("ix_finance_loan_step_loan", "finance_loan_step", ["loan_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_finance_loan_step_loan", table_name="finance_loan_step")
    op.drop_table("finance_loan_step")
    op.drop_table("finance_instalment")
    op.drop_index("ix_finance_collateral_right", table_name="finance_collateral")
    op.drop_table("finance_collateral")
    op.drop_index("ix_finance_settlement_on", table_name="finance_settlement")
    op.drop_table("finance_settlement")
    op.drop_index("ix_finance_loan_borrower", table_name="finance_loan")
    op.drop_index("ix_finance_loan_bank", table_name="finance_loan")
    op.drop_table("finance_loan")
    op.drop_table("finance_settlement_import")
