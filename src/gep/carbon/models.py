"""Tables of the forest carbon registry: projects and their stands (registry parcels), monitoring reports with
their verification, issuances (one serial range each), unit accounts and the blocks of units they hold, every
move of units, retirements, and the units set aside while they are offered on the exchange."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
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

from gep.db import Base, Caller, Scoped, UtcDateTime, own_rows


class CarbonProject(Base):
    """A forest carbon project (public: the registry shows every project)."""

    __tablename__ = "carbon_project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(30))  # rules.PROJECT_TYPES
    methodology: Mapped[str] = mapped_column(String(60))  # a file of data/methods
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    county_code: Mapped[str] = mapped_column(String(40), default="")
    developer_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    developer_name: Mapped[str] = mapped_column(String(200))
    start: Mapped[date] = mapped_column(Date)
    crediting_years: Mapped[int] = mapped_column(Integer, default=20)
    area_ha: Mapped[float] = mapped_column(Float, default=0.0)
    geojson: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # stands' outline, WGS84
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    next_number: Mapped[int] = mapped_column(BigInteger, default=1)  # the next unit number to issue
    issued_t: Mapped[int] = mapped_column(BigInteger, default=0)
    retired_t: Mapped[int] = mapped_column(BigInteger, default=0)
    flag: Mapped[str] = mapped_column(Text, default="")  # the cross-check's warning, when issuance exceeds it
    check: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the last cross-check
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ProjectStand(Base):
    """A stand of a project: a parcel of the registry with its species group."""

    __tablename__ = "carbon_stand"
    __table_args__ = (UniqueConstraint("project_id", "parcel_id"), Index("ix_carbon_stand_parcel", "parcel_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_project.id"))
    parcel_id: Mapped[int] = mapped_column(ForeignKey("registry_parcel.id"))
    parcel_code: Mapped[str] = mapped_column(String(60))
    species: Mapped[str] = mapped_column(String(40))
    area_ha: Mapped[float] = mapped_column(Float)


class MonitoringPeriod(Base):
    """A monitoring report: the inventory of every stand at the start and end of the period, the estimate it
    gives, and the verifier's opinion."""

    __tablename__ = "carbon_period"
    __table_args__ = (UniqueConstraint("project_id", "start", name="uq_carbon_period_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_project.id"))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    measurements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # one per stand
    estimate: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # methodology.Estimate per stand
    estimated_t: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    verifier_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    verifier_name: Mapped[str] = mapped_column(String(200), default="")
    verified_t: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    opinion: Mapped[str] = mapped_column(Text, default="")
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Issuance(Base):
    """Units issued for a verified period: one serial range of the project, one vintage."""

    __tablename__ = "carbon_issuance"
    __table_args__ = (UniqueConstraint("period_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_project.id"))
    period_id: Mapped[int] = mapped_column(ForeignKey("carbon_period.id"))
    vintage: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("carbon_account.id"))
    issued_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UnitAccount(Scoped, Base):
    """Where units are held: an organisation's (or a person's) holding account, or the exchange's escrow for one
    offer. Its owner (and the carbon office) sees it."""

    __tablename__ = "carbon_account"
    read_all: ClassVar[str] = "carbon.read_all"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # holding, escrow
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        if caller.can(cls.read_all):
            return None
        return own_rows(cls, caller)


class UnitBlock(Base):
    """Units start..end (inclusive) of one project and vintage, in one account; active or retired. The blocks of
    a project never overlap and together cover exactly what it issued."""

    __tablename__ = "carbon_block"
    __table_args__ = (Index("ix_carbon_block_account", "account_id", "state"),
                      Index("ix_carbon_block_project", "project_id", "start"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_project.id"))
    vintage: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("carbon_account.id"))
    state: Mapped[str] = mapped_column(String(10), default="active")  # active, retired
    retirement_id: Mapped[int | None] = mapped_column(ForeignKey("carbon_retirement.id"), nullable=True)


class UnitMove(Base):
    """Every issuance, transfer, trade and retirement of a range of units. Never changed."""

    __tablename__ = "carbon_move"
    __table_args__ = (Index("ix_carbon_move_project", "project_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # issue, transfer, offer, deliver, return, retire
    project_id: Mapped[int] = mapped_column(ForeignKey("carbon_project.id"))
    vintage: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    from_account_id: Mapped[int | None] = mapped_column(ForeignKey("carbon_account.id"), nullable=True)
    to_account_id: Mapped[int | None] = mapped_column(ForeignKey("carbon_account.id"), nullable=True)
    ref: Mapped[str] = mapped_column(String(80), default="")
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Retirement(Base):
    """Units retired (注销) for a purpose and a beneficiary: public, with a signed certificate."""

    __tablename__ = "carbon_retirement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # the request's idempotency key
    account_id: Mapped[int] = mapped_column(ForeignKey("carbon_account.id"))
    holder_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(20))  # rules.PURPOSES
    beneficiary: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")  # the event, or the judgment's number
    ranges: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # project, vintage, start, end, serials
    certificate_serial: Mapped[str] = mapped_column(String(40), default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class ExchangeOffer(Base):
    """Units set aside in an escrow account while they are offered on the exchange: delivered to buyers as
    trades settle, the rest returned when the listing ends."""

    __tablename__ = "carbon_offer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("carbon_account.id"))  # the seller's holding account
    escrow_id: Mapped[int] = mapped_column(ForeignKey("carbon_account.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    returned: Mapped[int] = mapped_column(BigInteger, default=0)
    sold: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # known when the listing ends
    listing: Mapped[str] = mapped_column(String(40), default="")
    settled_deals: Mapped[list[int]] = mapped_column(JSON, default=list)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
