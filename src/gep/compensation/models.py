"""Tables of watershed compensation and damage valuation: scheme rounds as installed (their text's digest),
basins, monitoring sections between an upstream and a downstream county, agreements per section and round,
monitoring observations and their imports, yearly settlements (what data, formula and thresholds they used,
and the ledger batch they posted), and damage cases with their valuation."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, UtcDateTime


class SchemeRound(Base):
    """A scheme round as installed from the schemes file; a settlement names the version and digest it used."""

    __tablename__ = "compensation_scheme"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(60), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict] = mapped_column(JSON, default=dict)
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Basin(Base):
    __tablename__ = "compensation_basin"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    scheme_code: Mapped[str] = mapped_column(String(40))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Section(Base):
    """A cross-county monitoring section (交接断面): water flows from the upstream county to the downstream one."""

    __tablename__ = "compensation_section"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    basin_id: Mapped[int] = mapped_column(ForeignKey("compensation_basin.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    river: Mapped[str] = mapped_column(String(100), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    upstream_code: Mapped[str] = mapped_column(String(40))
    upstream_name: Mapped[str] = mapped_column(String(200))
    downstream_code: Mapped[str] = mapped_column(String(40))
    downstream_name: Mapped[str] = mapped_column(String(200))
    water_class: Mapped[str] = mapped_column(String(8))  # the target class: II or III
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class Agreement(Base):
    """The agreement of one section's pair of counties for one round of the scheme: the amount each stakes a
    year, outside money, and the agreed baseline (per parameter, as decimal strings)."""

    __tablename__ = "compensation_agreement"
    __table_args__ = (UniqueConstraint("section_id", "scheme_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("compensation_section.id"))
    scheme_version: Mapped[str] = mapped_column(String(60))
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    external_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    baseline: Mapped[dict] = mapped_column(JSON, default=dict)
    signed_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ObservationImport(Base):
    __tablename__ = "compensation_import"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), default="")
    rows: Mapped[int] = mapped_column(Integer)
    stored: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Observation(Base):
    """One monitored value: a month's (month 1–12) or, for water-use efficiency, a year's (month 0)."""

    __tablename__ = "compensation_observation"
    __table_args__ = (UniqueConstraint("section_id", "year", "month", "parameter"),
                      Index("ix_compensation_observation_year", "year", "section_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("compensation_section.id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    parameter: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(30))  # a decimal
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # beyond the plausible range: look again
    import_id: Mapped[int | None] = mapped_column(ForeignKey("compensation_import.id"), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class Settlement(Base):
    """The year-end settlement of an agreement: the data (digest), formula (scheme version and digest),
    baseline and thresholds it used, the index and its parts, the direction and the money each side receives
    from the pool. Closed, it has posted its ledger batch and never changes."""

    __tablename__ = "compensation_settlement"
    __table_args__ = (UniqueConstraint("agreement_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("compensation_agreement.id"))
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="draft")  # draft, closed
    index_value: Mapped[str] = mapped_column(String(20))
    parts: Mapped[dict] = mapped_column(JSON, default=dict)
    means: Mapped[dict] = mapped_column(JSON, default=dict)
    baseline: Mapped[dict] = mapped_column(JSON, default=dict)
    thresholds: Mapped[dict] = mapped_column(JSON, default=dict)
    direction: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    upstream_fen: Mapped[int] = mapped_column(BigInteger)
    downstream_fen: Mapped[int] = mapped_column(BigInteger)
    scheme_version: Mapped[str] = mapped_column(String(60))
    scheme_digest: Mapped[str] = mapped_column(String(64))
    data_digest: Mapped[str] = mapped_column(String(64))
    observations: Mapped[int] = mapped_column(Integer)
    gaps: Mapped[list] = mapped_column(JSON, default=list)
    flagged: Mapped[list] = mapped_column(JSON, default=list)
    gaps_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    gaps_reason: Mapped[str] = mapped_column(Text, default="")
    batch: Mapped[str] = mapped_column(String(100), default="")
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class DamageCase(Base):
    """An ecological damage case valued by GEP: where (a polygon, WGS84 GeoJSON), when, what changed, how long
    recovery takes and along which path, the discount rate and price year, and the valuation made from a stored
    accounting run (kept, with every parameter, so that it can be recomputed)."""

    __tablename__ = "compensation_damage_case"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    responsible: Mapped[str] = mapped_column(String(200), default="")
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    run_id: Mapped[int] = mapped_column(Integer)
    geometry: Mapped[dict] = mapped_column(JSON)
    occurred_on: Mapped[date] = mapped_column(Date)
    from_ecosystem: Mapped[str] = mapped_column(String(60))
    to_ecosystem: Mapped[str] = mapped_column(String(60))
    recovery_years: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(20))
    curve: Mapped[list] = mapped_column(JSON, default=list)
    discount_rate: Mapped[str] = mapped_column(String(20))
    price_year: Mapped[int] = mapped_column(Integer)
    items: Mapped[list] = mapped_column(JSON, default=list)  # other losses: {name, yuan, source}
    carbon_price_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # per tonne, for the carbon-sink option
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    retirements: Mapped[list] = mapped_column(JSON, default=list)  # carbon units retired for the case
    state: Mapped[str] = mapped_column(String(20), default="valued")  # valued, remedied
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
