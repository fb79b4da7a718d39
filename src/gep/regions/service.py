"""Use cases of GEP accounting on the platform: import a region, start and execute runs, read the accounts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from gep.accounting.indicators import REGISTRY
from gep.auth.service import Principal, audit
from gep.db import unit_of_work
from gep.errors import Conflict, InputError, NotFound
from gep.regions.models import AccountingRun, AccountValue, Region, Zone

CATEGORIES = ("material", "regulating", "cultural")
SIMPLIFY_M = {"city": 200.0, "county": 150.0, "township": 80.0, "village": 40.0}


def _now() -> datetime:
    return datetime.now(UTC)


# -- regions and zones ---------------------------------------------------------------------------------------

def import_region(session: Session, path: Path, by: Principal) -> Region:
    """Validate a region package and store the region with its zones at every level (maps in WGS84)."""
    from gep.accounting.region import load_region

    by.require("region.import")
    region = load_region(path)
    existing = session.scalar(select(Region).where(Region.code == region.id))
    if existing is not None:
        raise Conflict(f"region {region.id!r} is imported already (id {existing.id})")
    row = Region(code=region.id, name=region.name, name_en=region.name_en, package_path=str(region.root),
                 method=region.method, years=list(region.years), levels=list(region.zones.levels))
    session.add(row)
    session.flush()
    session.execute(insert(Zone), list(_zone_rows(row.id, region.zones.frame, region.zones.levels)))
    audit(session, by.user_id, "import", "region", row.id, code=region.id, path=str(region.root))
    return row


def _zone_rows(region_id: int, frame: gpd.GeoDataFrame, levels: tuple[str, ...]) -> Any:
    for i, level in enumerate(levels):
        parent = f"{levels[i - 1]}_code" if i else None
        cols = [f"{level}_code", f"{level}_name", *([parent] if parent else [])]
        merged = frame[[*cols, "geometry"]].dissolve(by=f"{level}_code", as_index=False, aggfunc="first")
        area = merged.geometry.area / 1e6
        # close the hairline gaps a union of generated polygons can leave, then simplify for the web map
        closed = merged.geometry.buffer(1.0).buffer(-1.0)
        shapes = closed.simplify(SIMPLIFY_M.get(level, 50.0)).to_crs(4326)
        for k, rec in enumerate(merged.itertuples(index=False)):
            geom = shapely.set_precision(shapes.iloc[k], 1e-5)
            yield {"region_id": region_id, "level": level, "code": getattr(rec, f"{level}_code"),
                   "name": getattr(rec, f"{level}_name"), "parent_code": getattr(rec, parent) if parent else "",
                   "area_km2": float(area.iloc[k]), "geometry": shapely.to_geojson(geom)}


def list_regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.id)))


def get_region(session: Session, region_id: int) -> Region:
    region = session.get(Region, region_id)
    if region is None:
        raise NotFound(f"region {region_id} does not exist")
    return region


def get_zone(session: Session, region_id: int, code: str) -> Zone:
    zone = session.scalar(select(Zone).where(Zone.region_id == region_id, Zone.code == code))
    if zone is None:
        raise NotFound(f"zone {code!r} does not exist in region {region_id}")
    return zone


def zones(session: Session, region_id: int, level: str | None = None, parent: str | None = None) -> list[Zone]:
    get_region(session, region_id)
    q = select(Zone).where(Zone.region_id == region_id)
    if level:
        q = q.where(Zone.level == level)
    if parent is not None:
        q = q.where(Zone.parent_code == parent)
    return list(session.scalars(q.order_by(Zone.code)))


def ancestors(session: Session, region_id: int, code: str) -> list[Zone]:
    """The zone and the zones above it, top first (for the breadcrumb)."""
    chain = [get_zone(session, region_id, code)]
    while chain[0].parent_code:
        chain.insert(0, get_zone(session, region_id, chain[0].parent_code))
    return chain


# -- runs ----------------------------------------------------------------------------------------------------

def start_run(session: Session, region_id: int, year: int, by: Principal, method: str | None = None,
              price_year: int | None = None) -> AccountingRun:
    """Queue an accounting run (the job runner executes it off the request path)."""
    by.require("accounting.run")
    region = get_region(session, region_id)
    if year not in region.years:
        raise InputError(f"region {region.code} has no data for {year}; its years are {region.years}")
    busy = session.scalar(select(AccountingRun).where(AccountingRun.region_id == region_id,
                                                      AccountingRun.year == year,
                                                      AccountingRun.status.in_(("queued", "running"))))
    if busy is not None:
        raise Conflict(f"run {busy.id} for {region.code} {year} is still {busy.status}")
    run = AccountingRun(region_id=region_id, year=year, method=method or region.method,
                        price_year=price_year or year, status="queued", requested_by=by.user_id)
    session.add(run)
    session.flush()
    audit(session, by.user_id, "start", "accounting_run", run.id, region=region.code, year=year,
          method=run.method, price_year=run.price_year)
    return run


def get_run(session: Session, run_id: int) -> AccountingRun:
    run = session.get(AccountingRun, run_id)
    if run is None:
        raise NotFound(f"accounting run {run_id} does not exist")
    return run


def list_runs(session: Session, region_id: int | None = None, limit: int = 50) -> list[AccountingRun]:
    q = select(AccountingRun).order_by(AccountingRun.id.desc()).limit(limit)
    if region_id is not None:
        q = q.where(AccountingRun.region_id == region_id)
    return list(session.scalars(q))


def latest_runs(session: Session, region_id: int) -> dict[int, AccountingRun]:
    """The newest succeeded run of each year."""
    runs = session.scalars(select(AccountingRun).where(AccountingRun.region_id == region_id,
                                                       AccountingRun.status == "succeeded")
                           .order_by(AccountingRun.id))
    return {r.year: r for r in runs}


class _DbProgress:
    """Writes a run's stage and progress to the database, at most twice a second."""

    def __init__(self, factory: sessionmaker[Session], run_id: int) -> None:
        self.factory, self.run_id = factory, run_id
        self.last = 0.0
        self.stage_name = ""

    def _write(self, **values: Any) -> None:
        with unit_of_work(self.factory) as s:
            run = s.get(AccountingRun, self.run_id)
            if run is not None:
                for k, v in values.items():
                    setattr(run, k, v)

    def stage(self, name: str) -> None:
        self.stage_name = name
        self._write(stage=name)

    def tasks(self, done: int, total: int) -> None:
        if time.monotonic() - self.last > 0.5 or done == total:
            self.last = time.monotonic()
            self._write(progress=0.1 + 0.7 * done / max(total, 1))


def execute_run(factory: sessionmaker[Session], run_id: int, data_dir: Path) -> None:
    """Run the accounting of a queued run, store the accounts and the reports; record failure on error."""
    from gep.accounting.region import load_region
    from gep.accounting.run import account
    from gep.report import write_report

    with unit_of_work(factory) as s:
        run = get_run(s, run_id)
        region = get_region(s, run.region_id)
        run.status, run.started_at, run.progress, run.stage = "running", _now(), 0.02, "loading the region"
        package, year, method, price_year = Path(region.package_path), run.year, run.method, run.price_year
    progress = _DbProgress(factory, run_id)
    try:
        accounts = account(load_region(package), year, method=method, price_year=price_year, progress=progress)
        out = data_dir / "runs" / str(run_id)
        progress.stage("writing the accounts")
        accounts.write(out / "accounts", density=True)
        reports: dict[str, str] = {}
        for lang in ("zh", "en"):
            progress.stage(f"writing the report ({lang})")
            for fmt, path in write_report([out / "accounts"], out / "report", lang=lang).items():
                reports[f"{lang}.{fmt}"] = str(path)
        progress.stage("storing the accounts")
        _store(factory, run_id, accounts.table, accounts.metadata, out, reports)
    except Exception as exc:  # recorded on the run for the user; the job runner must not die
        with unit_of_work(factory) as s:
            run = get_run(s, run_id)
            run.status, run.finished_at, run.message = "failed", _now(), f"{type(exc).__name__}: {exc}"
            audit(s, None, "fail", "accounting_run", run_id, error=str(exc)[:500])
        return


def register_accounts(factory: sessionmaker[Session], region_id: int, folder: Path, by: Principal) -> int:
    """Store accounts computed outside the platform (e.g. by `gep account`) as a finished run."""
    from gep.accounting.accounts import read_accounts

    by.require("accounting.run")
    accounts = read_accounts(folder)
    meta = accounts.metadata
    reports = {f"{p.stem.rsplit('_', 1)[-1]}.{p.suffix[1:]}": str(p) for p in (folder / "report").glob("gep_report_*")}
    with unit_of_work(factory) as s:
        run = AccountingRun(region_id=region_id, year=int(meta["year"]), method=meta["method"]["id"],
                            price_year=int(meta["price_year"]), status="running", requested_by=by.user_id,
                            started_at=_now())
        s.add(run)
        s.flush()
        run_id = run.id
        audit(s, by.user_id, "register", "accounting_run", run_id, folder=str(folder))
    _store(factory, run_id, accounts.table, meta, folder, reports)
    return run_id


def _store(factory: sessionmaker[Session], run_id: int, table: pd.DataFrame, metadata: dict[str, Any], out: Path,
           reports: dict[str, str]) -> None:
    cols = ["level", "zone_code", "category", "indicator", "sub_indicator", "quantity", "unit", "value_yuan"]
    rows = table[cols].to_dict(orient="records")
    top = table[table["level"] == table["level"].iloc[0]]
    with unit_of_work(factory) as s:
        s.execute(delete(AccountValue).where(AccountValue.run_id == run_id))
        s.execute(insert(AccountValue), [{"run_id": run_id, **r} for r in rows])
        run = get_run(s, run_id)
        run.status, run.finished_at, run.progress, run.stage = "succeeded", _now(), 1.0, "done"
        run.output_dir, run.reports = str(out), reports
        run.gep_yuan = float(top["value_yuan"].sum())
        run.run_metadata = json.loads(json.dumps({k: metadata[k] for k in ("method", "price_year", "price_index",
                                                                            "skipped", "notes", "statistics", "grid")},
                                                 default=str))
        audit(s, None, "succeed", "accounting_run", run_id, gep_yuan=run.gep_yuan)


# -- reading the accounts ------------------------------------------------------------------------------------

def zone_values(session: Session, run: AccountingRun, level: str | None = None, parent: str | None = None,
                codes: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Per zone: value by category and GEP (yuan)."""
    q = select(AccountValue.zone_code, AccountValue.category, func.sum(AccountValue.value_yuan)).where(
        AccountValue.run_id == run.id)
    if level:
        q = q.where(AccountValue.level == level)
    if codes is not None:
        q = q.where(AccountValue.zone_code.in_(codes))
    out: dict[str, dict[str, float]] = {}
    for code, cat, value in session.execute(q.group_by(AccountValue.zone_code, AccountValue.category)):
        out.setdefault(code, dict.fromkeys(CATEGORIES, 0.0))[cat] = float(value)
    for v in out.values():
        v["gep"] = sum(v[c] for c in CATEGORIES)
    return out


def map_features(session: Session, region_id: int, level: str, parent: str | None, year: int | None
                 ) -> dict[str, Any]:
    """GeoJSON of the zones of a level (under a parent) with GEP and GEP per km² of the year's latest run."""
    zs = zones(session, region_id, level, parent)
    runs = latest_runs(session, region_id)
    run = runs.get(year) if year else (runs[max(runs)] if runs else None)
    values = zone_values(session, run, level, codes=[z.code for z in zs]) if run else {}
    features = []
    for z in zs:
        v = values.get(z.code, {})
        gep = v.get("gep")
        features.append({"type": "Feature", "geometry": json.loads(z.geometry) if z.geometry else None,
                         "properties": {"code": z.code, "name": z.name, "level": z.level, "area_km2": z.area_km2,
                                        "gep": gep, "gep_per_km2": gep / z.area_km2 if gep and z.area_km2 else None,
                                        **{c: v.get(c) for c in CATEGORIES}}})
    return {"type": "FeatureCollection", "features": features, "year": run.year if run else None,
            "run_id": run.id if run else None}


def zone_accounts(session: Session, region_id: int, code: str, year: int | None) -> dict[str, Any]:
    """A zone's accounts: totals, categories, the indicator table, its children and the years available."""
    zone = get_zone(session, region_id, code)
    runs = latest_runs(session, region_id)
    if not runs:
        return {"zone": _zone_dict(zone), "year": None, "years": [], "indicators": [], "totals": None}
    run = runs.get(year) if year else runs[max(runs)]
    if run is None:
        raise NotFound(f"no finished accounting for {year}; available years: {sorted(runs)}")
    rows = session.execute(select(AccountValue).where(AccountValue.run_id == run.id,
                                                      AccountValue.zone_code == code)).scalars().all()
    indicators: dict[str, dict[str, Any]] = {}
    for r in rows:
        spec = REGISTRY[r.indicator].SPEC if r.indicator in REGISTRY else None
        item = indicators.setdefault(r.indicator, {
            "indicator": r.indicator, "category": r.category, "value_yuan": 0.0, "subs": [],
            "name_zh": spec.name_zh if spec else r.indicator, "name_en": spec.name_en if spec else r.indicator})
        item["value_yuan"] += r.value_yuan
        item["subs"].append({"sub_indicator": r.sub_indicator, "quantity": r.quantity, "unit": r.unit,
                             "value_yuan": r.value_yuan})
    totals = zone_values(session, run, codes=[code]).get(code)
    return {"zone": _zone_dict(zone), "breadcrumb": [_zone_dict(z) for z in ancestors(session, region_id, code)],
            "year": run.year, "years": sorted(runs), "run_id": run.id, "price_year": run.price_year,
            "totals": totals, "indicators": sorted(indicators.values(), key=lambda d: -d["value_yuan"]),
            "gdp_yuan": _statistic(run, code, "gdp")}


def trends(session: Session, region_id: int, code: str) -> list[dict[str, Any]]:
    """GEP by category for every year with a finished run, beside GDP where the statistics give it."""
    get_zone(session, region_id, code)
    out = []
    for year, run in sorted(latest_runs(session, region_id).items()):
        v = zone_values(session, run, codes=[code]).get(code, dict.fromkeys((*CATEGORIES, "gep"), 0.0))
        out.append({"year": year, "price_year": run.price_year, **v, "gdp_yuan": _statistic(run, code, "gdp")})
    return out


def _statistic(run: AccountingRun, code: str, item: str) -> float | None:
    for row in (run.run_metadata or {}).get("statistics", []):
        if row.get("item") == item and str(row.get("zone_code")) == code:
            return float(row["value"])
    return None


def _zone_dict(z: Zone) -> dict[str, Any]:
    return {"code": z.code, "name": z.name, "level": z.level, "parent_code": z.parent_code, "area_km2": z.area_km2}
