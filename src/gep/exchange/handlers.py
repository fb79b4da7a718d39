"""What the exchange does after other domains' events: a cooperative's package offered to the market arrives as
a draft listing of the cooperative's, to complete with its terms and submit."""

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


HANDLERS = (EventHandler(PACKAGE_OFFERED, package_offered, name="exchange.package_offered"),)
