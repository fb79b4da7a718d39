"""Tables of the cooperatives: who each cooperative serves, its intake contracts, asset packages, revenue and
what each holder was paid (money in integer fen: exact on every database)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

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
    UniqueConstraint,
    false,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, Caller, Scoped, UtcDateTime
from gep.registry.models import Holder


def _own_or_my_holders(cls: type, caller: Caller) -> ColumnElement[bool]:
    """Rows of the caller's cooperative, or about the holders the caller stands for (a villager's own)."""
    mine = []
    if caller.organisation_id is not None:
        mine.append(cls.organisation_id == caller.organisation_id)  # type: ignore[attr-defined]
    if caller.user_id is not None and hasattr(cls, "holder_id"):
        mine.append(cls.holder_id.in_(select(Holder.id).where(Holder.user_id == caller.user_id)))
    return or_(*mine) if mine else false()


class CooperativeScoped(Scoped):
    read_all: ClassVar[str] = "cooperatives.read_all"

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        return None if caller.can(cls.read_all) else _own_or_my_holders(cls, caller)


class Cooperative(Base):
    """A two-mountain cooperative (an organisation of kind cooperative) and the area it serves."""

    __tablename__ = "coop_cooperative"
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"))
    county_code: Mapped[str] = mapped_column(String(40), default="")  # empty: the whole region
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("registry_holder.id"), nullable=True)  # as a holder


class IntakeContract(CooperativeScoped, Base):
    """A right taken in from its holder: by lease, transfer, trusteeship, shares, buy-out or acquisition."""

    __tablename__ = "coop_contract"
    __table_args__ = (Index("ix_coop_contract_org", "organisation_id", "status"),
                      Index("ix_coop_contract_holder", "holder_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    right_id: Mapped[int] = mapped_column(ForeignKey("registry_right.id"))
    parcel_id: Mapped[int] = mapped_column(ForeignKey("registry_parcel.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("registry_holder.id"))  # who brought the right in
    mode: Mapped[str] = mapped_column(String(20))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date, nullable=True)
    annual_rent_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    lump_sum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_share_pct: Mapped[str] = mapped_column(String(12), default="0")  # a Decimal, as text
    payment: Mapped[str] = mapped_column(String(12), default="annual")
    area_m2: Mapped[float] = mapped_column(Float)
    lock_id: Mapped[str] = mapped_column(String(40), default="")  # the registry lock while it lasts
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, ended
    document: Mapped[str] = mapped_column(String(300), default="")
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AssetPackage(CooperativeScoped, Base):
    """Rights taken in, bundled (contiguous or not) to be brought to the exchange or a bank."""

    __tablename__ = "coop_package"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    vep: Mapped[dict] = mapped_column(JSON, default=dict)  # the last valuation: yuan by category, run, year
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PackageItem(Base):
    __tablename__ = "coop_package_item"
    __table_args__ = (UniqueConstraint("contract_id"),)  # a contract is in one package at most
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("coop_package.id", ondelete="CASCADE"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("coop_contract.id"))


class Revenue(CooperativeScoped, Base):
    """Money a package earned, and how it was shared out."""

    __tablename__ = "coop_revenue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    package_id: Mapped[int] = mapped_column(ForeignKey("coop_package.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300), default="")
    residue_account: Mapped[str] = mapped_column(String(200))
    residue_fen: Mapped[int] = mapped_column(BigInteger)
    retained_fen: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Payment(CooperativeScoped, Base):
    """What a holder was paid: a share of a package's revenue, or a contract's rent."""

    __tablename__ = "coop_payment"
    __table_args__ = (Index("ix_coop_payment_holder", "holder_id"),
                      UniqueConstraint("contract_id", "kind", "period"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("coop_contract.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("registry_holder.id"))
    kind: Mapped[str] = mapped_column(String(12))  # share, rent, lump_sum
    period: Mapped[str] = mapped_column(String(40))  # the revenue's id, the rent's year, "signing"
    revenue_id: Mapped[int | None] = mapped_column(ForeignKey("coop_revenue.id"), nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
