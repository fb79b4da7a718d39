"""A listing's life before the bidding: created by its seller (from a registered right, a cooperative's
package, or units), submitted (the right is locked for the trade in the registry), reviewed, announced with
its timers, or withdrawn (deposits released, the right unlocked)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.errors import N_, Conflict, InputError, PermissionDenied, Word
from gep.exchange import categories, demands, perms, rules, store
from gep.exchange.models import Category, Listing, Registration
from gep.kit import events
from gep.kit.audit import aware, now
from gep.kit.notify import notify
from gep.kit.principal import SYSTEM, Principal
from gep.ledger import service as ledger
from gep.registry import rules as registry_rules
from gep.registry import service as registry

MU_M2 = Decimal("666.6666667")  # 1 亩 = 10000/15 m²
ENDED = "exchange.listing_ended"  # outbox: a listing failed, was withdrawn or defaulted (a package is free again)


@dataclass
class Offer:
    """What a seller puts on the exchange, and on which terms (prices in fen)."""

    category_code: str
    title: str
    mode: str
    start_price_fen: int = 0
    increment_fen: int = 0
    reserve_fen: int = 0
    quantity: int = 1
    unit: str = ""
    term_years: int | None = None
    area_mu: Decimal | None = None
    description: str = ""
    right_id: int | None = None
    max_bids: int = 10
    top_share_pct: Decimal = Decimal(70)
    extension_window_s: int = 300
    extension_s: int = 300
    county_code: str = ""
    region_id: int | None = None
    geojson: dict[str, Any] | None = None
    gep_basis: dict[str, Any] = field(default_factory=dict)
    package_id: int | None = None
    units_ref: str = ""  # units set aside by another domain (carbon units, discharge quota): the quantity is fixed
    # a pledged right its bank sells after a default ("finance:<loan code>:<right>"; the loan code is the pledge's
    # ref): the bank, not the holder, sells it
    collateral_ref: str = ""


EDITABLE = ("title", "description", "mode", "start_price_fen", "increment_fen", "reserve_fen", "quantity", "unit",
            "term_years", "area_mu", "max_bids", "top_share_pct", "extension_window_s", "extension_s")


def terms_of(listing: Listing) -> rules.Terms:
    return rules.Terms(listing.mode, listing.start_price_fen, listing.increment_fen, listing.reserve_fen,
                       listing.quantity, listing.max_bids, Decimal(listing.top_share_pct), listing.extension_window_s,
                       listing.extension_s)


def _check_term(category: Category, term_years: int | None) -> None:
    if term_years is None:
        return
    if term_years < 1 or term_years > 99:
        raise InputError(N_("the term is 1 to 99 years, not {term}"), term=term_years)
    if category.term_min_years is not None and term_years < category.term_min_years:
        raise InputError(N_("{category} trades for at least {years} years"), category=category.name_zh,
                         years=category.term_min_years)
    if category.term_max_years is not None and term_years > category.term_max_years:
        raise InputError(N_("{category} trades for at most {years} years"), category=category.name_zh,
                         years=category.term_max_years)


def _place_of_right(session: Session, offer: Offer, category: Category, by: Principal) -> None:
    """A right's listing takes its place and area from the parcel; only the right's holder may list it."""
    assert offer.right_id is not None
    right = registry.get_right(session, offer.right_id)
    if not right.active:
        raise Conflict(N_("right {id} has ended"), id=right.id)
    if not offer.collateral_ref and right.holder_id not in {h.id for h in registry.my_holders(session, by)}:
        raise PermissionDenied(N_("only the holder of right {id} may list it"), id=right.id)
    if category.right_type and right.type != category.right_type:
        raise InputError(N_("{category} trades a {expected}; right {id} is a {type}"), category=category.name_zh,
                         expected=Word(registry_rules.RIGHT_TYPES[category.right_type]), id=right.id,
                         type=Word(registry_rules.RIGHT_TYPES.get(right.type, right.type)))
    if offer.mode == "multi_unit":
        raise InputError(N_("a registered right is sold whole, not in units"))
    parcel = registry.get_parcel(session, right.parcel_id)
    offer.region_id, offer.county_code = parcel.region_id, parcel.county_code
    offer.geojson = json.loads(parcel.geojson)
    offer.area_mu = (Decimal(str(parcel.area_m2)) / MU_M2).quantize(Decimal("0.01"))
    if offer.term_years is None and right.end is not None:
        offer.term_years = max(1, right.end.year - now().year)


def create(session: Session, offer: Offer, by: Principal, seller_org_id: int | None = None,
           seller_name: str | None = None, synthetic: bool = False, seller_account_id: int | None = None) -> Listing:
    """A draft listing of the caller's (a system hand-off may name the seller organisation)."""
    if seller_org_id is None:
        by.require(perms.TRADE)
    category = categories.get(session, offer.category_code)
    if not category.active:
        raise InputError(N_("category {id} is not open for trading"), id=category.code)
    if offer.mode not in rules.MODES:
        raise InputError(N_("unknown trading mode {mode}"), mode=offer.mode)
    if category.units_from and not offer.units_ref:
        raise InputError(N_("{category} are kept in their own registry: set them aside there ({page}) and the "
                            "listing follows"), category=category.name_zh, page=category.units_from)
    if offer.right_id is not None:
        _place_of_right(session, offer, category, by)
    _check_term(category, offer.term_years)
    org = seller_org_id if seller_org_id is not None else by.organisation_id
    user = None if org is not None else by.user_id
    account = ledger.funds_of(session, org, user, name=seller_name or by.party_name)
    lon = lat = None
    if offer.geojson:
        point = shapely.from_geojson(json.dumps(offer.geojson)).representative_point()
        lon, lat = round(point.x, 6), round(point.y, 6)
    at = now()
    listing = Listing(
        code=f"pending-{at.timestamp()}-{by.user_id}", category_code=category.code, title=offer.title,
        description=offer.description, seller_org_id=org, seller_user_id=user,
        seller_name=seller_name or by.party_name, seller_account_id=seller_account_id or account.id,
        right_id=offer.right_id, package_id=offer.package_id, units_ref=offer.units_ref, lock_id="",
        collateral_ref=offer.collateral_ref[:80] or "", region_id=offer.region_id,
        county_code=offer.county_code,
        geojson=offer.geojson, lon=lon, lat=lat, area_mu=offer.area_mu, term_years=offer.term_years, mode=offer.mode,
        quantity=offer.quantity, unit=offer.unit or category.unit, start_price_fen=offer.start_price_fen,
        increment_fen=offer.increment_fen, reserve_fen=offer.reserve_fen, deposit_fen=0, max_bids=offer.max_bids,
        top_share_pct=offer.top_share_pct, extension_window_s=offer.extension_window_s, extension_s=offer.extension_s,
        state="draft", reason="", bid_count=0, registrations=0, gep_basis=offer.gep_basis, synthetic=synthetic,
        created_by=by.user_id, created_at=at, updated_at=at)
    session.add(listing)
    session.flush()
    listing.code = f"JY{at.year}{listing.id:06d}"
    _price_deposit(listing, category)
    store.record(session, listing, "create", "", "draft", by, title=offer.title)
    return listing


def _price_deposit(listing: Listing, category: Category) -> None:
    listing.deposit_fen = rules.deposit(listing.start_price_fen * listing.quantity, Decimal(category.deposit_pct),
                                        category.deposit_min_fen)


def update(session: Session, listing_id: int, changes: dict[str, Any], by: Principal) -> Listing:
    """Change a draft's terms (only a draft: what was reviewed is what is announced)."""
    listing = store.lock_listing(session, listing_id)
    store.require_seller(listing, by)
    if listing.state != "draft":
        raise Conflict(N_("only a draft can be changed; listing {code} is {state}"), code=listing.code,
                       state=Word(rules.STATES[listing.state]))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InputError(N_("{field} cannot be edited"), field=sorted(unknown)[0])
    category = categories.get(session, listing.category_code)
    if "term_years" in changes:
        _check_term(category, changes["term_years"])
    if changes.get("mode") == "multi_unit" and listing.right_id is not None:
        raise InputError(N_("a registered right is sold whole, not in units"))
    if listing.units_ref and "quantity" in changes and changes["quantity"] != listing.quantity:
        raise InputError(N_("the {quantity} units set aside for this listing are what it sells; withdraw it and "
                            "offer again to sell another quantity"), quantity=listing.quantity)
    for k, v in changes.items():
        setattr(listing, k, v)
    _price_deposit(listing, category)
    listing.updated_at = now()
    store.record(session, listing, "edit", "draft", "draft", by, fields=sorted(changes))
    return listing


def submit(session: Session, listing_id: int, by: Principal) -> Listing:
    """Send a draft for review; its right is locked for the trade from now on (no pledge, no other sale)."""
    listing = store.lock_listing(session, listing_id)
    store.require_seller(listing, by)
    after = rules.listing_step(listing.state, "submit")
    category = categories.get(session, listing.category_code)
    rules.check_terms(terms_of(listing), category.modes)
    if not category.active:
        raise InputError(N_("category {id} is not open for trading"), id=category.code)
    if listing.right_id is not None:
        if listing.collateral_ref:  # the bank's pledge gives way to the trade lock, in this same transaction
            pledge = listing.collateral_ref.split(":")[1]
            for held in registry.locks_of(session, [listing.right_id]).get(listing.right_id, []):
                if held.kind == "pledge" and held.ref == pledge:
                    registry.release(session, listing.right_id, held.id, by, authorised=True)
        listing.lock_id = registry.lock(session, listing.right_id, "trade", "exchange", by, ref=listing.code,
                                        authorised=True)
    _price_deposit(listing, category)
    before, listing.state, listing.reason, listing.updated_at = listing.state, after, "", now()
    store.record(session, listing, "submit", before, after, by)
    return listing


def review(session: Session, listing_id: int, approve: bool, reason: str, by: Principal) -> Listing:
    """Approve or reject a submitted listing (the reviewer is never its seller)."""
    by.require(perms.REVIEW)
    listing = store.lock_listing(session, listing_id)
    if store.is_seller(listing, by) or listing.created_by == by.user_id:
        raise PermissionDenied(N_("a listing is reviewed by someone other than its seller"))
    verb = "approve" if approve else "reject"
    after = rules.listing_step(listing.state, verb)
    if not approve:
        if not reason.strip():
            raise InputError(N_("a rejection gives its reason"))
        unlock(session, listing, by)
    before, listing.state, listing.reason, listing.updated_at = listing.state, after, reason, now()
    store.record(session, listing, verb, before, after, by, reason=reason)
    tell_seller(session, listing, N_("Listing {code} was approved") if approve else
                 N_("Listing {code} was rejected: {reason}"), reason=reason)
    return listing


def revise(session: Session, listing_id: int, by: Principal) -> Listing:
    """Take a rejected listing back to draft, to fix it and submit it again."""
    listing = store.lock_listing(session, listing_id)
    store.require_seller(listing, by)
    after = rules.listing_step(listing.state, "revise")
    before, listing.state, listing.updated_at = listing.state, after, now()
    store.record(session, listing, "revise", before, after, by)
    return listing


def announce(session: Session, listing_id: int, by: Principal, opens_at: datetime | None = None,
             closes_at: datetime | None = None) -> Listing:
    """Publish an approved listing: the public notice runs at least the category's period, then bidding opens
    and closes at the times set (timers fire them, whether anyone looks or not)."""
    by.require(perms.REVIEW)
    listing = store.lock_listing(session, listing_id)
    after = rules.listing_step(listing.state, "announce")
    category = categories.get(session, listing.category_code)
    at = now()
    earliest = at + timedelta(seconds=category.announce_s)
    opens = aware(opens_at) if opens_at is not None else earliest
    if opens < earliest - timedelta(seconds=1):
        raise InputError(N_("bidding may open at {earliest} at the earliest (the notice period of {category})"),
                         earliest=earliest.isoformat(timespec="minutes"), category=category.name_zh)
    closes = aware(closes_at) if closes_at is not None else opens + timedelta(seconds=category.bidding_s)
    if closes <= opens:
        raise InputError(N_("bidding must close after it opens"))
    before = listing.state
    listing.state, listing.announced_at, listing.opens_at, listing.closes_at, listing.updated_at = \
        after, at, opens, closes, at
    store.schedule_open(session, listing)
    store.schedule_close(session, listing)
    store.record(session, listing, "announce", before, after, by, opens_at=opens.isoformat(),
                 closes_at=closes.isoformat())
    demands.match_listing(session, listing)
    return listing


def open_if_due(session: Session, listing: Listing, by: Principal | None, at: datetime | None = None) -> bool:
    """Announced → bidding once the notice period is over (the timer does it; whatever touches the listing
    first after that moment does too, so nobody acts on a listing whose bidding should have opened)."""
    at = at or now()
    if listing.state == "announced" and listing.opens_at is not None and aware(listing.opens_at) <= at:
        listing.state = rules.listing_step("announced", "open")
        listing.updated_at = at
        store.record(session, listing, "open", "announced", "bidding", by)
        return True
    return False


def withdraw(session: Session, listing_id: int, reason: str, by: Principal) -> Listing:
    """Take a listing off the exchange before bidding starts: every deposit is released, the right unlocked."""
    listing = store.lock_listing(session, listing_id)
    store.require_seller(listing, by)
    open_if_due(session, listing, by)
    after = rules.listing_step(listing.state, "withdraw")
    release_deposits(session, listing, by, keep=())
    unlock(session, listing, by)
    store.cancel_timers(session, listing)
    before, listing.state, listing.reason, listing.updated_at = listing.state, after, reason, now()
    store.record(session, listing, "withdraw", before, after, by, reason=reason)
    ended(session, listing)
    return listing


# -- shared with bidding and deals ----------------------------------------------------------------------------

def release_deposits(session: Session, listing: Listing, by: Principal | None, keep: tuple[int, ...]) -> int:
    """Release the deposits of every registration but those in `keep` (the winners); returns how many."""
    released = 0
    for reg in session.scalars(select(Registration).where(Registration.listing_id == listing.id,
                                                          Registration.state == "active")):
        if reg.id in keep:
            continue
        if reg.hold_id is not None:
            ledger.settle_hold(session, reg.hold_id, capture=False, key=f"release:{reg.hold_id}", by=by,
                               memo=listing.code)
        reg.state = "released"
        released += 1
    return released


def unlock(session: Session, listing: Listing, by: Principal | None) -> None:
    """Release the registry's trade lock on the listing's right (when it holds one)."""
    if listing.right_id is not None and listing.lock_id:
        held = {k.id for k in registry.locks_of(session, [listing.right_id]).get(listing.right_id, [])}
        if listing.lock_id in held:
            registry.release(session, listing.right_id, listing.lock_id, by or SYSTEM, authorised=True)
            if listing.collateral_ref and listing.state != "certificate_issued" and not _sold(session, listing):
                # unsold collateral goes back under the bank's pledge at once (never a moment free to transfer)
                registry.lock(session, listing.right_id, "pledge", listing.seller_name, by or SYSTEM,
                              ref=listing.collateral_ref.split(":")[1], holder_organisation_id=listing.seller_org_id,
                              authorised=True)
        listing.lock_id = ""


def _sold(session: Session, listing: Listing) -> bool:
    return any(d.settled_at is not None for d in store.deals_of(session, listing.id))


def ended(session: Session, listing: Listing) -> None:
    """Tell other domains a listing ended: a cooperative's package that did not sell may be offered again; units
    set aside that were not sold go back to their seller (`sold` counts the units of deals that were paid)."""
    if listing.package_id is not None and listing.state != "certificate_issued":
        events.record(session, ENDED, package_id=listing.package_id, listing=listing.code, state=listing.state)
    if listing.collateral_ref and listing.state != "certificate_issued":
        events.record(session, ENDED, collateral_ref=listing.collateral_ref, listing=listing.code, state=listing.state)
    if listing.units_ref:
        sold = sum(units_of(listing, d) for d in store.deals_of(session, listing.id) if d.settled_at is not None)
        events.record(session, ENDED, units_ref=listing.units_ref, listing=listing.code, state=listing.state,
                      sold=sold)


def units_of(listing: Listing, deal: Any) -> int:
    """How many of the listing's units a deal buys (a multi-unit deal its share; otherwise the whole lot)."""
    return int(deal.quantity) if listing.mode == "multi_unit" else int(listing.quantity)


def tell_seller(session: Session, listing: Listing, template: str, **params: Any) -> None:
    if listing.created_by is not None:
        notify(session, listing.created_by, template, link=f"/exchange/listings/{listing.id}", kind="exchange",
               code=listing.code, **params)
