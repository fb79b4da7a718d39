"""GEP regulating-service purchase: a buyer pays for a zone's (or an area's) regulating services — water
conservation, soil retention, air and climate regulation — for a term. The price is anchored on the accounts:
the regulating-service value per year × years × (1 + an agreed adjustment), PLATFORM.md §2 rule (b); the
listing, the contract and the certificate keep that basis and the accounts run it came from."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gep.errors import N_, InputError
from gep.exchange import listings
from gep.exchange.models import Listing
from gep.kit.principal import Principal
from gep.regions import service as regions
from gep.registry import service as registry

CATEGORY = "gep_regulating"
MU_M2 = listings.MU_M2


def quote(session: Session, region_id: int, years: int, adjustment_pct: Decimal, zone_code: str | None = None,
          geometry: BaseGeometry | None = None, year: int | None = None) -> dict[str, Any]:
    """The price of an area's regulating services for `years`, and what it rests on. `geometry` is WGS84."""
    if not 1 <= years <= 99:
        raise InputError(N_("the term is 1 to 99 years, not {term}"), term=years)
    if not Decimal(-90) <= adjustment_pct <= Decimal(200):
        raise InputError(N_("the adjustment is a discount or premium from -90 % to +200 %"))
    if (zone_code is None) == (geometry is None):
        raise InputError(N_("give either a zone or an area, not both"))
    region = regions.get_region(session, region_id)
    if zone_code is not None:
        accounts = regions.zone_accounts(session, region_id, zone_code, year)
        if accounts["totals"] is None:
            raise InputError(N_("region {id} has no finished accounts yet: run the accounting first"), id=region_id)
        zone = regions.get_zone(session, region_id, zone_code)
        per_year = float(accounts["totals"]["regulating"])
        basis: dict[str, Any] = {
            "source": "zone", "zone_code": zone_code, "zone_name": zone.name, "run_id": accounts["run_id"],
            "year": accounts["year"], "price_year": accounts["price_year"], "area_m2": zone.area_km2 * 1e6,
            "indicators": [{"indicator": i["indicator"], "name_zh": i["name_zh"], "value_yuan": i["value_yuan"]}
                           for i in accounts["indicators"] if i["category"] == "regulating"]}
        shape = json.loads(zone.geometry) if zone.geometry else None
    else:
        assert geometry is not None
        local = registry.reproject(geometry, registry.WGS84, registry.zone_index(region).crs)
        value = registry.value_of(session, region_id, local, year)
        per_year = float(value["regulating_yuan"])
        basis = {"source": "area", "run_id": value["run_id"], "year": value["year"], "price_year": value["price_year"],
                 "method": value["method"], "area_m2": value["area_m2"], "rule": value["rule"]}
        shape = json.loads(json.dumps(geometry.__geo_interface__))
    price_fen = int((Decimal(str(per_year)) * years * (1 + adjustment_pct / 100) * 100)
                    .quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if price_fen <= 0:
        raise InputError(N_("the area has no regulating-service value in the accounts to price"))
    sign = "+" if adjustment_pct >= 0 else "−"
    basis.update({
        "region_id": region_id, "regulating_yuan_per_year": round(per_year, 2), "years": years,
        "adjustment_pct": str(adjustment_pct), "price_fen": price_fen,
        "formula": "price = regulating services per year × years × (1 + adjustment)",
        "summary": (f"核算批次 {basis['run_id']}（{basis['year']} 年）调节服务 {per_year:,.2f} 元/年 × {years} 年 × "
                    f"(1 {sign} {abs(adjustment_pct)}%) / accounts run {basis['run_id']} ({basis['year']}): "
                    f"regulating services {per_year:,.2f} yuan/yr × {years} yr × (1 {sign} {abs(adjustment_pct)}%)")})
    return {"basis": basis, "price_fen": price_fen, "geojson": shape}


def list_purchase(session: Session, by: Principal, title: str, region_id: int, years: int, adjustment_pct: Decimal,
                  zone_code: str | None = None, geometry: BaseGeometry | None = None, year: int | None = None,
                  description: str = "", synthetic: bool = False) -> Listing:
    """A draft listing selling an area's regulating services for a term, at the quoted price (negotiated)."""
    q = quote(session, region_id, years, adjustment_pct, zone_code, geometry, year)
    basis = q["basis"]
    county = zone_code or ""
    offer = listings.Offer(
        category_code=CATEGORY, title=title, mode="negotiated", start_price_fen=q["price_fen"], term_years=years,
        area_mu=(Decimal(str(basis["area_m2"])) / MU_M2).quantize(Decimal("0.01")), description=description,
        region_id=region_id, county_code=county, geojson=q["geojson"], gep_basis=basis)
    return listings.create(session, offer, by, synthetic=synthetic)
