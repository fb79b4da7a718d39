"""platform kit: tasks with leases, outbox events, notifications, login throttling, organisation-owned runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('pending', 'running')")
ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        'task',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=160), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=True),
        sa.Column('lane', sa.String(length=20), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('worker', sa.String(length=120), nullable=False),
        sa.Column('cancel_requested', sa.Boolean(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('traceback', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_task')),
    )
    op.create_index('ix_task_due', 'task', ['status', 'lane', 'due_at'], unique=False)
    op.create_index('uq_task_live_key', 'task', ['key'], unique=True, sqlite_where=LIVE, postgresql_where=LIVE)

    op.create_table(
        'outbox_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=120), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fanned_out', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_event')),
    )
    op.create_index('ix_outbox_event_pending', 'outbox_event', ['fanned_out', 'id'], unique=False)

    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=80), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    )
    op.create_index('ix_notification_user_unread', 'notification', ['user_id', 'read_at'], unique=False)

    op.create_table(
        'login_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=80), nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt')),
    )
    op.create_index('ix_login_attempt_username_at', 'login_attempt', ['username', 'at'], unique=False)
    op.create_index('ix_login_attempt_ip_at', 'login_attempt', ['ip', 'at'], unique=False)

    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_region_organisation_id'), 'organisation', ['organisation_id'], ['id'])

    # runs left queued or running by the old job runner have no task: they would block their year for ever
    op.execute("UPDATE accounting_run SET status = 'failed', message = 'interrupted by the upgrade to the task "
               "queue; start it again' WHERE status IN ('queued', 'running')")
    with op.batch_alter_table('accounting_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_params', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('traceback', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('task_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_accounting_run_organisation_id'), 'organisation', ['organisation_id'],
                                    ['id'])
        batch_op.create_index('uq_accounting_run_active', ['region_id', 'year'], unique=True, sqlite_where=ACTIVE,
                              postgresql_where=ACTIVE)

    # usernames are stored under one spelling (lower case), so U_ADMIN and u_admin cannot both exist
    op.execute("UPDATE user_account SET username = lower(username)")


def downgrade() -> None:
    with op.batch_alter_table('accounting_run', schema=None) as batch_op:
        batch_op.drop_index('uq_accounting_run_active')
        batch_op.drop_constraint(op.f('fk_accounting_run_organisation_id'), type_='foreignkey')
        batch_op.drop_column('task_id')
        batch_op.drop_column('organisation_id')
        batch_op.drop_column('traceback')
        batch_op.drop_column('message_params')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_region_organisation_id'), type_='foreignkey')
        batch_op.drop_column('organisation_id')
    op.drop_index('ix_login_attempt_ip_at', table_name='login_attempt')
    op.drop_index('ix_login_attempt_username_at', table_name='login_attempt')
    op.drop_table('login_attempt')
    op.drop_index('ix_notification_user_unread', table_name='notification')
    op.drop_table('notification')
    op.drop_index('ix_outbox_event_pending', table_name='outbox_event')
    op.drop_table('outbox_event')
    op.drop_index('uq_task_live_key', table_name='task')
    op.drop_index('ix_task_due', table_name='task')
    op.drop_table('task')
