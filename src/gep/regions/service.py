"""Use cases of GEP accounting on the platform: import a region, start, cancel and retry runs, read the accounts.

A run is a job on the worker's "jobs" lane (gep.kit.tasks): it survives its worker — a worker killed mid-run
leaves a lease that runs out, and another worker (or the same after a restart) starts the run again, at most
twice, after which it is shown as failed; a worker stopped with SIGTERM hands it back to the queue at once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gep.accounting.indicators import REGISTRY
from gep.accounting.valuation import at_price_year
from gep.db import found
from gep.errors import N_, Conflict, InputError, NotFound, RegionError, Word
from gep.kit import events, tasks
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.regions.models import ACTIVE, AccountingRun, AccountValue, Region, Zone

if TYPE_CHECKING:
    from gep.accounting.zones import Zones

CATEGORIES = ("material", "regulating", "cultural")
SIMPLIFY_M = {"city": 200.0, "county": 150.0, "township": 80.0, "village": 40.0}

READ = "regions.read"
RUN = "regions.run"
IMPORT = "regions.import"
READ_ALL = "regions.runs.read_all"
JOB = "regions.accounting_run"
RUN_FINISHED = "regions.run_finished"
MAX_ATTEMPTS = 2
PUBLISHED = {"skip_scope": True}  # finished accounts are read by everyone with regions.read
STATUS_WORDS = {"queued": N_("queued"), "running": N_("running"), "succeeded": N_("finished"), "failed": N_("failed"),
                "cancelled": N_("cancelled")}


def status_word(status: str) -> Word:
    return Word(STATUS_WORDS.get(status, status))


# -- regions and zones ---------------------------------------------------------------------------------------

def import_region(session: Session, path: Path, by: Principal, label: str | None = None,
                  organisation_id: int | None = None) -> Region:
    """Validate a region package and store the region with its zones at every level (maps in WGS84).

    `label` names the package in errors instead of its path on the server."""
    from gep.accounting.region import load_region

    by.require(IMPORT)
    try:
        region = load_region(path)
    except RegionError as exc:
        raise RegionError(label or str(path), exc.problems) from None
    existing = session.scalar(select(Region).where(Region.code == region.id))
    if existing is not None:
        raise Conflict(N_("region {code} is imported already (id {id})"), code=region.id, id=existing.id)
    row = Region(code=region.id, name=region.name, name_en=region.name_en, package_path=str(region.root),
                 method=region.method, years=list(region.years), levels=list(region.zones.levels),
                 organisation_id=organisation_id if organisation_id is not None else by.organisation_id)
    session.add(row)
    session.flush()
    session.execute(insert(Zone), list(_zone_rows(row.id, region.zones.frame, region.zones.levels)))
    audit(session, by, "import", "region", row.id, code=region.id, package=label or str(region.root))
    return row


def import_path(root: Path, name: str) -> Path:
    """A package folder inside the platform's import folder; nothing outside it is reachable by name."""
    base = root.resolve()
    target = (base / name).resolve()
    if not target.is_relative_to(base) or target == base or Path(name).is_absolute():
        raise InputError(N_("give the name of a package folder inside the platform's import folder, not a path"))
    if not target.is_dir():
        raise NotFound(N_("there is no package {name} in the platform's import folder"), name=name)
    return target


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
    return found(session, Region, region_id, N_("region {id} does not exist"))


def package_zones(region: Region) -> Zones:
    """The region package's zones in the region's equal-area CRS (exact, not the map's simplified shapes);
    read once per package and kept while the package is unchanged."""
    manifest = Path(region.package_path) / "region.toml"
    return _zones_of(region.package_path, manifest.stat().st_mtime if manifest.exists() else 0.0)


@lru_cache(maxsize=8)
def _zones_of(package_path: str, _mtime: float) -> Zones:
    from gep.accounting.region import load_zones

    return load_zones(package_path)


def get_zone(session: Session, region_id: int, code: str) -> Zone:
    zone = session.scalar(select(Zone).where(Zone.region_id == region_id, Zone.code == code))
    if zone is None:
        raise NotFound(N_("zone {code} does not exist in region {id}"), code=code, id=region_id)
    return zone


def zones(session: Session, region_id: int, level: str | None = None, parent: str | None = None) -> list[Zone]:
    get_region(session, region_id)
    q = select(Zone).where(Zone.region_id == region_id)
    if level:
        q = q.where(Zone.level == level)
    if parent is not None:
        q = q.where(Zone.parent_code == parent)
    return list(session.scalars(q.order_by(Zone.code)))


def zone_names(session: Session, region_id: int, codes: list[str]) -> dict[str, str]:
    """Names of zones by code (unknown codes are left out)."""
    wanted = [c for c in codes if c]
    if not wanted:
        return {}
    return dict(session.execute(select(Zone.code, Zone.name).where(Zone.region_id == region_id,
                                                                   Zone.code.in_(wanted))).all())


def ancestors(session: Session, region_id: int, code: str) -> list[Zone]:
    """The zone and the zones above it, top first (for the breadcrumb)."""
    chain = [get_zone(session, region_id, code)]
    while chain[0].parent_code:
        chain.insert(0, get_zone(session, region_id, chain[0].parent_code))
    return chain


# -- runs ----------------------------------------------------------------------------------------------------

def _keeps(region: Region, by: Principal) -> bool:
    return region.organisation_id is None or region.organisation_id == by.organisation_id or by.can(READ_ALL)


def start_run(session: Session, region_id: int, year: int, by: Principal, method: str | None = None,
              price_year: int | None = None) -> AccountingRun:
    """Queue an accounting run; the worker executes it off the request path. Two requests for the same region
    and year at once: one is queued, the other is refused (a unique index decides, not a prior check)."""
    from gep.accounting.methods import available_profiles

    by.require(RUN)
    region = get_region(session, region_id)
    if not _keeps(region, by):
        raise NotFound(N_("region {id} does not exist"), id=region_id)
    if year not in region.years:
        raise InputError(N_("region {code} has no data for {year}; its years are {years}"), code=region.code,
                         year=year, years=", ".join(map(str, region.years)))
    if method is not None and method not in available_profiles():
        raise InputError(N_("method {method} is unknown; expected one of {methods}"), method=method,
                         methods=", ".join(available_profiles()))
    run = AccountingRun(region_id=region_id, year=year, method=method or region.method,
                        price_year=price_year or year, status="queued", requested_by=by.user_id,
                        organisation_id=region.organisation_id or by.organisation_id, stage="", message="",
                        message_params={}, traceback="", progress=0.0)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        busy = session.scalar(select(AccountingRun).where(AccountingRun.region_id == region_id,
                                                          AccountingRun.year == year,
                                                          AccountingRun.status.in_(ACTIVE))
                              .execution_options(skip_scope=True))
        raise Conflict(N_("run {id} for {code} {year} is still {status}"), id=busy.id if busy else "?",
                       code=region.code, year=year, status=status_word(busy.status if busy else "queued")) from None
    task = tasks.schedule(session, JOB, payload={"run_id": run.id}, key=f"accounting-run:{run.id}", lane="jobs",
                          max_attempts=MAX_ATTEMPTS)
    run.task_id = task.id
    audit(session, by, "start", "accounting_run", run.id, region=region.code, year=year, method=run.method,
          price_year=run.price_year)
    return run


def cancel_run(session: Session, run_id: int, by: Principal) -> AccountingRun:
    """Cancel a queued run at once, or ask a running one to stop at its next step."""
    by.require(RUN)
    run = get_run(session, run_id)
    if run.status not in ACTIVE:
        raise Conflict(N_("run {id} is {status}: only a queued or running run can be cancelled"), id=run.id,
                       status=status_word(run.status))
    tasks.cancel(session, f"accounting-run:{run.id}")
    if run.status == "queued":
        _end(session, run, "cancelled", N_("cancelled before it started"))
    else:
        run.stage = N_("cancelling")
    audit(session, by, "cancel", "accounting_run", run.id)
    return run


def retry_run(session: Session, run_id: int, by: Principal) -> AccountingRun:
    """Start a failed or cancelled run again, as a new run with the same region, year, method and prices."""
    run = get_run(session, run_id)
    if run.status not in ("failed", "cancelled"):
        raise Conflict(N_("run {id} is {status}: only a failed or cancelled run can be retried"), id=run.id,
                       status=status_word(run.status))
    return start_run(session, run.region_id, run.year, by, run.method, run.price_year)


def get_run(session: Session, run_id: int) -> AccountingRun:
    return found(session, AccountingRun, run_id, N_("accounting run {id} does not exist"))


def list_runs(session: Session, region_id: int | None = None, limit: int = 50) -> list[AccountingRun]:
    q = select(AccountingRun).order_by(AccountingRun.id.desc()).limit(limit)
    if region_id is not None:
        q = q.where(AccountingRun.region_id == region_id)
    return list(session.scalars(q))


def latest_runs(session: Session, region_id: int) -> dict[int, AccountingRun]:
    """The newest succeeded run of each year (published accounts: visible to every reader)."""
    runs = session.scalars(select(AccountingRun).where(AccountingRun.region_id == region_id,
                                                       AccountingRun.status == "succeeded")
                           .order_by(AccountingRun.id).execution_options(**PUBLISHED))
    return {r.year: r for r in runs}


def _end(session: Session, run: AccountingRun, status: str, message: str = "", traceback: str = "",
         **params: Any) -> None:
    """Finish a run (succeeded, failed or cancelled), tell its requester, and record it."""
    run.status, run.finished_at = status, now()
    run.message, run.message_params, run.traceback = message, params, traceback
    if status == "succeeded":
        run.progress, run.stage = 1.0, N_("done")
    events.record(session, RUN_FINISHED, run_id=run.id, status=status)
    audit(session, None, {"succeeded": "succeed", "failed": "fail", "cancelled": "cancel"}[status],
          "accounting_run", run.id, message=message, **params)


def register_accounts(session: Session, region_id: int, folder: Path, by: Principal) -> AccountingRun:
    """Store accounts computed outside the platform (e.g. by `gep account`) as a finished run."""
    from gep.accounting.accounts import read_accounts

    by.require(RUN)
    accounts = read_accounts(folder)
    meta = accounts.metadata
    reports = {f"{p.stem.rsplit('_', 1)[-1]}.{p.suffix[1:]}": str(p) for p in (folder / "report").glob("gep_report_*")}
    region = get_region(session, region_id)
    run = AccountingRun(region_id=region_id, year=int(meta["year"]), method=meta["method"]["id"],
                        price_year=int(meta["price_year"]), status="running", requested_by=by.user_id,
                        organisation_id=region.organisation_id, started_at=now(), stage="", message="",
                        message_params={}, traceback="", progress=0.9)
    session.add(run)
    session.flush()
    audit(session, by, "register", "accounting_run", run.id, folder=str(folder))
    store(session, run, accounts.table, meta, folder, reports)
    return run


def store(session: Session, run: AccountingRun, table: Any, metadata: dict[str, Any], out: Path,
          reports: dict[str, str]) -> None:
    """The accounts of a run into the database, in the caller's transaction; the run then succeeds."""
    from sqlalchemy import delete

    cols = ["level", "zone_code", "category", "indicator", "sub_indicator", "quantity", "unit", "value_yuan"]
    rows = table[cols].to_dict(orient="records")
    top = table[table["level"] == table["level"].iloc[0]]
    session.execute(delete(AccountValue).where(AccountValue.run_id == run.id))
    session.execute(insert(AccountValue), [{"run_id": run.id, **r} for r in rows])
    run.output_dir, run.reports = str(Path(out).absolute()), reports  # a backup finds it from any folder
    run.gep_yuan = float(top["value_yuan"].sum())
    run.run_metadata = json.loads(json.dumps({k: metadata[k] for k in ("method", "price_year", "price_index",
                                                                        "skipped", "notes", "statistics", "grid")},
                                             default=str))
    _end(session, run, "succeeded", gep_yuan=run.gep_yuan)


# -- reading the accounts ------------------------------------------------------------------------------------

def zone_values(session: Session, run: AccountingRun, level: str | None = None,
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
        raise NotFound(N_("no finished accounting for {year}; available years: {years}"), year=year,
                       years=", ".join(map(str, sorted(runs))))
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
            "gdp_yuan": _gdp(run, code)}


def trends(session: Session, region_id: int, code: str) -> list[dict[str, Any]]:
    """GEP by category for every year with a finished run, beside GDP where the statistics give it."""
    get_zone(session, region_id, code)
    out = []
    for year, run in sorted(latest_runs(session, region_id).items()):
        v = zone_values(session, run, codes=[code]).get(code, dict.fromkeys((*CATEGORIES, "gep"), 0.0))
        out.append({"year": year, "price_year": run.price_year, **v, "gdp_yuan": _gdp(run, code)})
    return out


def published_run(session: Session, run_id: int) -> AccountingRun:
    """A succeeded run, whoever ran it (its reports are published accounts)."""
    run = session.scalar(select(AccountingRun).where(AccountingRun.id == run_id).execution_options(**PUBLISHED))
    if run is None or (run.status != "succeeded" and not _visible(session, run_id)):
        raise NotFound(N_("accounting run {id} does not exist"), id=run_id)
    return run


def _visible(session: Session, run_id: int) -> bool:
    return session.scalar(select(AccountingRun.id).where(AccountingRun.id == run_id)) is not None


def _gdp(run: AccountingRun, code: str) -> float | None:
    """The zone's GDP in the run's price year, like its GEP (a nominal figure moved by the price index)."""
    gdp = _statistic(run, code, "gdp")
    if gdp is None:
        return None
    index = (run.run_metadata or {}).get("price_index", {})
    return at_price_year(gdp, {"year": run.year, "price_year": run.price_year or run.year, "price_index": index})


def _statistic(run: AccountingRun, code: str, item: str) -> float | None:
    for row in (run.run_metadata or {}).get("statistics", []):
        if row.get("item") == item and str(row.get("zone_code")) == code:
            return float(row["value"])
    return None


def _zone_dict(z: Zone) -> dict[str, Any]:
    return {"code": z.code, "name": z.name, "level": z.level, "parent_code": z.parent_code, "area_km2": z.area_km2}


def data_refs(conn: Connection) -> list[str]:
    """The data-folder paths the rows name: each region's package and each stored run's accounts (a backup keeps
    exactly these of the regions/ and runs/ folders)."""
    packages = conn.execute(select(Region.package_path)).scalars()
    outputs = conn.execute(select(AccountingRun.output_dir).where(AccountingRun.output_dir != "")).scalars()
    return [*packages, *outputs]
