"""Tables of regions, zones (all four levels), accounting runs and their stored accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, Scoped, UtcDateTime

ACTIVE = ("queued", "running")


class Region(Base):
    __tablename__ = "region"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)  # the package's region id
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    package_path: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(80))
    years: Mapped[list] = mapped_column(JSON, default=list)
    levels: Mapped[list] = mapped_column(JSON, default=list)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)  # who keeps it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class Zone(Base):
    __tablename__ = "zone"
    __table_args__ = (UniqueConstraint("region_id", "code"), Index("ix_zone_region_parent", "region_id", "parent_code"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str] = mapped_column(String(40), default="")
    area_km2: Mapped[float] = mapped_column(Float, default=0.0)
    geometry: Mapped[str] = mapped_column(Text, default="")  # GeoJSON geometry in WGS84, simplified for maps


class AccountingRun(Scoped, Base):
    """One accounting of a region for a year; status and progress are updated by the job while it runs.

    Runs belong to the organisation that keeps the region: its members see them (with their errors), others
    see only the accounts once published. At most one run of a region and year is queued or running."""

    __tablename__ = "accounting_run"
    __table_args__ = (Index("uq_accounting_run_active", "region_id", "year", unique=True,
                            sqlite_where=text("status IN ('queued', 'running')"),
                            postgresql_where=text("status IN ('queued', 'running')")),)
    read_all = "regions.runs.read_all"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(80))
    price_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued running succeeded failed cancelled
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(200), default="")  # a msgid (the stages are fixed sentences)
    message: Mapped[str] = mapped_column(Text, default="")  # msgid template over message_params
    message_params: Mapped[dict] = mapped_column(JSON, default=dict)
    traceback: Mapped[str] = mapped_column(Text, default="")  # for administrators, when it failed unexpectedly
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    output_dir: Mapped[str] = mapped_column(Text, default="")  # the accounts folder (accounts.parquet, zones.gpkg …)
    gep_yuan: Mapped[float | None] = mapped_column(Float, nullable=True)
    reports: Mapped[dict] = mapped_column(JSON, default=dict)  # "zh.pdf" -> path
    run_metadata: Mapped[dict] = mapped_column(JSON, default=dict)


class AccountValue(Base):
    """One row of stored accounts: a sub-indicator of a zone in a run."""

    __tablename__ = "account_value"
    __table_args__ = (Index("ix_account_run_zone", "run_id", "zone_code"),
                      Index("ix_account_run_level", "run_id", "level"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("accounting_run.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20))
    zone_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(20))
    indicator: Mapped[str] = mapped_column(String(60))
    sub_indicator: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(30))
    value_yuan: Mapped[float] = mapped_column(Float)
