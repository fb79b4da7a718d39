"""Tables of the registry: holders, parcels, rights and their locks (the current state, for reading), the history
of events (append-only: the record), and import batches (so a file is imported once)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, Caller, Scoped, UtcDateTime, own_rows


class Holder(Scoped, Base):
    """Who holds rights: a person, a village collective, an organisation or the state. Identity numbers are kept
    only as a digest (to recognise the same holder again) and masked (to show): never in full."""

    __tablename__ = "registry_holder"
    read_all: ClassVar[str] = "registry.holders.read"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # rules.HOLDER_KINDS
    name: Mapped[str] = mapped_column(String(200))
    id_digest: Mapped[str] = mapped_column(String(64), default="")
    id_masked: Mapped[str] = mapped_column(String(40), default="")
    village_code: Mapped[str] = mapped_column(String(40), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        """Registry staff see every holder; anyone else only themselves or their own organisation."""
        return None if caller.can(cls.read_all) else own_rows(cls, caller)


class Parcel(Base):
    """A piece of land, water or house (or a permit's place), in the region's equal-area CRS, with where it is."""

    __tablename__ = "registry_parcel"
    __table_args__ = (UniqueConstraint("region_id", "code"),
                      Index("ix_registry_parcel_bbox", "region_id", "kind", "minx", "maxx", "miny", "maxy"),
                      Index("ix_registry_parcel_village", "region_id", "village_code"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200), default="")
    area_m2: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    geometry: Mapped[bytes] = mapped_column(LargeBinary)  # WKB in the region's CRS
    geojson: Mapped[str] = mapped_column(Text)  # WGS84, for maps
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)
    county_code: Mapped[str] = mapped_column(String(40), default="")
    township_code: Mapped[str] = mapped_column(String(40), default="")
    village_code: Mapped[str] = mapped_column(String(40), default="")
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. annual compensation, water volume
    parents: Mapped[list] = mapped_column(JSON, default=list)
    children: Mapped[list] = mapped_column(JSON, default=list)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Right(Base):
    """A right on a parcel (ownership, contract, management, use): its holder, term and certificate."""

    __tablename__ = "registry_right"
    __table_args__ = (Index("ix_registry_right_parcel", "parcel_id"), Index("ix_registry_right_holder", "holder_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("registry_parcel.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    holder_id: Mapped[int] = mapped_column(ForeignKey("registry_holder.id"))
    start: Mapped[date | None] = mapped_column(Date, nullable=True)
    end: Mapped[date | None] = mapped_column(Date, nullable=True)
    certificate_no: Mapped[str] = mapped_column(String(80), unique=True)
    source_document: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)  # rises with every change: stale requests are refused


class Lock(Base):
    """A pledge, lease, freeze or pending trade on a right, while it lasts (the history keeps it afterwards)."""

    __tablename__ = "registry_lock"
    __table_args__ = (Index("ix_registry_lock_right", "right_id"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("registry_right.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    holder: Mapped[str] = mapped_column(String(200))
    holder_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)
    ref: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RegistryEvent(Base):
    """The history: one row per event, never changed or deleted; the tables above are what it adds up to."""

    __tablename__ = "registry_event"
    __table_args__ = (Index("ix_registry_event_region", "region_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    parcel_ids: Mapped[list] = mapped_column(JSON, default=list)
    right_ids: Mapped[list] = mapped_column(JSON, default=list)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    document: Mapped[str] = mapped_column(String(300), default="")
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class ImportBatch(Base):
    """A parcel file imported: its digest, so that the same file is not imported twice."""

    __tablename__ = "registry_import"
    __table_args__ = (UniqueConstraint("region_id", "digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(300))
    digest: Mapped[str] = mapped_column(String(64))
    parcels: Mapped[int] = mapped_column(Integer)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
