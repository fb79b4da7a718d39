"""The leaders' tenure audit (领导干部自然资源资产离任审计): for a zone and the two dates of a term, the
natural-resource assets and GEP at both ends from the stored accounts — ecosystem areas by type, the physical
quantities of the services (water conserved, carbon fixed, soil retained …), the listed protected areas, and GEP by
indicator at the first year's prices — the changes, the indicators that fell, and what happened in the zone during
the term (registry events on its parcels, compensation settlements and damage cases, project checks, rewards
paid)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gep.assessment import projects, rules, service, tenure_report
from gep.assessment.models import ProjectCheck, RewardRound, TenureAudit
from gep.compensation import service as compensation
from gep.errors import N_, InputError, NotFound, Word
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.regions import service as regions
from gep.regions.models import AccountingRun, AccountValue
from gep.registry import service as registry


def _run_at(runs: dict[int, AccountingRun], day: date, which: str) -> AccountingRun:
    """The accounts standing at a date: the newest year at or before it (the first year when none is)."""
    before = [y for y in runs if y <= day.year]
    if not before:
        raise InputError(N_("no accounts at or before {date} ({which} of the term); the accounts cover {years}"),
                         date=day.isoformat(), which=which, years=", ".join(map(str, sorted(runs))) or "—")
    return runs[max(before)]


def _quantities(session: Session, run: AccountingRun, code: str) -> dict[str, tuple[float, str]]:
    q = (select(AccountValue.indicator, AccountValue.sub_indicator, AccountValue.unit, func.sum(AccountValue.quantity))
         .where(AccountValue.run_id == run.id, AccountValue.zone_code == code)
         .group_by(AccountValue.indicator, AccountValue.sub_indicator, AccountValue.unit))
    return {f"{ind}:{sub}": (float(v or 0.0), unit) for ind, sub, unit, v in session.execute(q)}


def _statistic(run: AccountingRun, code: str, item: str) -> float | None:
    """A statistic of the zone as the run used it (in the item's canonical unit: m3 for the forest stock)."""
    for row in (run.run_metadata or {}).get("statistics", []):
        if row.get("item") == item and str(row.get("zone_code")) == code:
            return float(row["value"])
    return None


def _ecosystems(run: AccountingRun, code: str) -> dict[str, float]:
    path = Path(run.output_dir) / "ecosystems.csv"
    if not path.exists():
        return {}
    frame = pd.read_csv(path, dtype={"zone_code": str})
    rows = frame[frame["zone_code"] == code]
    return {str(r.ecosystem): float(r.area_km2) for r in rows.itertuples()}


def compute(session: Session, region_id: int, zone_code: str, started_on: date, ended_on: date) -> dict[str, Any]:
    """The audit as plain data."""
    if ended_on <= started_on:
        raise InputError(N_("the term must end after it starts ({start} – {end})"), start=started_on.isoformat(),
                         end=ended_on.isoformat())
    zone = regions.get_zone(session, region_id, zone_code)
    runs = regions.latest_runs(session, region_id)
    first, last = _run_at(runs, started_on, Word(N_("start"))), _run_at(runs, ended_on, Word(N_("end")))
    if first.id == last.id:
        raise InputError(N_("the term's two dates fall on the same accounts ({year}); an audit compares two years"),
                         year=first.year)
    index = (last.run_metadata or {}).get("price_index", {}).get("values", {})
    factor = rules.constant_price_factor(index, last.price_year, first.price_year)
    at_start = service.by_zone(session, first, 1.0, zone.level).get(zone_code, {})
    at_end = service.by_zone(session, last, factor, zone.level).get(zone_code, {})
    keys = sorted(set(at_start) | set(at_end), key=lambda k: (k not in ("gep",), k not in CATS, k))
    gep: list[dict[str, Any]] = [
        {"key": k, "name_zh": tenure_report.name(k, "zh"), "name_en": tenure_report.name(k, "en"),
         "start_yuan": at_start.get(k, 0.0), "end_yuan": at_end.get(k, 0.0),
         "change_yuan": at_end.get(k, 0.0) - at_start.get(k, 0.0),
         "change_pct": None if not at_start.get(k) else (at_end.get(k, 0.0) / at_start[k] - 1) * 100}
        for k in keys]
    # fell: by more than half a yuan (revaluing float accounts leaves noise far below that)
    fell = [g for g in gep if g["key"] not in ("gep", *CATS) and float(g["change_yuan"]) < -0.5]
    q0, q1 = _quantities(session, first, zone_code), _quantities(session, last, zone_code)
    quantities = [{"key": k, "unit": (q0.get(k) or q1[k])[1], "start": q0.get(k, (0.0, ""))[0],
                   "end": q1.get(k, (0.0, ""))[0]} for k in sorted(set(q0) | set(q1))]
    stock = [_statistic(first, zone_code, "forest_stock"), _statistic(last, zone_code, "forest_stock")]
    e0, e1 = _ecosystems(first, zone_code), _ecosystems(last, zone_code)
    ecosystems = [{"ecosystem": k, "start_km2": e0.get(k, 0.0), "end_km2": e1.get(k, 0.0),
                   "change_km2": e1.get(k, 0.0) - e0.get(k, 0.0)} for k in sorted(set(e0) | set(e1))]
    outline = shape(json.loads(zone.geometry)) if zone.geometry else None
    crs = regions.package_zones(regions.get_region(session, region_id)).frame.crs
    protected = []
    for a in projects.areas(session):
        g = shape(a.geometry)
        if outline is not None and g.intersects(outline):
            protected.append({"kind": a.kind, "name": a.name,
                              "area_ha": round(projects._ha(shapely.intersection(g, outline), crs), 2)})
    county = zone_code if zone.level == "county" else next(
        (z.code for z in regions.ancestors(session, region_id, zone_code) if z.level == "county"), "")
    events = compensation.events_in(session, county, started_on, ended_on) if county else []
    events += [{"kind": "registry", "date": ended_on.isoformat(), "ref": kind, "text": f"{n}", "net_fen": None}
               for kind, n in sorted(registry.events_in(session, region_id, zone_code, started_on, ended_on).items())]
    for p in session.scalars(select(ProjectCheck).where(ProjectCheck.region_id == region_id)):
        day = p.checked_at.date()
        if started_on <= day <= ended_on and (p.result.get("gep", {}).get("zone") in (zone_code, county)):
            events.append({"kind": "project", "date": day.isoformat(), "ref": p.code, "text": f"{p.name}: {p.verdict}",
                           "net_fen": None})
    paid: dict[int, int] = defaultdict(int)
    for r in session.scalars(select(RewardRound).where(RewardRound.region_id == region_id,
                                                       RewardRound.status == "approved")):
        if started_on.year <= r.year <= ended_on.year:
            for z in r.body.get("zones", []):
                if z["code"] == zone_code or (zone.level == "county" and str(z["code"]).startswith(zone_code)):
                    paid[r.year] += int(z["paid_fen"])
    events += [{"kind": "reward", "date": f"{y}-12-31", "ref": f"{y}", "text": "", "net_fen": fen}
               for y, fen in sorted(paid.items()) if fen]
    events.sort(key=lambda e: (e["date"], e["ref"]))
    return {"zone": {"code": zone.code, "name": zone.name, "level": zone.level},
            "start": {"date": started_on.isoformat(), "year": first.year, "run_id": first.id},
            "end": {"date": ended_on.isoformat(), "year": last.year, "run_id": last.id},
            "price_year": first.price_year, "gep": gep, "fell": [g["key"] for g in fell],
            "quantities": quantities, "ecosystems": ecosystems, "protected": protected, "events": events,
            "forest_stock_m3": stock if any(v is not None for v in stock) else None,
            "method": first.method}


CATS = ("material", "regulating", "cultural")


def create(session: Session, region_id: int, zone_code: str, started_on: date, ended_on: date, leader: str,
           by: Principal, synthetic: bool = False) -> TenureAudit:
    by.require(service.MANAGE)
    result = compute(session, region_id, zone_code, started_on, ended_on)
    year = now().year
    n = session.scalar(select(func.count()).select_from(TenureAudit).where(TenureAudit.code.like(f"AUD-{year}-%")))
    row = TenureAudit(code=f"AUD-{year}-{(n or 0) + 1:04d}", region_id=region_id, zone_code=zone_code,
                      leader=leader.strip()[:200], started_on=started_on, ended_on=ended_on, result=result,
                      created_by=by.user_id, created_at=now(), synthetic=synthetic)
    session.add(row)
    session.flush()
    audit(session, by, "create", "tenure_audit", row.id, code=row.code, zone=zone_code,
          term=f"{started_on.isoformat()}/{ended_on.isoformat()}")
    return row


def get(session: Session, audit_id: int) -> TenureAudit:
    row = session.get(TenureAudit, audit_id)
    if row is None:
        raise NotFound(N_("tenure audit {id} does not exist"), id=audit_id)
    return row


def audits(session: Session) -> list[TenureAudit]:
    return list(session.scalars(select(TenureAudit).order_by(TenureAudit.id.desc())))


def view(row: TenureAudit) -> dict[str, Any]:
    return {"id": row.id, "code": row.code, "region_id": row.region_id, "zone_code": row.zone_code,
            "leader": row.leader, "started_on": row.started_on.isoformat(), "ended_on": row.ended_on.isoformat(),
            "created_at": row.created_at.isoformat(), "synthetic": row.synthetic, **row.result}
