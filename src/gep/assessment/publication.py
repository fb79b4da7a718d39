"""Public release (常态化发布): an analyst publishes an accounting run; the public portal (no login) shows only
published runs — GEP at every level with the map, the reports, the method and every parameter with its source —
beside the published assessment. A run is published once; withdrawing it takes it off the portal (and is kept on
record)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.assessment.models import Publication
from gep.db import add_once
from gep.errors import N_, Conflict, NotFound
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.regions import service as regions
from gep.regions.models import AccountingRun

PUBLISH = "assessment.publish"  # publish accounting runs on the public portal


def publish(session: Session, run_id: int, by: Principal, note: str = "") -> Publication:
    by.require(PUBLISH)
    run = regions.published_run(session, run_id)
    if run.status != "succeeded":
        raise Conflict(N_("run {id} has not succeeded; only finished accounts are published"), id=run_id)

    def make() -> Publication:
        return Publication(run_id=run.id, region_id=run.region_id, year=run.year, published_at=now(),
                           published_by=by.user_id, note=note[:2000])

    row, added = add_once(session, Publication, {"run_id": run.id}, make)
    if not added and row.withdrawn_at is None:
        raise Conflict(N_("run {id} is published already"), id=run_id)
    if not added:  # published again after a withdrawal
        row.withdrawn_at, row.published_at, row.published_by = None, now(), by.user_id
    audit(session, by, "publish", "accounting_run", run.id, year=run.year, note=note[:200])
    return row


def withdraw(session: Session, run_id: int, by: Principal, reason: str) -> Publication:
    by.require(PUBLISH)
    row = session.scalar(select(Publication).where(Publication.run_id == run_id, Publication.withdrawn_at.is_(None)))
    if row is None:
        raise NotFound(N_("run {id} is not published"), id=run_id)
    row.withdrawn_at = now()
    audit(session, by, "withdraw", "accounting_run", run_id, reason=reason[:500])
    return row


def published(session: Session) -> list[tuple[Publication, AccountingRun]]:
    """The published runs, newest year first (a withdrawn run is not among them)."""
    rows = session.execute(select(Publication, AccountingRun)
                           .join(AccountingRun, AccountingRun.id == Publication.run_id)
                           .where(Publication.withdrawn_at.is_(None), AccountingRun.status == "succeeded")
                           .order_by(Publication.year.desc(), Publication.id.desc())
                           .execution_options(skip_scope=True)).all()
    return [(p, r) for p, r in rows]


def public_run(session: Session, run_id: int) -> AccountingRun:
    """A published run, or not found (a draft, a withdrawn or an unknown run look the same from outside)."""
    for _p, run in published(session):
        if run.id == run_id:
            return run
    raise NotFound(N_("accounting run {id} is not published"), id=run_id)


def levels_view(session: Session, run: AccountingRun, level: str | None, parent: str | None) -> dict[str, Any]:
    """GEP by category of the zones of a level (under a parent), with each zone's children level for drilling."""
    region = regions.get_region(session, run.region_id)
    levels = list(region.levels)
    level = level if level in levels else levels[0]
    zs = regions.zones(session, run.region_id, level, parent)
    values = regions.zone_values(session, run, level, codes=[z.code for z in zs])
    below = levels[levels.index(level) + 1] if levels.index(level) + 1 < len(levels) else None
    zs = sorted(zs, key=lambda z: -values.get(z.code, {}).get("gep", 0.0))
    rows = [{"code": z.code, "name": z.name, "area_km2": z.area_km2, **values.get(z.code, {}),
             "per_km2": (values.get(z.code, {}).get("gep", 0.0) / z.area_km2) if z.area_km2 else None}
            for z in zs]
    crumbs = regions.ancestors(session, run.region_id, parent) if parent else []
    return {"region": region, "level": level, "below": below, "parent": parent, "rows": rows,
            "crumbs": crumbs, "levels": levels}


def parameters(run: AccountingRun) -> list[dict[str, Any]]:
    """Every parameter of the run's method with its value, unit, year, source and whether it is verified."""
    path = Path(run.output_dir) / "metadata.json"
    if not path.exists():
        return []
    meta = json.loads(path.read_text(encoding="utf-8"))
    return list(meta.get("parameters", []))
