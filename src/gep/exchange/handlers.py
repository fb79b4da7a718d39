"""What the exchange does after other domains' events: a cooperative's package offered to the market, or units
set aside by a registry of units (forest carbon, discharge quota), arrive as a draft listing of the seller's, to
complete with its terms and submit."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.errors import N_
from gep.exchange import listings, rules
from gep.exchange.models import Listing
from gep.kit.domain import EventHandler
from gep.kit.events import Event
from gep.kit.principal import SYSTEM

PACKAGE_OFFERED = "cooperatives.package_offered"


def package_offered(session: Session, event: Event) -> None:
    p = event.payload
    if p.get("to") != "market":
        return
    live = session.scalar(select(Listing.id).where(Listing.package_id == int(p["package_id"]),
                                                   Listing.state.not_in(rules.FINAL))
                          .execution_options(skip_scope=True))
    if live is not None:  # delivered twice, or still on the exchange
        return
    area = p.get("area_m2")
    geometry = p.get("geojson")
    offer = listings.Offer(
        category_code="asset_package", title=f"{p.get('package_name') or p.get('package_code')}", mode="negotiated",
        description=str(p.get("description") or ""), package_id=int(p["package_id"]),
        region_id=p.get("region_id"), county_code=str(p.get("county_code") or ""),
        area_mu=(Decimal(str(area)) / listings.MU_M2).quantize(Decimal("0.01")) if area else None,
        geojson=geometry, gep_basis={"package_vep": p.get("vep") or {}} if p.get("vep") else {})
    listing = listings.create(session, offer, SYSTEM, seller_org_id=int(p["organisation_id"]),
                              seller_name=str(p.get("cooperative_name") or ""))
    listing.created_by = event.actor_id
    listings.tell_seller(session, listing, N_("Package {package} is on the exchange as draft listing {code}: set its "
                                              "terms and submit it"), package=listing.title)


UNITS_OFFERED = ("carbon.units_offered", "discharge.quota_offered")


def units_offered(session: Session, event: Event) -> None:
    """Units set aside for the exchange become a draft multi-unit listing of their quantity (once per offer)."""
    p = event.payload
    ref = str(p["units_ref"])
    if session.scalar(select(Listing.id).where(Listing.units_ref == ref).execution_options(skip_scope=True)):
        return  # delivered twice
    offer = listings.Offer(
        category_code=str(p["category_code"]), title=str(p.get("title") or ref)[:200], mode="multi_unit",
        quantity=int(p["quantity"]), unit=str(p.get("unit") or ""), description=str(p.get("description") or ""),
        start_price_fen=int(p.get("start_price_fen") or 0), region_id=p.get("region_id"),
        county_code=str(p.get("county_code") or ""), geojson=p.get("geojson"), units_ref=ref,
        term_years=p.get("term_years"))
    listing = listings.create(session, offer, SYSTEM, seller_org_id=int(p["seller_org_id"]),
                              seller_name=str(p.get("seller_name") or ""), synthetic=bool(p.get("synthetic")))
    listing.created_by = event.actor_id
    listings.tell_seller(session, listing, N_("{quantity} {unit} are on the exchange as draft listing {code}: set "
                                              "the price and submit it"), quantity=listing.quantity,
                         unit=listing.unit)


COLLATERAL_ENFORCED = "finance.collateral_enforced"
# the category a pledged right is sold in, by the kind of its parcel
COLLATERAL_CATEGORY = {"forest_land": "forest_right", "public_welfare_forest": "forest_right",
                       "farmland": "rural_land", "river_section": "river_management",
                       "water_take_permit": "water_withdrawal", "reservoir_pond": "reservoir_water",
                       "idle_house": "idle_house", "homestead": "idle_house", "sand_gravel": "sand_gravel"}


def collateral_enforced(session: Session, event: Event) -> None:
    """A defaulted loan's pledged right becomes a draft listing of the bank's (once per right and loan): the
    bank sets the terms and submits it; the proceeds go to the loan's proceeds account."""
    p = event.payload
    ref = str(p["collateral_ref"])
    live = session.scalar(select(Listing.id).where(Listing.collateral_ref == ref, Listing.state.not_in(rules.FINAL))
                          .execution_options(skip_scope=True))
    if live is not None:
        return
    offer = listings.Offer(
        category_code=COLLATERAL_CATEGORY.get(str(p.get("parcel_kind")), "forest_right"), title=str(p["title"])[:200],
        mode="ascending", start_price_fen=int(p.get("start_price_fen") or 0),
        increment_fen=max(100, int(p.get("start_price_fen") or 0) // 5000 * 100), right_id=int(p["right_id"]),
        description=str(p.get("borrower_name") or ""), collateral_ref=ref)
    listing = listings.create(session, offer, SYSTEM, seller_org_id=int(p["bank_org_id"]),
                              seller_name=str(p.get("bank_name") or ""),
                              seller_account_id=int(p["seller_account_id"]))
    listing.created_by = event.actor_id
    listings.tell_seller(session, listing, N_("The pledged right is on the exchange as draft listing {code}: set the "
                                              "terms and submit it"))


HANDLERS = (EventHandler(PACKAGE_OFFERED, package_offered, name="exchange.package_offered"),
            EventHandler(COLLATERAL_ENFORCED, collateral_enforced, name="exchange.collateral_enforced"),
            *(EventHandler(kind, units_offered, name=f"exchange.{kind}") for kind in UNITS_OFFERED))
