"""Tables of the discharge-rights registry: enterprises (organisations) with their one permit and its lines,
quota accounts and every quota entry (double entry, per pollutant and year, in grams), fee bills, pledges,
emission records and their imports, alerts, offers on the exchange, and the checks of new projects against
the reserve."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, Caller, Scoped, UtcDateTime


class Enterprise(Scoped, Base):
    """A discharging unit: an organisation with its unified social credit code. It sees itself; the bureau
    sees every one."""

    __tablename__ = "discharge_enterprise"
    read_all: ClassVar[str] = "discharge.read_all"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(40), unique=True)
    county_code: Mapped[str] = mapped_column(String(40))
    industry: Mapped[str] = mapped_column(String(100), default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        if caller.can(cls.read_all):
            return None
        return super().scope(caller)


class Permit(Base):
    """The enterprise's one permit (一企一证): its term (at most five years) and the lines allocated."""

    __tablename__ = "discharge_permit"
    __table_args__ = (Index("ix_discharge_permit_enterprise", "enterprise_id", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("discharge_enterprise.id"))
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="active")  # active, expired
    issued_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issuer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)  # paid the fees
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PermitLine(Base):
    """A pollutant of a permit: the tonnes a year allocated and the fee rate charged for them."""

    __tablename__ = "discharge_permit_line"
    __table_args__ = (UniqueConstraint("permit_id", "pollutant"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("discharge_permit.id"))
    pollutant: Mapped[str] = mapped_column(String(10))
    grams_per_year: Mapped[int] = mapped_column(BigInteger)
    fee_yuan_per_t_year: Mapped[str] = mapped_column(String(20))  # a decimal, as configured when issued


class QuotaAccount(Base):
    """Where quota is: a county's (or the city's) cap and reserve, an enterprise's holding and what it emitted,
    or an offer's escrow."""

    __tablename__ = "discharge_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # rules.ACCOUNT_KINDS
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(40), default="")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("discharge_enterprise.id"), nullable=True)


class QuotaEntry(Base):
    """Quota moving from one account to another, for one pollutant and year. Never changed; a balance is what
    came in less what went out, so quota is neither made nor lost between the cap, reserves, enterprises and
    what was emitted."""

    __tablename__ = "discharge_entry"
    __table_args__ = (Index("ix_discharge_entry_to", "to_id", "pollutant", "year"),
                      Index("ix_discharge_entry_from", "from_id", "pollutant", "year"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # idempotency: the same booking is made once
    from_id: Mapped[int] = mapped_column(ForeignKey("discharge_account.id"))
    to_id: Mapped[int] = mapped_column(ForeignKey("discharge_account.id"))
    pollutant: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    grams: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))  # rules.ENTRY_KINDS
    ref: Mapped[str] = mapped_column(String(80), default="")
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class FeeBill(Base):
    """A year's paid-use fee of a permit (t/a × rate), paid through the ledger."""

    __tablename__ = "discharge_fee_bill"
    __table_args__ = (UniqueConstraint("permit_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("discharge_enterprise.id"))
    permit_id: Mapped[int] = mapped_column(ForeignKey("discharge_permit.id"))
    year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(10), default="due")  # due, paid
    due_on: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Pledge(Base):
    """Quota pledged to a bank: locked (not sold, offered or bought back) until released."""

    __tablename__ = "discharge_pledge"
    __table_args__ = (Index("ix_discharge_pledge_enterprise", "enterprise_id", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("discharge_enterprise.id"))
    pollutant: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    grams: Mapped[int] = mapped_column(BigInteger)
    bank_name: Mapped[str] = mapped_column(String(200))
    contract_no: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(10), default="active")  # active, released
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class EmissionImport(Base):
    """A file (or an API call) of emission records: what it booked and what it skipped as already booked."""

    __tablename__ = "discharge_import"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class EmissionRecord(Base):
    """A monitored emission of one enterprise, pollutant and time (hourly or daily), drawn from its card."""

    __tablename__ = "discharge_emission"
    __table_args__ = (UniqueConstraint("enterprise_id", "pollutant", "at", name="uq_discharge_emission"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("discharge_enterprise.id"))
    pollutant: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    grams: Mapped[int] = mapped_column(BigInteger)
    import_id: Mapped[int] = mapped_column(ForeignKey("discharge_import.id"))


class QuotaAlert(Base):
    """An enterprise's use of a year's quota passed a threshold (once per threshold)."""

    __tablename__ = "discharge_alert"
    __table_args__ = (UniqueConstraint("enterprise_id", "pollutant", "year", "threshold_pct"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("discharge_enterprise.id"))
    pollutant: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    threshold_pct: Mapped[int] = mapped_column(Integer)
    used_grams: Mapped[int] = mapped_column(BigInteger)
    held_grams: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class QuotaOffer(Base):
    """Quota set aside in escrow while it is offered on the exchange: kg a year over a run of years; delivered
    to buyers as trades settle, the rest returned when the listing ends."""

    __tablename__ = "discharge_offer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("discharge_account.id"))  # the seller's (reserve or firm)
    escrow_id: Mapped[int | None] = mapped_column(ForeignKey("discharge_account.id"), nullable=True)
    pollutant: Mapped[str] = mapped_column(String(10))
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    kg_per_year: Mapped[int] = mapped_column(BigInteger)
    delivered_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    returned_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    sold_kg: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    settled_deals: Mapped[list[int]] = mapped_column(JSON, default=list)
    listing: Mapped[str] = mapped_column(String(40), default="")
    start_price_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # per kg/a for the whole term
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ProjectCheck(Base):
    """A new construction project checked against its county's reserve: refused where the reserve is short
    ("所在区域排污权储备量不足，将不得新增新的建设项目")."""

    __tablename__ = "discharge_project_check"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    needs: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # pollutant -> grams a year
    reserve: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    allowed: Mapped[bool] = mapped_column(Boolean)
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
