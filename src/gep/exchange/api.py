"""JSON API of the exchange: categories, listings and their lifecycle, registration and bids, trades (sign,
pay), demands, and GEP regulating-service quotes. Thin: parse, call the use case, shape. Amounts are yuan as
decimal strings (at most two decimals); a bid needs an Idempotency-Key so a retried request never bids twice."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gep.certificates.api import signer_of
from gep.errors import N_, InputError, PermissionDenied
from gep.exchange import bidding, categories, deals, demands, gep_purchase, listings, perms, queries, rules, store
from gep.exchange.models import Category, Demand, Listing
from gep.kit.principal import Principal
from gep.kit.web.deps import (
    Caller,
    Code,
    Db,
    Id,
    IdempotencyKey,
    Limit,
    LongText,
    MaybeCaller,
    Name,
    OptName,
    PathCode,
    RowId,
    needs,
)
from gep.kit.web.errors import ERROR_RESPONSES
from gep.ledger import rules as ledger_rules
from gep.registry import service as registry
from gep.registry.rules import RIGHT_TYPES

router = APIRouter(prefix="/api/exchange", tags=["exchange"], responses=ERROR_RESPONSES)
Trader = Annotated[Principal, Depends(needs(perms.TRADE))]
Officer = Annotated[Principal, Depends(needs(perms.REVIEW))]
Editor = Annotated[Principal, Depends(needs(perms.CATEGORIES))]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("1e13"), max_digits=16, decimal_places=2,
                                 description="yuan, at most two decimals (fen)")]
Positive = Annotated[Decimal, Field(gt=0, le=Decimal("1e13"), max_digits=16, decimal_places=2,
                                    description="yuan above zero, at most two decimals (fen)")]
Units = Annotated[int, Field(ge=1, le=10**12)]
Years = Annotated[int, Field(ge=1, le=99)]
Mu = Annotated[Decimal, Field(ge=0, le=Decimal("1e9"), max_digits=14, decimal_places=2)]
Pct = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Mode = Literal["negotiated", "ascending", "sealed", "multi_unit"]
Unit = Annotated[str, Field(max_length=20, pattern=r"^[^\x00-\x1f]*$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def fen(yuan: Decimal | None) -> int:
    return 0 if yuan is None else ledger_rules.to_fen(yuan)


class CategoryRequest(Body):
    name_zh: OptName | None = None
    name_en: OptName | None = None
    right_type: Literal["", "ownership", "contract", "management", "use"] | None = None
    term_min_years: Years | None = None
    term_max_years: Years | None = None
    department: OptName | None = None
    modes: list[Mode] | None = Field(default=None, min_length=1, max_length=4)
    deposit_pct: Pct | None = None
    deposit_min: Money | None = None
    fee_pct: Pct | None = None
    announce_days: Annotated[Decimal, Field(gt=0, le=3650, max_digits=10, decimal_places=6)] | None = None
    bidding_days: Annotated[Decimal, Field(gt=0, le=3650, max_digits=10, decimal_places=6)] | None = None
    contract_days: Annotated[Decimal, Field(gt=0, le=3650, max_digits=10, decimal_places=6)] | None = None
    settle_days: Annotated[Decimal, Field(gt=0, le=3650, max_digits=10, decimal_places=6)] | None = None
    unit: Unit | None = None
    mandatory: bool | None = None
    verified: bool | None = None
    sourcing: Literal["official", "traded", "named", "analog", "derived"] | None = None
    source: LongText | None = None
    active: bool | None = None
    position: Annotated[int, Field(ge=0, le=100000)] | None = None

    def changes(self, with_defaults: bool = False) -> dict[str, Any]:
        """The fields sent (with the defaults, for a new category); a field absent or null is left as it is."""
        out: dict[str, Any] = {}
        given = self.model_dump(exclude_unset=not with_defaults)
        for k, v in given.items():
            if v is None:
                continue
            if k.endswith("_days"):
                out[k.replace("_days", "_s")] = round(float(v) * categories.DAY)
            elif k == "deposit_min":
                out["deposit_min_fen"] = fen(v)
            else:
                out[k] = v
        return out


class NewCategoryRequest(CategoryRequest):
    code: Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
    name_zh: Name
    name_en: Name
    modes: list[Mode] = Field(min_length=1, max_length=4)
    announce_days: Annotated[Decimal, Field(gt=0, le=3650, max_digits=10, decimal_places=6)] = Decimal(7)
    bidding_days: Annotated[Decimal, Field(gt=0, le=3650, max_digits=10, decimal_places=6)] = Decimal(1)
    contract_days: Annotated[Decimal, Field(gt=0, le=3650, max_digits=10, decimal_places=6)] = Decimal(3)
    settle_days: Annotated[Decimal, Field(gt=0, le=3650, max_digits=10, decimal_places=6)] = Decimal(7)


def category_view(c: Category) -> dict[str, Any]:
    return {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "right_type": c.right_type,
            "term_min_years": c.term_min_years, "term_max_years": c.term_max_years, "department": c.department,
            "modes": c.modes, "deposit_pct": f"{Decimal(c.deposit_pct):.2f}",
            "deposit_min": queries.yuan(c.deposit_min_fen),
            "fee_pct": f"{Decimal(c.fee_pct):.2f}", "announce_days": c.announce_s / categories.DAY,
            "bidding_days": c.bidding_s / categories.DAY, "contract_days": c.contract_s / categories.DAY,
            "settle_days": c.settle_s / categories.DAY, "unit": c.unit, "mandatory": c.mandatory,
            "verified": c.verified, "sourcing": c.sourcing, "source": c.source, "active": c.active,
            "position": c.position}


@router.get("/categories", summary="The product categories and their rules")
def list_categories(db: Db, active: bool = False) -> list[dict[str, Any]]:
    return [category_view(c) for c in categories.all_categories(db, active_only=active)]


@router.post("/categories", status_code=201, summary="Add a category (administrators)")
def create_category(body: NewCategoryRequest, db: Db, caller: Editor) -> dict[str, Any]:
    values = {"right_type": "", "department": "", "deposit_pct": Decimal(10), "deposit_min_fen": 0,
              "fee_pct": Decimal(0), "unit": "", "mandatory": False, "verified": False, "sourcing": "derived",
              "source": "", "active": True, "position": 1000} | body.changes(with_defaults=True)
    return category_view(categories.create(db, values, caller))


@router.patch("/categories/{code}", summary="Edit a category (administrators)")
def update_category(code: PathCode, body: CategoryRequest, db: Db, caller: Editor) -> dict[str, Any]:
    return category_view(categories.update(db, code, body.changes(), caller))


# -- listings -------------------------------------------------------------------------------------------------

class GeoJsonGeometry(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(max_length=10000)


def _shape(geometry: GeoJsonGeometry | None) -> Any:
    if geometry is None:
        return None
    try:
        shape = shapely.from_geojson(json.dumps(geometry.model_dump()))
    except Exception:  # shapely's GEOSException for malformed coordinates
        raise InputError(N_("the geometry is not valid GeoJSON")) from None
    if not shape.is_valid or shape.is_empty:
        raise InputError(N_("the geometry is not valid ({reason})"), reason=shapely.is_valid_reason(shape))
    return shape


class ListingRequest(Body):
    category_code: Code
    title: Name
    mode: Mode
    start_price: Money = Field(description="yuan: the whole lot's price, or the price per unit (multi-unit)")
    increment: Money = Decimal(0)
    reserve: Money = Decimal(0)
    quantity: Units = 1
    unit: Unit = ""
    term_years: Years | None = None
    area_mu: Mu | None = None
    description: LongText = ""
    right_id: RowId | None = None
    max_bids: Annotated[int, Field(ge=1, le=100)] = 10
    top_share_pct: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)] = Decimal(70)
    extension_window_minutes: Minutes = 5
    extension_minutes: Minutes = 5
    county_code: Annotated[str, Field(max_length=40, pattern=r"^[0-9A-Za-z_.\-]*$")] = ""
    geometry: GeoJsonGeometry | None = None


class ListingChanges(Body):
    title: Name | None = None
    description: LongText | None = None
    mode: Mode | None = None
    start_price: Money | None = None
    increment: Money | None = None
    reserve: Money | None = None
    quantity: Units | None = None
    unit: Unit | None = None
    term_years: Years | None = None
    area_mu: Mu | None = None
    max_bids: Annotated[int, Field(ge=1, le=100)] | None = None
    top_share_pct: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)] | None = None
    extension_window_minutes: Minutes | None = None
    extension_minutes: Minutes | None = None

    def changes(self) -> dict[str, Any]:
        """The fields sent; a field absent or null is left as it is."""
        out: dict[str, Any] = {}
        for k, v in self.model_dump(exclude_unset=True, exclude_none=True).items():
            if k in ("start_price", "increment", "reserve"):
                out[f"{k}_fen"] = fen(v)
            elif k.endswith("_minutes"):
                out[k.replace("_minutes", "_s")] = int(v) * 60
            else:
                out[k] = v
        return out


class ReviewRequest(Body):
    approve: bool
    reason: OptName = ""


class AnnounceRequest(Body):
    opens_at: datetime | None = Field(default=None, description="when bidding opens (not before the notice period "
                                                                "ends); default: as soon as it ends")
    closes_at: datetime | None = Field(default=None, description="when bidding closes; default: the category's "
                                                                 "bidding period after it opens")


class ReasonRequest(Body):
    reason: OptName = ""


class BidRequest(Body):
    price: Positive = Field(description="yuan: for the whole lot, or per unit in a multi-unit auction")
    quantity: Units = 1


def _listing(db: Session, listing_id: int, caller: Principal | None) -> dict[str, Any]:
    return queries.listing_view(db, store.get_listing(db, listing_id), caller, detail=True)


@router.get("/listings", summary="Listings (anyone sees announced and later ones; sellers their own drafts)")
def list_listings(db: Db, caller: MaybeCaller, category: Code | None = None, mode: Mode | None = None,
                  state: Annotated[list[str] | None, Query(max_length=20)] = None,
                  county: Annotated[str, Query(max_length=40)] = "", q: Annotated[str, Query(max_length=100)] = "",
                  mine: bool = False, limit: Limit = 50,
                  offset: Annotated[int, Query(ge=0, le=10**6)] = 0) -> dict[str, Any]:
    bad = [s for s in state or [] if s not in rules.STATES]
    if bad:
        raise InputError(N_("state: {value} is not a state of a listing"), value=bad[0])
    return queries.search(db, caller, category, mode, state, county, q, mine, limit, offset)


@router.get("/listings/map", summary="Listings open to bidders, as GeoJSON points")
def listings_map(db: Db) -> dict[str, Any]:
    return queries.map_features(db)


@router.get("/map/counties", summary="The region's county outlines, under the listings map (public)")
def county_outlines(db: Db) -> dict[str, Any]:
    return queries.county_outlines(db)


@router.post("/listings", status_code=201, summary="Create a draft listing (of a right you hold, or of units)")
def create_listing(body: ListingRequest, db: Db, caller: Trader) -> dict[str, Any]:
    shape = _shape(body.geometry)
    offer = listings.Offer(
        category_code=body.category_code, title=body.title, mode=body.mode, start_price_fen=fen(body.start_price),
        increment_fen=fen(body.increment), reserve_fen=fen(body.reserve), quantity=body.quantity, unit=body.unit,
        term_years=body.term_years, area_mu=body.area_mu, description=body.description, right_id=body.right_id,
        max_bids=body.max_bids, top_share_pct=body.top_share_pct, extension_window_s=body.extension_window_minutes * 60,
        extension_s=body.extension_minutes * 60, county_code=body.county_code,
        geojson=json.loads(shapely.to_geojson(shape)) if shape is not None else None)
    listing = listings.create(db, offer, caller)
    return queries.listing_view(db, listing, caller, detail=True)


@router.get("/listings/{listing_id}", summary="A listing with its terms, state, deals and history")
def get_listing(listing_id: Id, db: Db, caller: MaybeCaller) -> dict[str, Any]:
    return _listing(db, listing_id, caller)


@router.patch("/listings/{listing_id}", summary="Change a draft's terms")
def update_listing(listing_id: Id, body: ListingChanges, db: Db, caller: Trader) -> dict[str, Any]:
    listings.update(db, listing_id, body.changes(), caller)
    return _listing(db, listing_id, caller)


@router.post("/listings/{listing_id}/submit", summary="Submit a draft for review (locks the right for the trade)")
def submit(listing_id: Id, db: Db, caller: Trader) -> dict[str, Any]:
    listings.submit(db, listing_id, caller)
    return _listing(db, listing_id, caller)


@router.post("/listings/{listing_id}/revise", summary="Take a rejected listing back to draft")
def revise(listing_id: Id, db: Db, caller: Trader) -> dict[str, Any]:
    listings.revise(db, listing_id, caller)
    return _listing(db, listing_id, caller)


@router.post("/listings/{listing_id}/review", summary="Approve or reject a submitted listing (the exchange's staff)")
def review(listing_id: Id, body: ReviewRequest, db: Db, caller: Officer) -> dict[str, Any]:
    listings.review(db, listing_id, body.approve, body.reason, caller)
    return _listing(db, listing_id, caller)


@router.post("/listings/{listing_id}/announce", summary="Announce an approved listing; set when bidding opens and "
                                                        "closes")
def announce(listing_id: Id, body: AnnounceRequest, db: Db, caller: Officer, request: Request) -> dict[str, Any]:
    listings.announce(db, listing_id, caller, body.opens_at, body.closes_at)
    request.app.state.wake_worker()
    return _listing(db, listing_id, caller)


@router.post("/listings/{listing_id}/withdraw", summary="Withdraw a listing before bidding (deposits released)")
def withdraw(listing_id: Id, body: ReasonRequest, db: Db, caller: Trader) -> dict[str, Any]:
    listings.withdraw(db, listing_id, body.reason, caller)
    return _listing(db, listing_id, caller)


@router.post("/listings/{listing_id}/register", status_code=201,
             summary="Register as a bidder: the deposit is held from your funds")
def register(listing_id: Id, db: Db, caller: Trader) -> dict[str, Any]:
    bidding.register(db, listing_id, caller)
    return _listing(db, listing_id, caller)


@router.post("/listings/{listing_id}/bids", status_code=201, summary="Bid (send an Idempotency-Key header)",
             description="The same Idempotency-Key again returns the first bid and changes nothing "
                         "(header Idempotent-Replayed: true).")
def place_bid(listing_id: Id, body: BidRequest, db: Db, caller: Trader, response: Response,
              key: IdempotencyKey = None) -> dict[str, Any]:
    if key is None:
        raise InputError(N_("a bid needs an Idempotency-Key header, so that a retried request does not bid twice"))
    bid, replayed = bidding.place_bid(db, listing_id, fen(body.price), body.quantity, caller, key)
    listing = store.get_listing(db, listing_id)
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return {"bid": {"id": bid.id, "seq": bid.seq, "price": queries.yuan(bid.price_fen), "quantity": bid.quantity,
                    "at": bid.placed_at}, "replayed": replayed, "closes_at": listing.closes_at}


@router.get("/listings/{listing_id}/bids", summary="The bid ladder after a sequence number (poll it)")
def bids(listing_id: Id, db: Db, caller: MaybeCaller,
         after: Annotated[int, Query(ge=0, le=2**31)] = 0) -> dict[str, Any]:
    return queries.ladder(db, store.get_listing(db, listing_id), caller, after)


@router.post("/listings/{listing_id}/bids/{bid_id}/accept", summary="Negotiated transfer: accept an offer")
def accept(listing_id: Id, bid_id: Id, db: Db, caller: Trader) -> dict[str, Any]:
    bidding.accept_offer(db, listing_id, bid_id, caller)
    return _listing(db, listing_id, caller)


@router.post("/deals/{deal_id}/sign", summary="The winner signs the contract")
def sign(deal_id: Id, db: Db, caller: Trader) -> dict[str, Any]:
    deal = deals.sign(db, deal_id, caller)
    return _listing(db, deal.listing_id, caller)


@router.post("/deals/{deal_id}/settle", summary="The winner pays: the title passes and the certificate is issued")
def settle(deal_id: Id, db: Db, caller: Trader, request: Request) -> dict[str, Any]:
    deal = deals.settle(db, deal_id, caller, signer_of(request))
    request.app.state.wake_worker()
    return _listing(db, deal.listing_id, caller)


@router.get("/my", summary="What I sell, where I bid, what I won")
def my(db: Db, caller: Caller) -> dict[str, Any]:
    return queries.mine(db, caller)


@router.get("/my-rights", summary="Rights I hold that are free to list (no pledge, lease or other lock)")
def my_rights(db: Db, caller: Trader) -> list[dict[str, Any]]:
    holders = registry.my_holders(db, caller)
    rows = registry.rights_of_holders(db, [h.id for h in holders])[:2000]
    parcels = {p.id: p for p in registry.parcels_by_id(db, {r.parcel_id for r in rows})}
    out = []
    for r in registry.describe_rights(db, rows):
        if r["locks"]:
            continue
        p = parcels[r["parcel_id"]]
        out.append(r | {"parcel_code": p.code, "parcel_kind": p.kind,
                        "type_label": RIGHT_TYPES.get(r["type"], r["type"]),
                        "area_mu": str((Decimal(str(p.area_m2)) / listings.MU_M2).quantize(Decimal("0.01")))})
    return out[:500]


@router.get("/review-queue", summary="Listings waiting for review or announcement")
def review_queue(db: Db, caller: Officer) -> list[dict[str, Any]]:
    return queries.review_queue(db, caller)


# -- demands --------------------------------------------------------------------------------------------------

class DemandRequest(Body):
    side: Literal["buy", "sell"]
    title: Name
    category_code: Code | None = None
    county_code: Annotated[str, Field(max_length=40, pattern=r"^[0-9A-Za-z_.\-]*$")] = ""
    area_mu_min: Mu | None = None
    area_mu_max: Mu | None = None
    budget: Money | None = Field(default=None, description="yuan: a buyer's most, a seller's least")
    term_years: Years | None = None
    description: LongText = ""


def demand_view(db: Session, d: Demand, caller: Principal | None) -> dict[str, Any]:
    own = caller is not None and demands.is_owner(d, caller)
    return {"id": d.id, "side": d.side, "title": d.title, "category_code": d.category_code,
            "county_code": d.county_code, "area_mu_min": str(d.area_mu_min) if d.area_mu_min is not None else None,
            "area_mu_max": str(d.area_mu_max) if d.area_mu_max is not None else None,
            "budget": queries.yuan(d.budget_fen), "term_years": d.term_years, "description": d.description,
            "party_name": d.party_name, "status": d.status, "created_at": d.created_at, "mine": own,
            "synthetic": d.synthetic}


@router.post("/demands", status_code=201, summary="Publish a trade demand; it is matched at once")
def publish_demand(body: DemandRequest, db: Db, caller: Trader) -> dict[str, Any]:
    d = demands.publish(db, demands.Wanted(
        side=body.side, title=body.title, category_code=body.category_code, county_code=body.county_code,
        area_mu_min=body.area_mu_min, area_mu_max=body.area_mu_max,
        budget_fen=fen(body.budget) if body.budget is not None else None, term_years=body.term_years,
        description=body.description), caller)
    return demand_view(db, d, caller) | {"matches": _matches(db, d)}


def _matches(db: Session, d: Demand) -> list[dict[str, Any]]:
    out = []
    for m in demands.matches_of(db, d):
        row: dict[str, Any] = {"score": m.score, "why": m.why}
        if m.listing_id is not None:
            listing = db.get(Listing, m.listing_id)
            if listing is None:
                continue
            row["listing"] = {"id": listing.id, "code": listing.code, "title": listing.title, "state": listing.state,
                              "start_price": queries.yuan(listing.start_price_fen)}
        if m.other_demand_id is not None:
            other = db.get(Demand, m.other_demand_id)
            if other is None:
                continue
            row["demand"] = {"id": other.id, "side": other.side, "title": other.title,
                             "party_name": other.party_name, "status": other.status}
        out.append(row)
    return out


@router.get("/demands", summary="The demand board: open demands")
def demand_board(db: Db, caller: Caller, side: Literal["buy", "sell"] | None = None, category: Code | None = None,
                 county: Annotated[str, Query(max_length=40)] = "", limit: Limit = 100) -> list[dict[str, Any]]:
    return [demand_view(db, d, caller) for d in demands.board(db, side, category, county, limit)]


@router.get("/demands/{demand_id}/matches", summary="What matches a demand of mine")
def demand_matches(demand_id: Id, db: Db, caller: Caller) -> list[dict[str, Any]]:
    d = demands.get(db, demand_id)
    if not (demands.is_owner(d, caller) or caller.can(perms.READ_ALL)):
        raise PermissionDenied(N_("only who published a demand sees its matches"))
    return _matches(db, d)


@router.post("/demands/{demand_id}/close", summary="Close a demand of mine")
def close_demand(demand_id: Id, db: Db, caller: Trader) -> dict[str, Any]:
    return demand_view(db, demands.close(db, demand_id, caller), caller)


# -- GEP regulating-service purchase --------------------------------------------------------------------------

class QuoteRequest(Body):
    region_id: RowId
    years: Years
    adjustment_pct: Annotated[Decimal, Field(ge=-90, le=200, max_digits=6, decimal_places=2)] = Decimal(0)
    zone_code: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_.\-]+$")] | None = None
    geometry: GeoJsonGeometry | None = None
    year: Annotated[int, Field(ge=1900, le=2200)] | None = None


class PurchaseListingRequest(QuoteRequest):
    title: Name
    description: LongText = ""


@router.post("/gep-quote", summary="Price an area's regulating services for a term from the accounts")
def gep_quote(body: QuoteRequest, db: Db, caller: Caller) -> dict[str, Any]:
    q = gep_purchase.quote(db, body.region_id, body.years, body.adjustment_pct, body.zone_code, _shape(body.geometry),
                           body.year)
    return {"price": queries.yuan(q["price_fen"]), "basis": q["basis"], "geojson": q["geojson"]}


@router.post("/gep-listings", status_code=201, summary="List an area's regulating services at the quoted price")
def gep_listing(body: PurchaseListingRequest, db: Db, caller: Trader) -> dict[str, Any]:
    listing = gep_purchase.list_purchase(db, caller, body.title, body.region_id, body.years, body.adjustment_pct,
                                         body.zone_code, _shape(body.geometry), body.year, body.description)
    return queries.listing_view(db, listing, caller, detail=True)
