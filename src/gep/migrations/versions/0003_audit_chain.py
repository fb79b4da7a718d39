"""the audit log's tamper-evident chain: chain numbers and hashes on audit rows, and the seals

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f('uq_audit_log_seq'), ['seq'])
    op.create_table(
        'audit_seal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=80), nullable=False),
        sa.Column('signature', sa.LargeBinary(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_seal')),
    )


def downgrade() -> None:
    op.drop_table('audit_seal')
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_constraint(batch.f('uq_audit_log_seq'), type_='unique')
        batch.drop_column('hash')
        batch.drop_column('seq')
