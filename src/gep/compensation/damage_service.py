"""Use cases of damage valuation: open a case (a polygon, a date, an ecosystem change, a recovery period and path,
a discount rate and price year), value it from the region's stored accounts, recompute it, record carbon units
retired for it, and write its claim report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gep.compensation import damage
from gep.compensation.claim import band_name
from gep.compensation.models import DamageCase
from gep.compensation.service import MANAGE
from gep.db import found
from gep.errors import N_, InputError, NotFound
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.regions import service as regions
from gep.regions.models import AccountingRun

DEFAULT_RATE = Decimal("0.04")  # [DERIVED] no rate is published for Lishui's damage cases; configurable per case
DEFAULT_CARBON_PRICE_FEN = 5_000  # [DERIVED] 50 yuan/t, a reference price for the carbon-sink option; set per case
MAX_AREA_HA = 100_000.0


@dataclass
class CaseRequest:
    title: str
    region_id: int
    geometry: dict[str, Any]  # GeoJSON geometry, WGS84
    occurred_on: date
    from_ecosystem: str
    to_ecosystem: str
    recovery_years: int
    path: str = "linear"
    curve: list[float] = field(default_factory=list)
    discount_rate: Decimal = DEFAULT_RATE
    price_year: int | None = None
    year: int | None = None  # the accounts' year (default: the newest before or at the damage)
    responsible: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)  # {name, yuan, source}
    carbon_price_fen: int = DEFAULT_CARBON_PRICE_FEN


def _geometry(raw: dict[str, Any], crs: Any) -> Any:
    try:
        geom = shape(raw)
    except Exception:
        raise InputError(N_("the damaged area is not a GeoJSON polygon")) from None
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise InputError(N_("the damaged area is not a GeoJSON polygon"))
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError(N_("the damaged area's coordinates are not longitude and latitude (WGS84)"))
    projected = gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(crs).iloc[0]
    if projected.area / 1e4 > MAX_AREA_HA:
        raise InputError(N_("the damaged area is {ha} ha; at most {max} ha a case"), ha=round(projected.area / 1e4),
                         max=int(MAX_AREA_HA))
    return geom, projected


def _run(session: Session, region_id: int, year: int | None, occurred_on: date) -> AccountingRun:
    runs = regions.latest_runs(session, region_id)
    if not runs:
        raise NotFound(N_("region {id} has no accounts to value damage with"), id=region_id)
    if year is not None:
        if year not in runs:
            raise NotFound(N_("region {id} has no accounts of {year}; it has {years}"), id=region_id, year=year,
                           years=", ".join(map(str, sorted(runs))))
        return runs[year]
    before = [y for y in runs if y <= occurred_on.year]
    return runs[max(before) if before else min(runs)]


@lru_cache(maxsize=4)
def _ecosystem(package_path: str, year: int, _mtime: float) -> tuple[Any, list[str]]:
    from gep.accounting.region import load_region

    index, ids = load_region(package_path).ecosystem_index(year)
    return index, ids


def price_factor(run: AccountingRun, price_year: int) -> float:
    """How much the run's prices are multiplied by to express them at `price_year` (the run's price index)."""
    if price_year == run.price_year:
        return 1.0
    values = (run.run_metadata or {}).get("price_index", {}).get("values", {})
    if str(price_year) not in values or str(run.price_year) not in values:
        raise InputError(N_("the price index of run {run} has no value for {year}; it has {years}"), run=run.id,
                         year=price_year, years=", ".join(sorted(values)) or "—")
    return float(values[str(price_year)]) / float(values[str(run.price_year)])


def valuate(session: Session, req: CaseRequest) -> dict[str, Any]:
    """The valuation of a case as plain data: the affected pixels before and after per category and indicator,
    the yearly loss, the schedule over the recovery period, the other items, and the claim in fen."""
    if req.occurred_on > now().date():
        raise InputError(N_("the damage date {date} is in the future"), date=req.occurred_on.isoformat())
    region = regions.get_region(session, req.region_id)
    run = _run(session, req.region_id, req.year, req.occurred_on)
    density = Path(run.output_dir) / f"value_density_{run.year}.tif"
    if not density.exists():
        raise NotFound(N_("the accounts of run {id} have no value-density raster to value damage with"), id=run.id)
    zones = regions.package_zones(region)
    _wgs, geom = _geometry(req.geometry, zones.frame.crs)
    manifest = Path(region.package_path) / "region.toml"
    eco, ids = _ecosystem(region.package_path, run.year, manifest.stat().st_mtime if manifest.exists() else 0.0)
    ref_code, ref_name, ref_geom = damage.reference_zone(zones, zones.levels, geom)
    hit = damage.affected(density, eco, ids, geom, req.from_ecosystem, req.to_ecosystem, ref_geom, ref_code)
    if hit.changed == 0:
        raise InputError(N_("no pixel inside the area is of ecosystem type {from_} on the accounts' map ({pixels} "
                            "pixels inside); check the area or the ecosystem that changed"),
                         from_=req.from_ecosystem, pixels=hit.pixels)
    price_year = req.price_year or run.price_year
    factor = price_factor(run, price_year)
    shares = damage.unrecovered_shares(req.path, req.recovery_years, req.curve or None)
    yearly = {b: hit.loss(b) * factor for b in hit.bands}
    per_category = {c: yearly.get(c, 0.0) for c in damage.CATEGORIES}
    yearly_total = sum(per_category.values())
    rows = damage.schedule(yearly_total, shares, req.discount_rate)
    pixel_loss = sum(r.present_yuan for r in rows)
    items = [_item(i, k) for k, i in enumerate(req.items)]
    total = Decimal(str(pixel_loss)) + sum((Decimal(str(i["yuan"])) for i in items), Decimal(0))
    total_fen = int((total * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    indicators = [{"band": b, "name_zh": band_name(b, "zh"), "name_en": band_name(b, "en"),
                   "before_yuan": hit.before[b] * factor, "after_yuan": hit.after[b] * factor,
                   "loss_yuan": yearly[b], "after_density_yuan_ha": hit.after_density[b] * factor}
                  for b in hit.bands if b not in damage.CATEGORIES]
    categories = [{"category": c, "before_yuan": hit.before.get(c, 0.0) * factor,
                   "after_yuan": hit.after.get(c, 0.0) * factor, "loss_yuan": per_category[c]}
                  for c in damage.CATEGORIES]
    return {"run_id": run.id, "accounts_year": run.year, "method": run.method, "run_price_year": run.price_year,
            "price_year": price_year, "price_factor": factor, "pixels": hit.pixels, "changed_pixels": hit.changed,
            "pixel_ha": hit.pixel_ha, "changed_ha": hit.changed_ha, "area_ha": geom.area / 1e4,
            "reference_zone": hit.reference, "reference_zone_name": ref_name if hit.reference else "",
            "reference_pixels": hit.reference_pixels,
            "categories": categories, "indicators": indicators, "yearly_loss_yuan": yearly_total,
            "schedule": [{"year": r.year, "share": r.share, "loss_yuan": r.loss_yuan, "factor": r.factor,
                          "present_yuan": r.present_yuan} for r in rows],
            "pixel_loss_yuan": pixel_loss, "items": items, "total_fen": total_fen,
            "carbon_tonnes": -(-total_fen // req.carbon_price_fen) if req.carbon_price_fen > 0 else None,
            "per_indicator_bands": bool(indicators)}


def _item(raw: dict[str, Any], k: int) -> dict[str, Any]:
    name, source = str(raw.get("name", "")).strip(), str(raw.get("source", "")).strip()
    try:
        yuan = Decimal(str(raw.get("yuan", "")))
        if not yuan.is_finite() or yuan < 0:
            raise ValueError
    except (ArithmeticError, ValueError):
        raise InputError(N_("item {n}: the amount is a number of yuan ≥ 0"), n=k + 1) from None
    if not name or not source:
        raise InputError(N_("item {n}: every other loss names what it is and its source"), n=k + 1)
    return {"name": name[:200], "yuan": str(yuan.quantize(Decimal("0.01"))), "source": source[:300]}


def open_case(session: Session, req: CaseRequest, by: Principal, synthetic: bool = False) -> DamageCase:
    by.require(MANAGE)
    if not req.title.strip():
        raise InputError(N_("a case has a title"))
    result = valuate(session, req)
    year = req.occurred_on.year
    n = session.scalar(select(func.count()).select_from(DamageCase).where(DamageCase.code.like(f"DMG-{year}-%")))
    row = DamageCase(code=f"DMG-{year}-{(n or 0) + 1:04d}", title=req.title.strip()[:200],
                     responsible=req.responsible.strip()[:200], region_id=req.region_id, run_id=result["run_id"],
                     geometry=req.geometry, occurred_on=req.occurred_on, from_ecosystem=req.from_ecosystem,
                     to_ecosystem=req.to_ecosystem, recovery_years=req.recovery_years, path=req.path,
                     curve=list(req.curve), discount_rate=str(req.discount_rate), price_year=result["price_year"],
                     items=result["items"], carbon_price_fen=req.carbon_price_fen, result=result,
                     total_fen=result["total_fen"], retirements=[], state="valued", synthetic=synthetic,
                     created_by=by.user_id, created_at=now())
    session.add(row)
    session.flush()
    audit(session, by, "open", "compensation_damage_case", row.id, code=row.code, total_fen=row.total_fen,
          run=result["run_id"])
    return row


def request_of(case: DamageCase) -> CaseRequest:
    return CaseRequest(case.title, case.region_id, case.geometry, case.occurred_on, case.from_ecosystem,
                       case.to_ecosystem, case.recovery_years, case.path, list(case.curve),
                       Decimal(case.discount_rate), case.price_year, case.result.get("accounts_year"),
                       case.responsible, list(case.items), case.carbon_price_fen)


def recompute_case(session: Session, case_id: int) -> dict[str, Any]:
    """Value a case again from its stored parameters and say whether the claim is the same to the fen."""
    case = found(session, DamageCase, case_id, N_("damage case {id} does not exist"))
    again = valuate(session, request_of(case))
    return {"case": case.code, "matches": again["total_fen"] == case.total_fen, "stored_fen": case.total_fen,
            "recomputed_fen": again["total_fen"]}


def cases(session: Session) -> list[DamageCase]:
    return list(session.scalars(select(DamageCase).order_by(DamageCase.id.desc())))


def case_view(case: DamageCase) -> dict[str, Any]:
    retired = sum(int(r.get("quantity", 0)) for r in case.retirements)
    return {"id": case.id, "code": case.code, "title": case.title, "responsible": case.responsible,
            "region_id": case.region_id, "run_id": case.run_id, "geometry": case.geometry,
            "occurred_on": case.occurred_on.isoformat(), "from_ecosystem": case.from_ecosystem,
            "to_ecosystem": case.to_ecosystem, "recovery_years": case.recovery_years, "path": case.path,
            "curve": case.curve, "discount_rate": case.discount_rate, "price_year": case.price_year,
            "items": case.items, "carbon_price_fen": case.carbon_price_fen, "result": case.result,
            "total_fen": case.total_fen, "retirements": case.retirements, "retired_tonnes": retired,
            "state": case.state, "synthetic": case.synthetic}


def record_retirement(session: Session, case_code: str, retirement: str, quantity: int, on: str) -> bool:
    """Carbon units retired for judicial restoration naming this case: counted against its carbon-sink option
    (once per retirement); the case is remedied when the units cover the claim."""
    case = session.scalar(select(DamageCase).where(DamageCase.code == case_code).with_for_update())
    if case is None or any(r.get("retirement") == retirement for r in case.retirements):
        return False
    case.retirements = [*case.retirements, {"retirement": retirement, "quantity": quantity, "on": on}]
    needed = case.result.get("carbon_tonnes")
    if needed is not None and sum(int(r["quantity"]) for r in case.retirements) >= needed:
        case.state = "remedied"
    audit(session, None, "carbon_retired", "compensation_damage_case", case.id, retirement=retirement,
          quantity=quantity)
    return True


def claim_pdf(session: Session, case_id: int, lang: str) -> tuple[DamageCase, bytes]:
    """The case's claim report as PDF bytes, in Chinese or English."""
    from gep.compensation import claim

    case = found(session, DamageCase, case_id, N_("damage case {id} does not exist"))
    run = session.scalar(select(AccountingRun).where(AccountingRun.id == case.run_id)
                         .execution_options(skip_scope=True))
    density = Path(run.output_dir) / f"value_density_{run.year}.tif" if run is not None else None
    region = regions.get_region(session, case.region_id)
    crs = regions.package_zones(region).frame.crs
    return case, claim.pdf(case_view(case), "en" if lang == "en" else "zh",
                           density if density is not None and density.exists() else None, crs)
