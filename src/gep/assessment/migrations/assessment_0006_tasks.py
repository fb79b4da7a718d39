"""assessment: the pilot's tasks

Revision ID: assessment_0006
Revises: assessment_0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "assessment_0006"
down_revision = "assessment_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("department_code", sa.String(length=40), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"], name=op.f("fk_assessment_task_created_by")),
        sa.ForeignKeyConstraint(["updated_by"], ["user_account.id"], name=op.f("fk_assessment_task_updated_by")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_task")),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("assessment_task")
    # ### end Alembic commands ###
