"""GEP in projects and plans (进项目、进决策): the areas the negative list names are imported as outlines; a
proposed project (an outline, its industry, and the ecosystem change it brings) is checked before approval — the
negative list's verdict with the rule and the areas it touches, and its GEP change by indicator, valued as a
damage is (the base year's value density of the changed pixels against the county's mean density of the new
ecosystem) — and the check is kept with the project's file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import mapping, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gep.assessment import negative_list, service
from gep.assessment.models import ProjectCheck, ProtectedArea
from gep.compensation import service as compensation
from gep.errors import N_, FileError, InputError, NotFound, Problem
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.regions import service as regions

MAX_AREAS = 5_000


def _wgs84(raw: Any, what: str) -> Any:
    try:
        geom = shape(raw)
    except Exception:
        raise InputError(N_("{what} is not a GeoJSON polygon"), what=what) from None
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(N_("{what} is not a GeoJSON polygon"), what=what)
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError(N_("{what}: the coordinates are not longitude and latitude (WGS84)"), what=what)
    return geom if geom.is_valid else shapely.make_valid(geom)


def _ha(geom: Any, crs: Any) -> float:
    return float(gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(crs).iloc[0].area) / 1e4


def import_areas(session: Session, collection: dict[str, Any], region_id: int, by: Principal, filename: str = "api",
                 synthetic: bool = False) -> list[ProtectedArea]:
    """A GeoJSON FeatureCollection of areas (properties: kind, name, source); every feature checked, all stored
    or none."""
    by.require(service.MANAGE)
    nl = negative_list.load()
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list) or not features:
        raise FileError(filename, [Problem(N_("features"), N_("no features: expected a GeoJSON FeatureCollection"))])
    if len(features) > MAX_AREAS:
        raise FileError(filename, [Problem(N_("features"), N_("at most {n} areas in one file"), n=MAX_AREAS)])
    crs = regions.package_zones(regions.get_region(session, region_id)).frame.crs
    problems: list[Problem] = []
    rows: list[ProtectedArea] = []
    for k, f in enumerate(features, start=1):
        props = (f or {}).get("properties") or {}
        kind, name = str(props.get("kind", "")), str(props.get("name", "")).strip()
        before = len(problems)
        if kind not in nl.kinds:
            problems.append(Problem(N_("feature {n}, {field}"), N_("{value} is not an area kind; expected one of "
                                                                    "{expected}"), n=k, field="kind",
                                    value=repr(kind), expected=", ".join(nl.kinds)))
        if not name:
            problems.append(Problem(N_("feature {n}, {field}"), N_("a name is needed"), n=k, field="name"))
        try:
            geom = _wgs84((f or {}).get("geometry"), f"feature {k}")
        except InputError as exc:
            problems.append(Problem(N_("feature {n}, {field}"), exc.template, n=k, field="geometry", **exc.params))
            continue
        if len(problems) == before:
            rows.append(ProtectedArea(kind=kind, name=name[:200], geometry=mapping(geom), area_ha=_ha(geom, crs),
                                      source=str(props.get("source", ""))[:2000], imported_by=by.user_id,
                                      imported_at=now(), synthetic=synthetic))
    if problems:
        raise FileError(filename, problems)
    session.add_all(rows)
    session.flush()
    audit(session, by, "import", "assessment_area", ",".join(str(r.id) for r in rows[:20]), file=filename[:200],
          count=len(rows))
    return rows


def areas(session: Session) -> list[ProtectedArea]:
    return list(session.scalars(select(ProtectedArea).order_by(ProtectedArea.kind, ProtectedArea.name)))


@dataclass(frozen=True)
class ProjectRequest:
    name: str
    industry: str
    region_id: int
    geometry: dict[str, Any]  # GeoJSON, WGS84
    from_ecosystem: str
    to_ecosystem: str
    proponent: str = ""
    year: int | None = None  # the base year's accounts (default: the newest)


def evaluate(session: Session, req: ProjectRequest) -> dict[str, Any]:
    """The check as plain data: the areas touched (with the overlap), the verdict and its rule, the GEP change."""
    nl = negative_list.load()
    geom = _wgs84(req.geometry, "the project's outline")
    region = regions.get_region(session, req.region_id)
    crs = regions.package_zones(region).frame.crs
    touched = []
    for a in areas(session):
        outline = shape(a.geometry)
        if outline.intersects(geom):
            overlap = _ha(outline.intersection(geom), crs)
            if overlap > 0:
                touched.append({"id": a.id, "kind": a.kind, "name": a.name, "overlap_ha": round(overlap, 2),
                                "kind_zh": nl.kinds[a.kind][0], "kind_en": nl.kinds[a.kind][1]})
    v = negative_list.verdict(nl, req.industry, [str(t["kind"]) for t in touched])
    change = compensation.value_land_change(session, req.region_id, mapping(geom), req.from_ecosystem,
                                            req.to_ecosystem, req.name, req.year)
    gep = {"accounts_year": change["accounts_year"], "price_year": change["price_year"],
           "changed_ha": change["changed_ha"], "area_ha": change["area_ha"],
           "zone": change["reference_zone"], "zone_name": change["reference_zone_name"],
           "change_yuan": -change["yearly_loss_yuan"],
           "categories": [{"category": c["category"], "before_yuan": c["before_yuan"], "after_yuan": c["after_yuan"],
                           "change_yuan": -c["loss_yuan"]} for c in change["categories"]],
           "indicators": [{"band": i["band"], "name_zh": i["name_zh"], "name_en": i["name_en"],
                           "before_yuan": i["before_yuan"], "after_yuan": i["after_yuan"],
                           "change_yuan": -i["loss_yuan"]} for i in change["indicators"]
                          if abs(i["before_yuan"]) + abs(i["after_yuan"]) > 0]}
    industry = nl.industries.get(req.industry) or next(
        (nl.industries[c] for c in sorted(nl.industries, key=len, reverse=True) if req.industry.startswith(c)),
        (req.industry, req.industry))
    return {"decision": v.as_dict(), "areas": touched, "gep": gep, "list_version": nl.version,
            "industry_name": {"zh": industry[0], "en": industry[1]}}


def check(session: Session, req: ProjectRequest, by: Principal, synthetic: bool = False) -> ProjectCheck:
    """Check a project and keep the check (PRJ-YYYY-NNNN) with what it found."""
    by.require(service.MANAGE)
    result = evaluate(session, req)
    year = now().year
    n = session.scalar(select(func.count()).select_from(ProjectCheck).where(ProjectCheck.code.like(f"PRJ-{year}-%")))
    v = result["decision"]
    row = ProjectCheck(code=f"PRJ-{year}-{(n or 0) + 1:04d}", name=req.name.strip()[:200],
                       proponent=req.proponent.strip()[:200], industry=req.industry, region_id=req.region_id,
                       geometry=req.geometry, from_ecosystem=req.from_ecosystem, to_ecosystem=req.to_ecosystem,
                       verdict=v["verdict"], rule_id=v["rule"]["id"] if v["rule"] else "",
                       list_version=result["list_version"], result=result,
                       gep_change_yuan=result["gep"]["change_yuan"], checked_by=by.user_id, checked_at=now(),
                       synthetic=synthetic)
    session.add(row)
    session.flush()
    audit(session, by, "check", "assessment_project", row.id, code=row.code, verdict=row.verdict,
          rule=row.rule_id, gep_change_yuan=round(row.gep_change_yuan or 0.0, 2))
    return row


def projects(session: Session) -> list[ProjectCheck]:
    return list(session.scalars(select(ProjectCheck).order_by(ProjectCheck.id.desc())))


def get_project(session: Session, project_id: int) -> ProjectCheck:
    row = session.get(ProjectCheck, project_id)
    if row is None:
        raise NotFound(N_("project check {id} does not exist"), id=project_id)
    return row


def project_view(row: ProjectCheck) -> dict[str, Any]:
    return {**row.result, "id": row.id, "code": row.code, "name": row.name, "proponent": row.proponent,
            "industry": row.industry,
            "region_id": row.region_id, "geometry": row.geometry, "from_ecosystem": row.from_ecosystem,
            "to_ecosystem": row.to_ecosystem, "verdict": row.verdict, "rule_id": row.rule_id,
            "checked_at": row.checked_at.isoformat(), "synthetic": row.synthetic}


def area_view(a: ProtectedArea) -> dict[str, Any]:
    return {"id": a.id, "kind": a.kind, "name": a.name, "area_ha": round(a.area_ha, 2), "source": a.source,
            "synthetic": a.synthetic, "geometry": a.geometry}
