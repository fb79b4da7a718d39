"""Parcel files in: GeoPackage, GeoJSON or a zipped Shapefile, one feature per parcel with its right.

The whole file is checked before anything is stored, and every problem is reported at once with the feature
(its number and parcel code) and the field: readable, the columns there, a CRS, a known kind, a valid geometry
of the right type inside the region, no overlap beyond a sliver with another parcel of the same kind (in the
file or already registered: a spatial index finds the candidates), parcel codes and certificate numbers
unique, terms consistent, holders known and their identity numbers valid. The file's digest is kept, so the
same file is not imported twice. The columns are described in docs/registry.md.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.errors import N_, Conflict, FileError, Problem, Word
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.regions.models import Region
from gep.registry import geo, rules, service
from gep.registry.models import ImportBatch, Parcel, Right

REQUIRED = ("parcel_code", "kind", "right_type", "holder_name", "holder_kind", "certificate_no")
OPTIONAL = ("name", "holder_id", "term_start", "term_end", "source_document", "annual_compensation_yuan",
            "water_volume_m3", "synthetic")
NUMBERS = ("annual_compensation_yuan", "water_volume_m3")
FEATURE = N_("feature {feature} ({code}), field {field}")
FILE = N_("the file {file}")
MAX_PROBLEMS = 200


@dataclass
class Row:
    """One checked feature: what will be registered."""

    code: str
    kind: str
    name: str
    geometry: BaseGeometry
    right_type: str
    holder_kind: str
    holder_name: str
    holder_id: str
    certificate_no: str
    start: date | None
    end: date | None
    document: str
    attributes: dict[str, Any]
    synthetic: bool


@dataclass
class Result:
    batch_id: int
    parcels: int
    rights: int
    holders: int
    problems: list[Problem] = field(default_factory=list)


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read(path: Path, filename: str) -> gpd.GeoDataFrame:
    """The features of a vector file (a .zip is read as a zipped Shapefile or GeoPackage)."""
    source = f"/vsizip/{path}" if filename.lower().endswith(".zip") else str(path)
    try:
        frame = gpd.read_file(source, engine="pyogrio")
    except Exception as exc:  # pyogrio's errors for unreadable files all mean the same to the user
        raise FileError(filename, [Problem(FILE, N_("cannot be read as GeoPackage, GeoJSON or a zipped Shapefile "
                                                     "({detail})"), file=filename, detail=str(exc)[:200])]) from None
    # a Shapefile keeps only 10 characters of a column's name: parcel_cod is parcel_code
    short = {name[:10]: name for name in (*REQUIRED, *OPTIONAL) if len(name) > 10}
    return frame.rename(columns={c: short[c] for c in frame.columns if c in short and short[c] not in frame.columns})


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _day(value: Any) -> date | None:
    text = _text(value)
    if not text:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return date.fromisoformat(text[:10])


class _Checker:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def add(self, feature: int, code: str, column: str, message: str, **params: Any) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(FEATURE, message, feature=feature, code=code or "—", field=column, **params))

    def file(self, message: str, **params: Any) -> None:
        self.problems.append(Problem(FILE, message, file=self.filename, **params))


def check(frame: gpd.GeoDataFrame, filename: str, session: Session, region: Region,
          index: geo.ZoneIndex) -> tuple[list[Row], list[Problem]]:
    """Every feature checked; the rows to register, and every problem found."""
    c = _Checker(filename)
    if len(frame) == 0:
        c.file(N_("has no features"))
        return [], c.problems
    missing = [col for col in REQUIRED if col not in frame.columns]
    if missing:
        c.file(N_("lacks the column(s) {columns}; a parcel file needs {required}"), columns=", ".join(missing),
               required=", ".join(REQUIRED))
        return [], c.problems
    if frame.crs is None:
        c.file(N_("has no coordinate reference system; save it with one (e.g. EPSG:4490 or EPSG:4326)"))
        return [], c.problems
    frame = frame.to_crs(index.crs)
    rows: list[Row] = []
    codes: dict[str, int] = {}
    certificates: dict[str, int] = {}
    for i, rec in enumerate(frame.itertuples(index=False), start=1):
        row = _check_feature(c, i, rec._asdict(), index, codes, certificates)
        if row is not None:
            rows.append(row)
    _check_registered(c, session, region, rows, codes, certificates)
    _check_overlaps(c, session, region, rows, codes)
    return rows, c.problems


def _check_feature(c: _Checker, i: int, rec: dict[str, Any], index: geo.ZoneIndex, codes: dict[str, int],
                   certificates: dict[str, int]) -> Row | None:
    code = _text(rec.get("parcel_code"))
    ok = True

    def bad(column: str, message: str, **params: Any) -> None:
        nonlocal ok
        ok = False
        c.add(i, code, column, message, **params)

    if not code:
        bad("parcel_code", N_("is empty: every parcel needs its code"))
    elif code in codes:
        bad("parcel_code", N_("repeats feature {other}'s code"), other=codes[code])
    else:
        codes[code] = i
    kind = _text(rec.get("kind"))
    if kind not in rules.KINDS:
        bad("kind", N_("{value} is not a parcel kind; expected one of {kinds}"), value=repr(kind),
            kinds=", ".join(rules.KINDS))
    geom = rec.get("geometry")
    if geom is None or geom.is_empty:
        bad("geometry", N_("is empty"))
    else:
        reason = geo.validity(geom)
        if reason:
            bad("geometry", N_("is not valid ({reason}); repair it in a GIS (e.g. 'make valid')"), reason=reason)
        elif kind in rules.KINDS and geom.geom_type not in rules.KINDS[kind].geometries:
            bad("geometry", N_("is a {type}; a parcel of this kind is a {expected}"), type=geom.geom_type,
                expected=" / ".join(sorted(rules.KINDS[kind].geometries)))
        elif not index.inside(geom):
            bad("geometry", N_("lies (partly) outside the region"))
    right_type = _text(rec.get("right_type"))
    if right_type not in rules.RIGHT_TYPES:
        bad("right_type", N_("{value} is not a right type; expected one of {types}"), value=repr(right_type),
            types=", ".join(rules.RIGHT_TYPES))
    elif kind in rules.KINDS and right_type not in rules.KINDS[kind].rights:
        bad("right_type", N_("a parcel of kind {kind} cannot carry this right: {type}"),
            kind=Word(rules.KINDS[kind].label), type=Word(rules.RIGHT_TYPES[right_type]))
    holder_kind = _text(rec.get("holder_kind"))
    if holder_kind not in rules.HOLDER_KINDS:
        bad("holder_kind", N_("{value} is not a kind of holder; expected one of {kinds}"), value=repr(holder_kind),
            kinds=", ".join(rules.HOLDER_KINDS))
    holder_name = _text(rec.get("holder_name"))
    if not holder_name:
        bad("holder_name", N_("is empty: every right needs its holder"))
    holder_id = _text(rec.get("holder_id"))
    problem = rules.id_problem(holder_kind, holder_id) if holder_kind in rules.HOLDER_KINDS else None
    if problem:
        bad("holder_id", problem)
    cert = _text(rec.get("certificate_no"))
    if not cert:
        bad("certificate_no", N_("is empty: every right needs its certificate number"))
    elif cert in certificates:
        bad("certificate_no", N_("repeats feature {other}'s certificate number"), other=certificates[cert])
    else:
        certificates[cert] = i
    start = end = None
    for column in ("term_start", "term_end"):
        try:
            value = _day(rec.get(column))
        except ValueError:
            bad(column, N_("{value} is not a date (YYYY-MM-DD)"), value=repr(_text(rec.get(column))))
            continue
        if column == "term_start":
            start = value
        else:
            end = value
    if ok and right_type in rules.RIGHT_TYPES:
        term = rules.check_term(start, end, right_type)
        if term:
            bad("term_end", term, type=Word(rules.RIGHT_TYPES[right_type]), start=str(start), end=str(end))
    attributes: dict[str, Any] = {}
    for column in NUMBERS:
        text = _text(rec.get(column))
        if not text:
            continue
        try:
            number = float(text)
        except ValueError:
            bad(column, N_("{value} is not a number"), value=repr(text))
            continue
        if not math.isfinite(number) or number < 0:
            bad(column, N_("must be a number of at least 0, got {value}"), value=text)
        else:
            attributes[column] = number
    if not ok:
        return None
    return Row(code, kind, _text(rec.get("name"))[:200], geom, right_type, holder_kind, holder_name[:200], holder_id,
               cert, start, end, _text(rec.get("source_document"))[:300], attributes,
               _text(rec.get("synthetic")).lower() in ("1", "true", "yes"))


def _check_registered(c: _Checker, session: Session, region: Region, rows: list[Row], codes: dict[str, int],
                      certificates: dict[str, int]) -> None:
    for chunk in _chunks([r.code for r in rows], 500):
        for code in session.scalars(select(Parcel.code).where(Parcel.region_id == region.id, Parcel.code.in_(chunk))):
            c.add(codes[code], code, "parcel_code", N_("is registered already in this region"))
    for chunk in _chunks([r.certificate_no for r in rows], 500):
        for cert in session.scalars(select(Right.certificate_no).where(Right.certificate_no.in_(chunk))):
            code = next((r.code for r in rows if r.certificate_no == cert), "")
            c.add(certificates[cert], code, "certificate_no", N_("{value} is registered already"), value=cert)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _check_overlaps(c: _Checker, session: Session, region: Region, rows: list[Row], codes: dict[str, int]) -> None:
    """Overlaps of more than a sliver between parcels of one kind: among the file's, and with the registered."""
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.geometry.area > 0:
            by_kind[r.kind].append(r)
    for kind, group in by_kind.items():
        geoms = [r.geometry for r in group]
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for a, b in zip(left, right, strict=True):
            if a < b:
                area = geo.overlap_too_large(geoms[a], geoms[b])
                if area:
                    c.add(codes[group[b].code], group[b].code, "geometry",
                          N_("overlaps feature {other} ({other_code}) by {area} m²"), other=codes[group[a].code],
                          other_code=group[a].code, area=f"{area:.0f}")
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        registered = service.parcels_in(session, region.id, (minx, miny, maxx, maxy), kind=kind, limit=1_000_000)
        if not registered:
            continue
        old = [shapely.from_wkb(p.geometry) for p in registered]
        tree_old = shapely.STRtree(old)
        new_i, old_i = tree_old.query(geoms, predicate="intersects")
        for a, b in zip(new_i, old_i, strict=True):
            area = geo.overlap_too_large(geoms[a], old[b])
            if area:
                c.add(codes[group[a].code], group[a].code, "geometry",
                      N_("overlaps the registered parcel {other_code} by {area} m²"), other_code=registered[b].code,
                      area=f"{area:.0f}")


def import_file(session: Session, region: Region, path: Path, filename: str, by: Principal) -> Result:
    """Check a parcel file and, if every feature is fine, register all of it in the caller's transaction."""
    by.require(service.RECORD)
    file_digest = digest(path)
    done = session.scalar(select(ImportBatch).where(ImportBatch.region_id == region.id,
                                                    ImportBatch.digest == file_digest))
    if done is not None:
        raise Conflict(N_("this file was imported already (batch {id}, {parcels} parcels, {at})"), id=done.id,
                       parcels=done.parcels, at=done.at.strftime("%Y-%m-%d %H:%M"))
    index = service.zone_index(region)
    rows, problems = check(read(path, filename), filename, session, region, index)
    if problems:
        raise FileError(filename, problems)
    batch = ImportBatch(region_id=region.id, filename=filename[:300], digest=file_digest, parcels=len(rows),
                        by_user_id=by.user_id, at=now())
    session.add(batch)
    session.flush()
    holders: dict[tuple[str, str, str], int] = {}
    specs = []
    for r in rows:
        village = index.locate(r.geometry).get("village", "")
        key = (r.holder_kind, r.holder_name, r.holder_id or village)
        if key not in holders:
            holders[key] = service.find_or_add_holder(session, region.id, r.holder_kind, r.holder_name, r.holder_id,
                                                      village, synthetic=r.synthetic).id
        specs.append(service.NewParcelSpec(r.code, r.kind, r.geometry, (service.NewRightSpec(
            r.right_type, holders[key], r.certificate_no, r.start, r.end, r.document),), r.name, r.attributes,
            r.synthetic))
    service.register_many(session, region, specs, by, batch.id, index)
    audit(session, by, "import", "registry_parcels", batch.id, file=filename, parcels=len(rows))
    return Result(batch.id, len(rows), len(rows), len(holders))
