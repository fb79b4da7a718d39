"""Trade demands (一键发布交易需求): a buyer or a seller publishes what they want in one step; the exchange
matches it with announced listings (and buyers' demands with sellers') and tells both sides."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gep.db import found
from gep.errors import N_, InputError, PermissionDenied
from gep.exchange import categories, matching, perms
from gep.exchange.models import Demand, DemandMatch, Listing
from gep.kit.audit import audit, now
from gep.kit.notify import notify
from gep.kit.principal import Principal

MATCHABLE = ("announced", "bidding")


@dataclass
class Wanted:
    side: str
    title: str
    category_code: str | None = None
    county_code: str = ""
    area_mu_min: Decimal | None = None
    area_mu_max: Decimal | None = None
    budget_fen: int | None = None
    term_years: int | None = None
    description: str = ""


def _wish(d: Demand) -> matching.Wish:
    return matching.Wish(d.side, d.category_code, d.county_code, d.area_mu_min, d.area_mu_max, d.budget_fen,
                         d.term_years)


def _offer(listing: Listing) -> matching.Wish:
    area = Decimal(listing.area_mu) if listing.area_mu is not None else None
    return matching.Wish("sell", listing.category_code, listing.county_code, area, area,
                         listing.start_price_fen * listing.quantity, listing.term_years)


def publish(session: Session, wanted: Wanted, by: Principal, synthetic: bool = False) -> Demand:
    """Publish a demand and match it at once; returns it (its matches are in `matches_of`)."""
    by.require(perms.TRADE)
    if wanted.side not in ("buy", "sell"):
        raise InputError(N_("side: buy or sell"))
    if wanted.category_code:
        categories.get(session, wanted.category_code)
    if wanted.area_mu_min is not None and wanted.area_mu_max is not None and wanted.area_mu_min > wanted.area_mu_max:
        raise InputError(N_("the smallest area may not exceed the largest"))
    demand = Demand(side=wanted.side, category_code=wanted.category_code or None, title=wanted.title,
                    county_code=wanted.county_code, area_mu_min=wanted.area_mu_min, area_mu_max=wanted.area_mu_max,
                    budget_fen=wanted.budget_fen, term_years=wanted.term_years, description=wanted.description,
                    org_id=by.organisation_id, user_id=None if by.organisation_id is not None else by.user_id,
                    party_name=by.party_name, created_by=by.user_id, status="open", synthetic=synthetic,
                    created_at=now())
    session.add(demand)
    session.flush()
    audit(session, by, "publish", "exchange_demand", demand.id, side=wanted.side, title=wanted.title)
    match_demand(session, demand)
    return demand


def _add(session: Session, demand: Demand, fit: matching.Fit, listing: Listing | None = None,
         other: Demand | None = None) -> bool:
    try:
        with session.begin_nested():
            session.add(DemandMatch(demand_id=demand.id, listing_id=listing.id if listing else None,
                                    other_demand_id=other.id if other else None, score=fit.score, why=list(fit.why),
                                    created_at=now()))
            session.flush()
    except IntegrityError:  # matched before
        return False
    return True


def match_demand(session: Session, demand: Demand) -> int:
    """Match a new demand with what is on offer now (listings; the other side's demands)."""
    made = 0
    if demand.side == "buy":
        for listing in session.scalars(select(Listing).where(Listing.state.in_(MATCHABLE))
                                       .execution_options(skip_scope=True)):
            made += _pair_with_listing(session, demand, listing)
    others = session.scalars(select(Demand).where(Demand.status == "open", Demand.side != demand.side,
                                                  Demand.id != demand.id))
    for other in others:
        buyer, seller = (demand, other) if demand.side == "buy" else (other, demand)
        fit = matching.fit(_wish(buyer), _wish(seller))
        if fit and _add(session, demand, fit, other=other):
            _add(session, other, fit, other=demand)
            made += 1
            _tell(session, demand.created_by, N_("A demand fits yours (“{demand}”): “{other}”"), "/exchange/demands",
                  demand=demand.title, other=other.title)
            _tell(session, other.created_by, N_("A demand fits yours (“{demand}”): “{other}”"), "/exchange/demands",
                  demand=other.title, other=demand.title)
    return made


def match_listing(session: Session, listing: Listing) -> int:
    """Match a newly announced listing with the open buyers' demands."""
    made = 0
    for demand in session.scalars(select(Demand).where(Demand.status == "open", Demand.side == "buy")):
        made += _pair_with_listing(session, demand, listing)
    return made


def _pair_with_listing(session: Session, demand: Demand, listing: Listing) -> int:
    """Record a buyer's demand and a listing as a match if they fit (once), and tell both sides; 1 if new."""
    fit = matching.fit(_wish(demand), _offer(listing))
    if not (fit and _add(session, demand, fit, listing=listing)):
        return 0
    _tell(session, demand.created_by, N_("A listing fits your demand “{demand}”: {code}"),
          f"/exchange/listings/{listing.id}", demand=demand.title, code=listing.code)
    _tell(session, listing.created_by, N_("A buyer's demand fits your listing {code}: “{demand}”"),
          "/exchange/demands", demand=demand.title, code=listing.code)
    return 1


def _tell(session: Session, user_id: int | None, template: str, link: str, **params: object) -> None:
    if user_id is not None:
        notify(session, user_id, template, link=link, kind="exchange.demand", **params)


def board(session: Session, side: str | None = None, category: str | None = None, county: str = "",
          limit: int = 100) -> list[Demand]:
    q = select(Demand).where(Demand.status == "open").order_by(Demand.id.desc()).limit(limit)
    if side:
        q = q.where(Demand.side == side)
    if category:
        q = q.where(Demand.category_code == category)
    if county:
        q = q.where(Demand.county_code.startswith(county))
    return list(session.scalars(q))


def get(session: Session, demand_id: int) -> Demand:
    return found(session, Demand, demand_id, N_("demand {id} does not exist"))


def is_owner(demand: Demand, by: Principal) -> bool:
    if demand.org_id is not None:
        return demand.org_id == by.organisation_id
    return demand.user_id is not None and demand.user_id == by.user_id


def matches_of(session: Session, demand: Demand) -> list[DemandMatch]:
    return list(session.scalars(select(DemandMatch).where(DemandMatch.demand_id == demand.id)
                                .order_by(DemandMatch.score.desc(), DemandMatch.id)))


def close(session: Session, demand_id: int, by: Principal) -> Demand:
    demand = get(session, demand_id)
    if not (is_owner(demand, by) or by.can(perms.REVIEW)):
        raise PermissionDenied(N_("only who published a demand may close it"))
    demand.status = "closed"
    audit(session, by, "close", "exchange_demand", demand.id)
    return demand
