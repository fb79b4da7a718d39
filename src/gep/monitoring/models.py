"""Tables of monitoring: stations and their readings (one row per station, parameter and time) with the imports
that brought them, alerts (a parameter beyond its limit, a zone's land-cover loss, a patrol's report) with who
handled them, yearly rasters ingested for a region, land-cover change reports, and patrol reports with photos."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, UtcDateTime


class Station(Base):
    __tablename__ = "monitoring_station"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    county_code: Mapped[str] = mapped_column(String(40), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    thresholds: Mapped[dict] = mapped_column(JSON, default=dict)  # parameter -> {"limit": x} or {"limit_min": x}
    section_code: Mapped[str] = mapped_column(String(40), default="")  # a compensation section it measures
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Reading(Base):
    __tablename__ = "monitoring_reading"
    __table_args__ = (UniqueConstraint("station_id", "parameter", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("monitoring_station.id"))
    parameter: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    value: Mapped[float] = mapped_column(Float)
    flag: Mapped[int] = mapped_column(SmallInteger, default=0)  # 1: beyond the plausible range, look again
    import_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ReadingImport(Base):
    __tablename__ = "monitoring_import"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), default="")
    filename: Mapped[str] = mapped_column(String(300))
    rows: Mapped[int] = mapped_column(Integer)
    stored: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    gaps: Mapped[list] = mapped_column(JSON, default=list)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Alert(Base):
    """Something a department must look at: a station's episode beyond a limit, a zone's land-cover loss, or a
    ranger's report. One alert per episode, change or report (its `key`), however often it is seen again."""

    __tablename__ = "monitoring_alert"
    __table_args__ = (Index("ix_monitoring_alert_state", "state", "department"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # reading, land_change, patrol
    department: Mapped[str] = mapped_column(String(30))
    county_code: Mapped[str] = mapped_column(String(40), default="")
    zone_code: Mapped[str] = mapped_column(String(40), default="")
    station_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(300))  # msgid
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open, acknowledged, closed
    note: Mapped[str] = mapped_column(Text, default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class YearRaster(Base):
    """A yearly raster (land cover, NPP, precipitation) ingested for a region after the engine's checks."""

    __tablename__ = "monitoring_raster"
    __table_args__ = (UniqueConstraint("region_id", "layer", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    layer: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(300), default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class ChangeReport(Base):
    """Land-cover change between two years per zone: each group's loss, and the map of what changed."""

    __tablename__ = "monitoring_change"
    __table_args__ = (UniqueConstraint("region_id", "level", "year_from", "year_to"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(20))
    year_from: Mapped[int] = mapped_column(Integer)
    year_to: Mapped[int] = mapped_column(Integer)
    losses: Mapped[list] = mapped_column(JSON, default=list)
    image: Mapped[str] = mapped_column(String(500), default="")  # PNG of the changed pixels, Web Mercator
    bounds: Mapped[list] = mapped_column(JSON, default=list)  # [[south, west], [north, east]]
    digests: Mapped[dict] = mapped_column(JSON, default=dict)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class PatrolReport(Base):
    __tablename__ = "monitoring_patrol"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    county_code: Mapped[str] = mapped_column(String(40), default="")
    photos: Mapped[list] = mapped_column(JSON, default=list)  # [{"sha256", "type", "bytes"}]
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    by_name: Mapped[str] = mapped_column(String(200), default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
