"""credit: catalogue versions, subjects, events, scores, score changes, objections, imports

Revision ID: credit_0001
Revises: (depends on the platform core, 0002)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "credit_0001"
down_revision = None
branch_labels = ("credit",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "credit_catalogue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_catalogue")),
        sa.UniqueConstraint("version", name=op.f("uq_credit_catalogue_version")),
    )
    op.create_table(
        "credit_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("recorded", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_import")),
        sa.UniqueConstraint("digest", name=op.f("uq_credit_import_digest")),
    )
    op.create_table(
        "credit_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("county_code", sa.String(length=40), nullable=False),
        sa.Column("township_code", sa.String(length=40), nullable=False),
        sa.Column("village_code", sa.String(length=40), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_credit_subject_organisation_id")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_credit_subject_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_subject")),
        sa.UniqueConstraint("code", name=op.f("uq_credit_subject_code")),
    )
    op.create_index("ix_credit_subject_zone", "credit_subject", ["county_code", "village_code"], unique=False)
    op.create_table(
        "credit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=10), nullable=False),
        sa.Column("list", sa.String(length=10), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("veto", sa.Boolean(), nullable=False),
        sa.Column("catalogue_version", sa.String(length=80), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["credit_subject.id"], name=op.f("fk_credit_event_subject_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_event")),
        sa.UniqueConstraint("key", name=op.f("uq_credit_event_key")),
    )
    op.create_index("ix_credit_event_expiry", "credit_event", ["counted", "expires_on"], unique=False)
    op.create_index("ix_credit_event_queue", "credit_event", ["state", "id"], unique=False)
    op.create_index("ix_credit_event_subject", "credit_event", ["subject_id", "state"], unique=False)
    op.create_table(
        "credit_score",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=4), nullable=False),
        sa.Column("vetoed", sa.Boolean(), nullable=False),
        sa.Column("catalogue_version", sa.String(length=80), nullable=False),
        sa.Column("tally", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["credit_subject.id"], name=op.f("fk_credit_score_subject_id")),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_credit_score")),
    )
    op.create_index("ix_credit_score_grade", "credit_score", ["grade"], unique=False)
    op.create_table(
        "credit_score_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("before_score", sa.Integer(), nullable=True),
        sa.Column("after_score", sa.Integer(), nullable=False),
        sa.Column("before_grade", sa.String(length=4), nullable=False),
        sa.Column("after_grade", sa.String(length=4), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("catalogue_version", sa.String(length=80), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["credit_subject.id"], name=op.f("fk_credit_score_change_subject_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_score_change")),
    )
    op.create_index("ix_credit_score_change_subject", "credit_score_change", ["subject_id", "id"], unique=False)
    op.create_table(
        "credit_objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("by_user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=1000), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["credit_event.id"], name=op.f("fk_credit_objection_event_id")),
        sa.ForeignKeyConstraint(["subject_id"], ["credit_subject.id"], name=op.f("fk_credit_objection_subject_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_objection")),
    )
    op.create_index("ix_credit_objection_state", "credit_objection", ["state", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_credit_objection_state", table_name="credit_objection")
    op.drop_table("credit_objection")
    op.drop_index("ix_credit_score_change_subject", table_name="credit_score_change")
    op.drop_table("credit_score_change")
    op.drop_index("ix_credit_score_grade", table_name="credit_score")
    op.drop_table("credit_score")
    op.drop_index("ix_credit_event_subject", table_name="credit_event")
    op.drop_index("ix_credit_event_queue", table_name="credit_event")
    op.drop_index("ix_credit_event_expiry", table_name="credit_event")
    op.drop_table("credit_event")
    op.drop_index("ix_credit_subject_zone", table_name="credit_subject")
    op.drop_table("credit_subject")
    op.drop_table("credit_import")
    op.drop_table("credit_catalogue")
