"""Tables of the exchange: categories (data an administrator edits), listings, bidders' registrations, bids,
deals (awards and what follows them), each listing's history of moves, and trade demands with their matches.
Money is integer fen."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column

from gep.db import Base, Caller, Scoped, UtcDateTime
from gep.exchange import rules


class Category(Base):
    """A kind of ecological product the exchange trades, with its rules (PLATFORM.md §1.2: the official list of
    15 is not public; each row says how well it is sourced)."""

    __tablename__ = "exchange_category"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(160))
    right_type: Mapped[str] = mapped_column(String(20), default="")  # a registry right type, or "" (not registered)
    term_min_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    term_max_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    department: Mapped[str] = mapped_column(String(100), default="")  # the competent department
    modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    deposit_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(10))
    deposit_min_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    announce_s: Mapped[int] = mapped_column(Integer)  # public notice before bidding opens
    bidding_s: Mapped[int] = mapped_column(Integer)  # how long bidding lasts
    contract_s: Mapped[int] = mapped_column(Integer)  # from the award to the signed contract
    settle_s: Mapped[int] = mapped_column(Integer)  # from the contract to the payment
    unit: Mapped[str] = mapped_column(String(20), default="")  # multi-unit listings: t, kg, tCO2e …
    # units kept by a registry (carbon, discharge quota) are listed from there only (the page that sets them aside)
    units_from: Mapped[str] = mapped_column(String(100), default="", server_default="")
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)  # must trade on the platform
    verified: Mapped[bool] = mapped_column(Boolean, default=False)  # confirmed against the official list
    sourcing: Mapped[str] = mapped_column(String(20), default="named")  # named, traded, analog, derived, official
    source: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=100)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Listing(Scoped, Base):
    """Something offered on the exchange: a registered right, a cooperative's package, or units (discharge
    quota, carbon credits, a zone's regulating services)."""

    __tablename__ = "exchange_listing"
    __table_args__ = (Index("ix_exchange_listing_state", "state", "closes_at"),
                      Index("ix_exchange_listing_seller", "seller_org_id", "seller_user_id"),
                      Index("ix_exchange_listing_right", "right_id"))
    read_all: ClassVar[str] = "exchange.read_all"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("exchange_category.code"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    seller_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    seller_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    seller_name: Mapped[str] = mapped_column(String(200))
    seller_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    right_id: Mapped[int | None] = mapped_column(ForeignKey("registry_right.id"), nullable=True)
    package_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a cooperative's package (by event)
    units_ref: Mapped[str] = mapped_column(String(60), default="", server_default="")  # units another domain escrows
    lock_id: Mapped[str] = mapped_column(String(40), default="")  # the registry's trade lock on the right
    # a pledged right a bank sells after a default ("finance:<loan>:<right>"): the pledge turns into the trade lock
    # on submission and comes back if the listing ends unsold
    collateral_ref: Mapped[str] = mapped_column(String(80), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    county_code: Mapped[str] = mapped_column(String(40), default="")
    geojson: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # WGS84, for the map
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    area_mu: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    term_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mode: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(BigInteger, default=1)
    unit: Mapped[str] = mapped_column(String(20), default="")
    start_price_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    increment_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reserve_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    deposit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    max_bids: Mapped[int] = mapped_column(Integer, default=10)
    top_share_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(70))
    extension_window_s: Mapped[int] = mapped_column(Integer, default=300)
    extension_s: Mapped[int] = mapped_column(Integer, default=300)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    reason: Mapped[str] = mapped_column(String(500), default="")
    announced_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    opens_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    bid_count: Mapped[int] = mapped_column(Integer, default=0)  # the last bid's sequence number
    current_price_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    leader_registration_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    registrations: Mapped[int] = mapped_column(Integer, default=0)
    gep_basis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # regulating-service purchase: the accounts
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        """Announced listings are public; drafts and those under review belong to their seller (and the
        exchange's staff)."""
        if caller.can(cls.read_all):
            return None
        mine: list[ColumnElement[bool]] = [cls.scope_public()]
        if caller.organisation_id is not None:
            mine.append(cls.seller_org_id == caller.organisation_id)
        if caller.user_id is not None:
            mine.append(cls.seller_user_id == caller.user_id)
        return or_(*mine)

    @classmethod
    def scope_public(cls) -> ColumnElement[bool]:
        """Once announced, a listing stays public (withdrawn or failed too: the notice was public)."""
        return or_(cls.state.in_(rules.PUBLIC), cls.announced_at.is_not(None))


class Registration(Base):
    """A bidder admitted to a listing, with the deposit held for them in escrow."""

    __tablename__ = "exchange_registration"
    __table_args__ = (UniqueConstraint("listing_id", "bidder_key", name="uq_exchange_registration_bidder"),
                      UniqueConstraint("listing_id", "alias", name="uq_exchange_registration_alias"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("exchange_listing.id"))
    bidder_key: Mapped[str] = mapped_column(String(40))  # "org:3" or "user:12": one registration per bidder
    bidder_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    bidder_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    bidder_name: Mapped[str] = mapped_column(String(200))
    alias: Mapped[int] = mapped_column(Integer)  # shown as "bidder 3": bidders are anonymous while bidding
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transfer.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="active")  # active, released, won, forfeited, applied
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Bid(Base):
    """A bid, numbered in the order the exchange accepted it. Never changed."""

    __tablename__ = "exchange_bid"
    __table_args__ = (UniqueConstraint("listing_id", "seq"), UniqueConstraint("registration_id", "key"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("exchange_listing.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("exchange_registration.id"))
    seq: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger, default=1)
    key: Mapped[str] = mapped_column(String(64))  # the client's idempotency key
    placed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Deal(Base):
    """An award and what follows it: the contract, the payment, the title, the certificate (or a default)."""

    __tablename__ = "exchange_deal"
    __table_args__ = (UniqueConstraint("listing_id", "registration_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("exchange_listing.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("exchange_registration.id"))
    contract_no: Mapped[str] = mapped_column(String(40), unique=True)
    price_fen: Mapped[int] = mapped_column(BigInteger)  # per unit (multi-unit) or the whole
    quantity: Mapped[int] = mapped_column(BigInteger, default=1)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(20), default="awarded")
    awarded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    contract_due: Mapped[datetime] = mapped_column(UtcDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    settle_due: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    title_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    certificate_serial: Mapped[str] = mapped_column(String(40), default="")
    defaulted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")


class ListingEvent(Base):
    """Every move of a listing or of one of its deals: who, when, from which state to which. Never changed."""

    __tablename__ = "exchange_listing_event"
    __table_args__ = (Index("ix_exchange_listing_event_listing", "listing_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("exchange_listing.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_deal.id"), nullable=True)
    verb: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Demand(Base):
    """A wish to buy or to sell, published in one click; the exchange matches it with listings."""

    __tablename__ = "exchange_demand"
    __table_args__ = (Index("ix_exchange_demand_open", "status", "side"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    side: Mapped[str] = mapped_column(String(4))  # buy, sell
    category_code: Mapped[str | None] = mapped_column(ForeignKey("exchange_category.code"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(String(40), default="")
    area_mu_min: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    area_mu_max: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # buy: at most; sell: at least
    term_years: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    party_name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open, closed
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DemandMatch(Base):
    """A listing (or, for a seller's demand, a buyer's demand) that fits a demand; both sides were told."""

    __tablename__ = "exchange_demand_match"
    __table_args__ = (UniqueConstraint("demand_id", "listing_id", name="uq_exchange_demand_match_listing"),
                      UniqueConstraint("demand_id", "other_demand_id", name="uq_exchange_demand_match_demand"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("exchange_demand.id"))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_listing.id"), nullable=True)
    other_demand_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_demand.id"), nullable=True)
    score: Mapped[float] = mapped_column(Float)
    why: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
