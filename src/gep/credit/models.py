"""Tables of ecological credit: the catalogue versions, subjects (people, enterprises, villages), the events
recorded about them (each reviewed before it counts), the current score of each subject with the tally it is
updated from, every change of a score, objections, and event imports (a file is recorded once)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, Caller, Scoped, UtcDateTime, own_rows


class CreditCatalogue(Base):
    """A version of the catalogue, kept for good: every event and score names the version that priced it."""

    __tablename__ = "credit_catalogue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(80), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CreditSubject(Scoped, Base):
    """Who is rated: a person (a registry holder or a user), an enterprise (an organisation) or a village. A
    person sees their own, an organisation its own, the credit office every one."""

    __tablename__ = "credit_subject"
    __table_args__ = (Index("ix_credit_subject_zone", "county_code", "village_code"),)
    read_all: ClassVar[str] = "credit.read_all"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # catalogue.SUBJECT_KINDS
    code: Mapped[str] = mapped_column(String(60), unique=True)  # "holder:12", "org:3", "village:331123…", "user:5"
    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    holder_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    region_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    county_code: Mapped[str] = mapped_column(String(40), default="")
    township_code: Mapped[str] = mapped_column(String(40), default="")
    village_code: Mapped[str] = mapped_column(String(40), default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        return None if caller.can(cls.read_all) else own_rows(cls, caller)


class CreditEvent(Base):
    """Something a subject did (or failed to do), with its evidence and source; it counts only once accepted,
    from the day it happened until the day its validity ends."""

    __tablename__ = "credit_event"
    __table_args__ = (Index("ix_credit_event_subject", "subject_id", "state"),
                      Index("ix_credit_event_expiry", "counted", "expires_on"),
                      Index("ix_credit_event_queue", "state", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"))
    indicator: Mapped[str] = mapped_column(String(10))
    list: Mapped[str] = mapped_column(String(10))
    dimension: Mapped[str] = mapped_column(String(20))
    veto: Mapped[bool] = mapped_column(Boolean, default=False)
    catalogue_version: Mapped[str] = mapped_column(String(80))
    occurred_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[str] = mapped_column(String(40), default="")
    points: Mapped[int] = mapped_column(Integer)  # always ≥ 0; the list says which way it moves the score
    evidence: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(10))  # rules.SOURCES
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    key: Mapped[str] = mapped_column(String(300), unique=True)  # the same event is recorded once
    state: Mapped[str] = mapped_column(String(12), default="pending")  # rules.EVENT_STATES
    counted: Mapped[bool] = mapped_column(Boolean, default=False)  # in the subject's tally now
    corrects_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reviewed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")


class CreditScore(Base):
    """A subject's score now, and the raw sums per dimension it is updated from when an event counts or ends."""

    __tablename__ = "credit_score"
    __table_args__ = (Index("ix_credit_score_grade", "grade"),)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(4))
    vetoed: Mapped[bool] = mapped_column(Boolean, default=False)
    catalogue_version: Mapped[str] = mapped_column(String(80))
    tally: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ScoreChange(Base):
    """Every change of a score, with what caused it (never edited)."""

    __tablename__ = "credit_score_change"
    __table_args__ = (Index("ix_credit_score_change_subject", "subject_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"))
    before_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    after_score: Mapped[int] = mapped_column(Integer)
    before_grade: Mapped[str] = mapped_column(String(4), default="")
    after_grade: Mapped[str] = mapped_column(String(4))
    cause: Mapped[str] = mapped_column(String(20))  # accepted, withdrawn, expired, recount
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    catalogue_version: Mapped[str] = mapped_column(String(80))
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Objection(Base):
    """A subject disputes an event; the credit office upholds it (the event is withdrawn) or dismisses it."""

    __tablename__ = "credit_objection"
    __table_args__ = (Index("ix_credit_objection_state", "state", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("credit_event.id"))
    reason: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(12), default="open")  # open, upheld, dismissed
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decision: Mapped[str] = mapped_column(String(1000), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CreditImport(Base):
    """A file of events imported: its digest, so the same file is recorded once."""

    __tablename__ = "credit_import"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    recorded: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
