"""What the exchange shows: listings (public ones to anyone), a listing's bid ladder (anonymous aliases; sealed
bids hidden until the close), a participant's own listings, registrations, bids and trades, the review queue.
Amounts leave as strings of yuan."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gep.exchange import categories, listings, perms, rules, store
from gep.exchange.models import Bid, Category, Deal, Listing, ListingEvent, Registration
from gep.kit.audit import aware, now
from gep.kit.principal import Principal
from gep.ledger import rules as ledger_rules
from gep.ledger import service as ledger
from gep.ledger.models import LedgerAccount
from gep.regions import service as regions

HIDDEN_WHILE_BIDDING = ("sealed", "multi_unit", "negotiated")


def yuan(fen: int | None) -> str | None:
    return None if fen is None else str(ledger_rules.to_yuan(fen))


def _category_names(session: Session) -> dict[str, Category]:
    return {c.code: c for c in categories.all_categories(session)}


def listing_view(session: Session, listing: Listing, by: Principal | None, detail: bool = False,
                 names: dict[str, Category] | None = None) -> dict[str, Any]:
    names = names if names is not None else _category_names(session)
    c = names.get(listing.category_code)
    terms = listings.terms_of(listing)
    out: dict[str, Any] = {
        "id": listing.id, "code": listing.code, "category_code": listing.category_code,
        "category_zh": c.name_zh if c else "", "category_en": c.name_en if c else "", "title": listing.title,
        "seller_name": listing.seller_name, "mode": listing.mode, "state": listing.state, "reason": listing.reason,
        "quantity": listing.quantity, "unit": listing.unit, "start_price": yuan(listing.start_price_fen),
        "increment": yuan(listing.increment_fen), "deposit": yuan(listing.deposit_fen),
        "term_years": listing.term_years, "area_mu": str(listing.area_mu) if listing.area_mu is not None else None,
        "county_code": listing.county_code, "lon": listing.lon, "lat": listing.lat,
        "announced_at": listing.announced_at, "opens_at": listing.opens_at, "closes_at": listing.closes_at,
        "current_price": yuan(listing.current_price_fen) if listing.mode == "ascending" else None,
        "bid_count": listing.bid_count, "registrations": listing.registrations, "synthetic": listing.synthetic,
        "right_id": listing.right_id, "package_id": listing.package_id,
    }
    if not detail:
        return out
    bids = [rules.BidRec(listing.bid_count, listing.leader_registration_id or 0, listing.current_price_fen or 0)] \
        if listing.mode == "ascending" and listing.bid_count else []
    mine = store.registration_of(session, listing.id, by) if by is not None else None
    seller = by is not None and store.is_seller(listing, by)
    staff = by is not None and by.can(perms.READ_ALL)
    reserve_floor = max(listing.reserve_fen, listing.start_price_fen)
    out.update({
        "description": listing.description, "geojson": listing.geojson, "gep_basis": listing.gep_basis,
        "max_bids": listing.max_bids, "top_share_pct": str(listing.top_share_pct),
        "extension_window_s": listing.extension_window_s, "extension_s": listing.extension_s,
        "reserve": yuan(listing.reserve_fen) if (seller or staff) else None,
        "reserve_set": listing.reserve_fen > listing.start_price_fen,
        "reserve_met": (listing.current_price_fen or 0) >= reserve_floor if listing.mode == "ascending" else None,
        "minimum_next": yuan(rules.minimum_next(terms, bids)), "server_time": now(), "is_seller": seller,
        "my_registration": _registration_view(session, mine, listing) if mine else None,
        "deals": [_deal_view(session, d, listing, by) for d in store.deals_of(session, listing.id)],
        "history": [{"verb": e.verb, "from": e.from_state, "to": e.to_state, "at": e.at, "deal_id": e.deal_id,
                     "reason": (e.detail or {}).get("reason", "")}
                    for e in session.scalars(select(ListingEvent).where(ListingEvent.listing_id == listing.id)
                                             .order_by(ListingEvent.id))],
        "category": {"contract_s": c.contract_s, "settle_s": c.settle_s, "announce_s": c.announce_s,
                     "verified": c.verified, "sourcing": c.sourcing} if c else None,
    })
    return out


def _registration_view(session: Session, reg: Registration, listing: Listing) -> dict[str, Any]:
    own = list(session.scalars(select(Bid).where(Bid.registration_id == reg.id).order_by(Bid.seq)))
    account = session.get(LedgerAccount, reg.account_id)
    return {"id": reg.id, "alias": reg.alias, "state": reg.state, "deposit": yuan(listing.deposit_fen),
            "bids_used": len(own),
            "available": yuan(ledger.account_view(account)["available_fen"]) if account else None,
            "last_bid": yuan(own[-1].price_fen) if own else None,
            "leading": listing.mode == "ascending" and listing.leader_registration_id == reg.id}


def _deal_view(session: Session, d: Deal, listing: Listing, by: Principal | None) -> dict[str, Any]:
    reg = session.get(Registration, d.registration_id)
    assert reg is not None
    buyer = by is not None and store.is_buyer(reg, by)
    return {"id": d.id, "contract_no": d.contract_no, "state": d.state, "price": yuan(d.price_fen),
            "quantity": d.quantity, "total": yuan(d.total_fen), "fee": yuan(d.fee_fen), "alias": reg.alias,
            "buyer_name": reg.bidder_name, "awarded_at": d.awarded_at, "contract_due": d.contract_due,
            "signed_at": d.signed_at, "settle_due": d.settle_due, "settled_at": d.settled_at,
            "certificate_serial": d.certificate_serial, "reason": d.reason, "is_buyer": buyer}


def search(session: Session, by: Principal | None, category: str | None = None, mode: str | None = None,
           states: list[str] | None = None, county: str = "", q: str = "", mine: bool = False, limit: int = 50,
           offset: int = 0) -> dict[str, Any]:
    """Listings the caller may see, newest first, with the total for paging."""
    query = select(Listing)
    if category:
        query = query.where(Listing.category_code == category)
    if mode:
        query = query.where(Listing.mode == mode)
    if states:
        query = query.where(Listing.state.in_(states))
    if county:
        query = query.where(Listing.county_code.startswith(county))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Listing.title.like(like), Listing.code.like(like), Listing.seller_name.like(like)))
    if mine and by is not None:
        own = [Listing.created_by == by.user_id]
        if by.organisation_id is not None:
            own.append(Listing.seller_org_id == by.organisation_id)
        query = query.where(or_(*own))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Listing.id.desc()).limit(limit).offset(offset))
    names = _category_names(session)
    return {"total": total, "items": [listing_view(session, x, by, names=names) for x in rows]}


def ladder(session: Session, listing: Listing, by: Principal | None, after: int = 0) -> dict[str, Any]:
    """The bids after `after` (by sequence): everyone's in an ascending auction (anonymous aliases), only one's
    own while a sealed, multi-unit or negotiated listing is open — except that a negotiated seller sees the
    offers to accept one. After the close, every bid."""
    open_ = listing.state in ("announced", "bidding")
    seller = by is not None and store.is_seller(listing, by)
    staff = by is not None and by.can(perms.READ_ALL)
    mine = store.registration_of(session, listing.id, by) if by is not None else None
    q = select(Bid, Registration.alias).join(Registration, Registration.id == Bid.registration_id).where(
        Bid.listing_id == listing.id, Bid.seq > after).order_by(Bid.seq)
    hidden = open_ and listing.mode in HIDDEN_WHILE_BIDDING and not staff and not (
        seller and listing.mode == "negotiated")
    if hidden:
        q = q.where(Bid.registration_id == (mine.id if mine else -1))
    bids = [{"id": b.id, "seq": b.seq, "alias": alias, "price": yuan(b.price_fen), "quantity": b.quantity,
             "at": b.placed_at, "mine": mine is not None and b.registration_id == mine.id}
            for b, alias in session.execute(q.limit(500))]
    closes = aware(listing.closes_at) if listing.closes_at else None
    return {"state": listing.state, "bid_count": listing.bid_count, "closes_at": closes, "server_time": now(),
            "current_price": yuan(listing.current_price_fen) if listing.mode == "ascending" else None,
            "minimum_next": yuan(rules.minimum_next(listings.terms_of(listing), [
                rules.BidRec(listing.bid_count, 0, listing.current_price_fen or 0)] if listing.mode == "ascending"
                and listing.bid_count else [])), "hidden": hidden, "bids": bids}


def mine(session: Session, by: Principal) -> dict[str, Any]:
    """A participant's exchange: what they sell, where they are registered, what they won."""
    names = _category_names(session)
    selling = search(session, by, mine=True, limit=200)["items"]
    regs = list(session.scalars(select(Registration).where(Registration.bidder_key == store.bidder_key(by))
                                .order_by(Registration.id.desc()).limit(200)))
    listings_by_id = {x.id: x for x in session.scalars(select(Listing).where(
        Listing.id.in_([r.listing_id for r in regs])).execution_options(skip_scope=True))}
    bought = []
    for r in regs:
        listing = listings_by_id.get(r.listing_id)
        if listing is None:
            continue
        row = listing_view(session, listing, by, names=names)
        row["registration"] = _registration_view(session, r, listing)
        row["deals"] = [_deal_view(session, d, listing, by) for d in store.deals_of(session, listing.id)
                        if d.registration_id == r.id]
        bought.append(row)
    return {"selling": selling, "bidding": bought}


def review_queue(session: Session, by: Principal) -> list[dict[str, Any]]:
    by.require(perms.REVIEW)
    rows = session.scalars(select(Listing).where(Listing.state.in_(("submitted", "approved")))
                           .order_by(Listing.updated_at))
    names = _category_names(session)
    return [listing_view(session, x, by, names=names) | {"description": x.description, "gep_basis": x.gep_basis}
            for x in rows]


def map_features(session: Session, states: tuple[str, ...] = ("announced", "bidding")) -> dict[str, Any]:
    """The listings open to bidders, as points (and outlines) for the map."""
    names = _category_names(session)
    feats = []
    for x in session.scalars(select(Listing).where(Listing.state.in_(states), Listing.lon.is_not(None))):
        c = names.get(x.category_code)
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x.lon, x.lat]},
                      "properties": {"id": x.id, "code": x.code, "title": x.title, "state": x.state, "mode": x.mode,
                                     "category_zh": c.name_zh if c else "", "category_en": c.name_en if c else "",
                                     "price": yuan(x.current_price_fen or x.start_price_fen)}})
    return {"type": "FeatureCollection", "features": feats}


def county_outlines(session: Session) -> dict[str, Any]:
    """The counties of the platform's (first) region under the public listings map, which has no base map
    offline: public boundaries with their codes and names, none of the accounts' values."""
    found = regions.list_regions(session)
    counties = regions.zones(session, found[0].id, "county") if found else []
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(z.geometry), "properties": {"code": z.code, "name": z.name}}
        for z in counties if z.geometry]}
