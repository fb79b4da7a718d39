"""Tables of the regional brand: producers, applications for certification with their inspections and state
changes, batches of certified products, the trace codes printed on their labels, and the hash chain of each batch's
steps with its signed head."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, UtcDateTime


class Producer(Base):
    """Someone who grows, processes or trades under the brand: an organisation of the platform or a person
    (a registry holder, e.g. a tea farmer)."""

    __tablename__ = "brand_producer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # grower, processor, trader
    county_code: Mapped[str] = mapped_column(String(40), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    holder_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # registry holder (a person)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Application(Base):
    """A producer's application to use the brand on a product, and, once certified, the product's certificate."""

    __tablename__ = "brand_application"
    __table_args__ = (Index("ix_brand_application_state", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("brand_producer.id"))
    category: Mapped[str] = mapped_column(String(30))
    product: Mapped[str] = mapped_column(String(200))
    parcel_ids: Mapped[list] = mapped_column(JSON, default=list)  # origin parcels in the registry
    state: Mapped[str] = mapped_column(String(20))
    standard_digest: Mapped[str] = mapped_column(String(64))  # the brand.toml it was judged by
    certificate_no: Mapped[str] = mapped_column(String(40), default="")
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Inspection(Base):
    __tablename__ = "brand_inspection"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("brand_application.id"))
    on: Mapped[date] = mapped_column(Date)
    results: Mapped[dict] = mapped_column(JSON, default=dict)  # item code -> measured value (text)
    passed: Mapped[bool] = mapped_column(Boolean)
    failed: Mapped[list] = mapped_column(JSON, default=list)
    laboratory: Mapped[str] = mapped_column(String(200), default="")
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class StateChange(Base):
    """Every move of an application, with who and why (the audit log has it too; this one is its history)."""

    __tablename__ = "brand_state_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("brand_application.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[str] = mapped_column(String(20))
    after: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Batch(Base):
    """A batch of a certified product: its quantity, its label codes, and (through its chain) its steps."""

    __tablename__ = "brand_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(40), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("brand_application.id"))
    quantity: Mapped[str] = mapped_column(String(30))  # Decimal text, in the category's unit
    unit: Mapped[str] = mapped_column(String(10))
    codes: Mapped[int] = mapped_column(Integer)
    sold_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TraceCode(Base):
    """A code printed on one label: random, so that it cannot be guessed from another."""

    __tablename__ = "brand_trace_code"
    __table_args__ = (UniqueConstraint("batch_id", "serial"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("brand_batch.id"))
    serial: Mapped[int] = mapped_column(Integer)
    scans: Mapped[int] = mapped_column(Integer, default=0)
    first_scan_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_scan_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ChainHead(Base):
    """The signed end of a batch's chain; appends lock this row, so a chain grows one record at a time."""

    __tablename__ = "brand_chain_head"
    batch_id: Mapped[int] = mapped_column(ForeignKey("brand_batch.id"), primary_key=True)
    length: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16), default="")
    signature: Mapped[str] = mapped_column(String(120), default="")


class TraceRecord(Base):
    """One step of a batch, linked to the one before by its hash and signed by the platform's key."""

    __tablename__ = "brand_trace_record"
    __table_args__ = (UniqueConstraint("batch_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("brand_batch.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[str] = mapped_column(String(40))  # ISO text, exactly as hashed
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    prev: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(120))
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
