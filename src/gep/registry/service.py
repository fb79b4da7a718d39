"""Use cases of the registry: holders, parcels and rights; transfers, locks and releases; splits and merges.

Every change is one event: the service loads the parcels and rights it touches (row-locked on PostgreSQL, so two
clerks or two banks acting on one right at once are served one after the other), lets the rules decide, writes
the event to the history and the state it leads to into the tables, and records a domain event for the others.
Other domains lock, release and transfer rights through `lock`, `release` and `transfer` only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gep.db import found
from gep.errors import N_, Conflict, InputError, NotFound, Word
from gep.kit import events
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.regions import service as regions
from gep.regions.models import Region
from gep.registry import geo, rules, vep
from gep.registry.models import Holder, Lock, Parcel, RegistryEvent, Right

WGS84 = CRS.from_epsg(4326)
READ = "registry.read"
RECORD = "registry.record"
HOLDERS = "registry.holders.read"
LOCK = "registry.lock"
CHANGED = "registry.changed"  # outbox: {"kind", "parcel_ids", "right_ids"}


# -- places -------------------------------------------------------------------------------------------------

_indexes: dict[int, tuple[Any, geo.ZoneIndex]] = {}


def zone_index(region: Region) -> geo.ZoneIndex:
    """The region's zones ready for placing parcels (kept while the region's zones are the same object)."""
    zones = regions.package_zones(region)  # cached by the regions domain while the package is unchanged
    kept = _indexes.get(region.id)
    if kept is None or kept[0] is not zones:
        frame = zones.frame
        index = geo.ZoneIndex(frame.crs, frame.geometry.to_numpy(),
                              {lv: frame[f"{lv}_code"].astype(str).tolist() for lv in zones.levels},
                              tuple(zones.levels))
        kept = _indexes[region.id] = (zones, index)
    return kept[1]


@lru_cache(maxsize=16)
def transformer(source: Any, target: Any) -> Transformer:
    """A coordinate transformer between two CRSs (made once: pyproj takes milliseconds to make one)."""
    return Transformer.from_crs(source, target, always_xy=True)


def reproject(geom: BaseGeometry, source: Any, target: Any) -> BaseGeometry:
    t = transformer(source, target)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_wgs84(geom: BaseGeometry, crs: Any) -> BaseGeometry:
    return reproject(geom, crs, WGS84)


# -- holders --------------------------------------------------------------------------------------------------

def id_digest(number: str) -> str:
    return hashlib.sha256(number.strip().upper().encode()).hexdigest() if number.strip() else ""


def find_or_add_holder(session: Session, region_id: int, kind: str, name: str, id_number: str = "",
                       village_code: str = "", user_id: int | None = None, organisation_id: int | None = None,
                       synthetic: bool = False) -> Holder:
    """The holder with this identity number (or, without one, this name and kind in this village), made if new."""
    if kind not in rules.HOLDER_KINDS:
        raise InputError(N_("holder kind {kind} is unknown; expected one of {kinds}"), kind=kind,
                         kinds=", ".join(rules.HOLDER_KINDS))
    problem = rules.id_problem(kind, id_number)
    if problem:
        raise InputError(N_("the identity number of {name} {problem}"), name=name, problem=Word(problem))
    digest = id_digest(id_number)
    q = select(Holder).where(Holder.region_id == region_id).execution_options(skip_scope=True)
    q = q.where(Holder.id_digest == digest) if digest else q.where(
        Holder.id_digest == "", Holder.kind == kind, Holder.name == name, Holder.village_code == village_code)
    holder = session.scalar(q)
    if holder is None:
        holder = Holder(region_id=region_id, kind=kind, name=name, id_digest=digest,
                        id_masked=rules.mask_id(id_number) if id_number else "", village_code=village_code,
                        user_id=user_id, organisation_id=organisation_id, synthetic=synthetic, created_at=now())
        session.add(holder)
        session.flush()
    return holder


def get_holder(session: Session, holder_id: int) -> Holder:
    return found(session, Holder, holder_id, N_("holder {id} does not exist"))


def get_holder_unscoped(session: Session, holder_id: int) -> Holder:
    """A holder whatever the caller's scope: for a service that has checked the caller deals with them."""
    holder = session.scalar(select(Holder).where(Holder.id == holder_id).execution_options(skip_scope=True))
    if holder is None:
        raise NotFound(N_("holder {id} does not exist"), id=holder_id)
    return holder


def holders_of(session: Session, ids: Iterable[int]) -> dict[int, Holder]:
    """The holders the caller may see, among these (scoped: others are simply absent)."""
    wanted = set(ids)
    return {h.id: h for h in session.scalars(select(Holder).where(Holder.id.in_(wanted)))} if wanted else {}


def link_user(session: Session, holder_id: int, user_id: int, by: Principal) -> Holder:
    """Give a villager's account the holder it stands for, so that they see their own rights and income."""
    by.require(RECORD)
    holder = session.scalar(select(Holder).where(Holder.id == holder_id).execution_options(skip_scope=True))
    if holder is None:
        raise NotFound(N_("holder {id} does not exist"), id=holder_id)
    holder.user_id = user_id
    audit(session, by, "link_user", "registry_holder", holder.id, user_id=user_id)
    return holder


# -- the state of what a change touches ------------------------------------------------------------------------

def _lock_rows(session: Session, right_ids: Iterable[int]) -> dict[int, list[Lock]]:
    out: dict[int, list[Lock]] = {}
    ids = list(right_ids)
    if ids:
        for lock in session.scalars(select(Lock).where(Lock.right_id.in_(ids)).order_by(Lock.created_at, Lock.id)):
            out.setdefault(lock.right_id, []).append(lock)
    return out


def _as_rule_right(row: Right, locks: list[Lock]) -> rules.Right:
    return rules.Right(row.id, row.parcel_id, row.type, row.holder_id, row.start, row.end, row.certificate_no,
                       tuple(rules.Lock(k.id, k.kind, k.holder, k.until, k.ref) for k in locks), row.active)


def _load(session: Session, parcel_ids: Iterable[int] = (), right_ids: Iterable[int] = ()
          ) -> tuple[rules.State, dict[int, Parcel], dict[int, Right]]:
    """The parcels and rights a change touches (and every active right on those parcels), locked for update."""
    pids, rids = set(parcel_ids), set(right_ids)
    rights: dict[int, Right] = {}
    if rids:
        for r in session.scalars(select(Right).where(Right.id.in_(rids)).order_by(Right.id).with_for_update()):
            rights[r.id] = r
            pids.add(r.parcel_id)
    parcels = {p.id: p for p in session.scalars(select(Parcel).where(Parcel.id.in_(pids)).order_by(Parcel.id)
                                                .with_for_update())} if pids else {}
    if pids:
        for r in session.scalars(select(Right).where(Right.parcel_id.in_(pids), Right.active.is_(True))
                                 .order_by(Right.id).with_for_update()):
            rights[r.id] = r
    locks = _lock_rows(session, rights)
    state = rules.State({p.id: rules.Parcel(p.id, p.kind, p.area_m2, p.active, tuple(p.parents), tuple(p.children))
                         for p in parcels.values()},
                        {r.id: _as_rule_right(r, locks.get(r.id, [])) for r in rights.values()})
    return state, parcels, rights


def _record(session: Session, region_id: int, event: rules.Event, by: Principal | None, touched: Iterable[int],
            document: str = "") -> RegistryEvent:
    """Append the event to the history, naming every parcel it touched (a right's change names its parcel)."""
    kind, payload = rules.to_record(event)
    parcel_ids = sorted(set(touched) | {v for k, v in payload.items() if k in ("parcel_id", "new_parcel_id")}
                        | set(payload.get("parcel_ids", [])) | {p for p, _ in payload.get("parts", [])})
    right_ids = sorted({payload["right_id"]} if "right_id" in payload else set()
                       | {r["right_id"] for r in payload.get("rights", [])})
    row = RegistryEvent(region_id=region_id, kind=kind, parcel_ids=parcel_ids, right_ids=right_ids, payload=payload,
                        document=document, by_user_id=by.user_id if by else None, at=now())
    session.add(row)
    session.flush()
    events.record(session, CHANGED, actor_id=by.user_id if by else None, kind=kind, parcel_ids=parcel_ids,
                  right_ids=right_ids, region_id=region_id)
    return row


def _write(session: Session, state: rules.State, parcels: dict[int, Parcel], rights: dict[int, Right],
           lock_organisation: dict[str, int | None] | None = None) -> None:
    """Make the tables say what the new state says, for what the change touched."""
    for pid, p in state.parcels.items():
        prow = parcels.get(pid) or session.get(Parcel, pid)
        if prow is not None:
            prow.active, prow.parents, prow.children = p.active, list(p.parents), list(p.children)
    for rid, r in state.rights.items():
        row = rights.get(rid) or session.get(Right, rid)
        if row is None:
            continue
        changed = (row.holder_id, row.active, row.certificate_no) != (r.holder_id, r.active, r.certificate_no)
        row.holder_id, row.active, row.certificate_no = r.holder_id, r.active, r.certificate_no
        existing = {k.id: k for k in session.scalars(select(Lock).where(Lock.right_id == rid))}
        wanted = {k.id: k for k in r.locks}
        for lock_id in set(existing) - set(wanted):
            session.delete(existing[lock_id])
        for lock_id in set(wanted) - set(existing):
            k = wanted[lock_id]
            session.add(Lock(id=k.id, right_id=rid, kind=k.kind, holder=k.holder, until=k.until, ref=k.ref,
                             holder_organisation_id=(lock_organisation or {}).get(k.id), created_at=now()))
        if changed or set(existing) != set(wanted):
            row.version = (row.version or 0) + 1
    session.flush()


def _apply(session: Session, region_id: int, state: rules.State, event: rules.Event, parcels: dict[int, Parcel],
           rights: dict[int, Right], by: Principal | None, document: str = "",
           lock_organisation: dict[str, int | None] | None = None) -> rules.State:
    new = rules.apply(state, event)
    _write(session, new, parcels, rights, lock_organisation)
    _record(session, region_id, event, by, parcels.keys(), document)
    return new


def _region_of_right(session: Session, right: Right) -> int:
    parcel = session.get(Parcel, right.parcel_id)
    if parcel is None:  # the foreign key makes this impossible
        raise NotFound(N_("parcel {id} does not exist"), id=right.parcel_id)
    return parcel.region_id


def _check_version(right: Right, expected: int | None) -> None:
    if expected is not None and right.version != expected:
        raise Conflict(N_("right {id} has changed since you read it (version {now}, you had {had}); reload and "
                          "try again"), id=right.id, now=right.version, had=expected)


# -- parcels and rights ---------------------------------------------------------------------------------------

def register_parcel(session: Session, region: Region, code: str, kind: str, geometry: BaseGeometry,
                    by: Principal, name: str = "", attributes: dict[str, Any] | None = None,
                    batch_id: int | None = None, synthetic: bool = False, index: geo.ZoneIndex | None = None) -> Parcel:
    """A new parcel (geometry in the region's CRS, checked by the importer or the caller), placed in its zones."""
    by.require(RECORD)
    index = index or zone_index(region)
    place = index.locate(geometry)
    minx, miny, maxx, maxy = geometry.bounds
    simple = geometry.simplify(2.0) if geometry.area > 0 else geometry
    row = Parcel(region_id=region.id, code=code, kind=kind, name=name, area_m2=float(geometry.area),
                 length_m=geo.length_of(geometry), active=True, geometry=shapely.to_wkb(geometry),
                 geojson=shapely.to_geojson(shapely.set_precision(to_wgs84(simple, index.crs), 1e-6)),
                 minx=minx, miny=miny, maxx=maxx, maxy=maxy, county_code=place.get("county", ""),
                 township_code=place.get("township", ""), village_code=place.get("village", ""),
                 attributes=attributes or {}, parents=[], children=[], synthetic=synthetic, batch_id=batch_id,
                 created_at=now())
    session.add(row)
    session.flush()
    state = rules.State()
    _apply(session, region.id, state, rules.ParcelRegistered(row.id, kind, row.area_m2), {row.id: row}, {}, by)
    return row


def grant(session: Session, parcel_id: int, right_type: str, holder_id: int, certificate_no: str, by: Principal,
          start: date | None = None, end: date | None = None, document: str = "") -> Right:
    """Register a right on a parcel (its first registration; later changes are transfers, locks …)."""
    by.require(RECORD)
    if session.scalar(select(Right.id).where(Right.certificate_no == certificate_no)) is not None:
        raise Conflict(N_("certificate number {no} is registered already"), no=certificate_no)
    state, parcels, rights = _load(session, parcel_ids=[parcel_id])
    if parcel_id not in parcels:
        raise NotFound(N_("parcel {id} does not exist"), id=parcel_id)
    row = Right(parcel_id=parcel_id, type=right_type, holder_id=holder_id, start=start, end=end,
                certificate_no=certificate_no, source_document=document, active=True, version=1)
    session.add(row)
    session.flush()
    rights[row.id] = row
    _apply(session, parcels[parcel_id].region_id, state, rules.RightGranted(
        row.id, parcel_id, right_type, holder_id, start, end, certificate_no), parcels, rights, by, document)
    return row


def transfer(session: Session, right_id: int, to_holder_id: int, by: Principal, certificate_no: str = "",
             expected_version: int | None = None, document: str = "", authorised: bool = False) -> Right:
    """Pass a right to another holder (refused while it is locked). `authorised`: a domain's service that has
    checked its own permission (the exchange, on settlement) transfers on its caller's behalf."""
    if not authorised:
        by.require(RECORD)
    state, parcels, rights = _load(session, right_ids=[right_id])
    right = _existing(rights, right_id)
    _check_version(right, expected_version)
    _missing_holder(session, to_holder_id)
    _apply(session, _region_of_right(session, right), state, rules.RightTransferred(right_id, to_holder_id,
                                                                                   certificate_no),
           parcels, rights, by, document)
    audit(session, by, "transfer", "registry_right", right_id, to_holder_id=to_holder_id)
    return right


def _missing_holder(session: Session, holder_id: int) -> None:
    if session.scalar(select(Holder.id).where(Holder.id == holder_id).execution_options(skip_scope=True)) is None:
        raise NotFound(N_("holder {id} does not exist"), id=holder_id)


def _existing(rights: dict[int, Right], right_id: int) -> Right:
    right = rights.get(right_id)
    if right is None:
        raise NotFound(N_("right {id} does not exist"), id=right_id)
    return right


def lock(session: Session, right_id: int, kind: str, holder: str, by: Principal, until: date | None = None,
         ref: str = "", holder_organisation_id: int | None = None, expected_version: int | None = None,
         authorised: bool = False) -> str:
    """Lock a right (pledge, lease, freeze, pending trade) for `holder` until a date; returns the lock's id.
    A locked right cannot be transferred, pledged, leased or traded again until it is released."""
    if not authorised:
        by.require(LOCK)
    state, parcels, rights = _load(session, right_ids=[right_id])
    right = _existing(rights, right_id)
    _check_version(right, expected_version)
    lock_id = uuid.uuid4().hex[:16]
    _apply(session, _region_of_right(session, right), state,
           rules.RightLocked(right_id, rules.Lock(lock_id, kind, holder, until, ref)), parcels, rights, by,
           lock_organisation={lock_id: holder_organisation_id})
    audit(session, by, "lock", "registry_right", right_id, kind=kind, holder=holder, lock=lock_id)
    return lock_id


def release(session: Session, right_id: int, lock_id: str, by: Principal, authorised: bool = False) -> Right:
    """Release one lock of a right (the pledge is repaid, the lease ends, the trade settles or fails)."""
    if not authorised:
        by.require(LOCK)
    state, parcels, rights = _load(session, right_ids=[right_id])
    right = _existing(rights, right_id)
    _apply(session, _region_of_right(session, right), state, rules.LockReleased(right_id, lock_id), parcels, rights,
           by)
    audit(session, by, "release", "registry_right", right_id, lock=lock_id)
    return right


def end_right(session: Session, right_id: int, by: Principal, reason: str = "") -> Right:
    by.require(RECORD)
    state, parcels, rights = _load(session, right_ids=[right_id])
    right = _existing(rights, right_id)
    _apply(session, _region_of_right(session, right), state, rules.RightEnded(right_id, reason), parcels, rights,
           by)
    return right


def _new_right_rows(session: Session, olds: Sequence[Right], parcel_ids: Sequence[int],
                    certificates: Sequence[str]) -> list[tuple[Right, rules.RightGranted]]:
    """Rows (and their events' description) of the rights carried onto the new parcels."""
    needed = len(olds) * len(parcel_ids)
    if len(certificates) != needed:
        raise InputError(N_("give {n} new certificate numbers: one for each right on each new parcel"), n=needed)
    taken = set(session.scalars(select(Right.certificate_no).where(Right.certificate_no.in_(certificates))))
    if taken or len(set(certificates)) != len(certificates):
        raise Conflict(N_("certificate numbers {numbers} are registered already or repeated"),
                       numbers=", ".join(sorted(taken) or certificates))
    out = []
    numbers = iter(certificates)
    for pid in parcel_ids:
        for old in olds:
            row = Right(parcel_id=pid, type=old.type, holder_id=old.holder_id, start=old.start, end=old.end,
                        certificate_no=next(numbers), source_document=old.source_document, active=True, version=1)
            session.add(row)
            session.flush()
            out.append((row, rules.RightGranted(row.id, pid, row.type, row.holder_id, row.start, row.end,
                                            row.certificate_no)))
    return out


def split(session: Session, parcel_id: int, parts: Sequence[BaseGeometry], certificates: Sequence[str],
          by: Principal, codes: Sequence[str] | None = None, document: str = "") -> list[Parcel]:
    """Split a parcel into parts that cover it exactly, without overlapping; its rights go on with each part."""
    by.require(RECORD)
    state, parcels, rights = _load(session, parcel_ids=[parcel_id])
    parent = parcels.get(parcel_id)
    if parent is None:
        raise NotFound(N_("parcel {id} does not exist"), id=parcel_id)
    if not parent.active:
        raise rules.RuleError(N_("parcel {id} does not exist or was split or merged"), id=parcel_id)
    whole = shapely.from_wkb(parent.geometry)
    union = shapely.union_all(list(parts))
    slack = max(geo.OVERLAP_M2, 1e-6 * whole.area)
    if abs(sum(p.area for p in parts) - union.area) > slack or whole.symmetric_difference(union).area > slack:
        raise InputError(N_("the parts must cover the parcel exactly, without overlapping"))
    region = regions.get_region(session, parent.region_id)
    index = zone_index(region)
    codes = list(codes or [f"{parent.code}-{i + 1}" for i in range(len(parts))])
    olds = [r for r in rights.values() if r.parcel_id == parcel_id and r.active]
    new_rows = [_parcel_row(region, parent, code, geom, index) for code, geom in zip(codes, parts, strict=True)]
    _add_parcels(session, new_rows)
    # areas as the rules see them: the parts scaled to the parcel's (float noise of the geometry, not area lost)
    scale = parent.area_m2 / sum(r.area_m2 for r in new_rows)
    for row in new_rows:
        row.area_m2 *= scale
        parcels[row.id] = row
    carried = _new_right_rows(session, olds, [r.id for r in new_rows], certificates)
    for new_right, _ in carried:
        rights[new_right.id] = new_right
    _apply(session, region.id, state, rules.ParcelSplit(parcel_id, tuple((r.id, r.area_m2) for r in new_rows),
                                                        tuple(n for _, n in carried)), parcels, rights, by, document)
    return new_rows


def merge(session: Session, parcel_ids: Sequence[int], certificates: Sequence[str], by: Principal,
          code: str | None = None, document: str = "") -> Parcel:
    """Merge parcels of one kind whose rights have the same holders into one parcel carrying those rights."""
    by.require(RECORD)
    state, parcels, rights = _load(session, parcel_ids=parcel_ids)
    missing = [pid for pid in parcel_ids if pid not in parcels]
    if missing:
        raise NotFound(N_("parcel {id} does not exist"), id=missing[0])
    first = parcels[parcel_ids[0]]
    gone = [pid for pid in parcel_ids if not parcels[pid].active]
    if gone:
        raise rules.RuleError(N_("parcel {id} does not exist or was split or merged"), id=gone[0])
    if any(parcels[pid].region_id != first.region_id for pid in parcel_ids):
        raise InputError(N_("only parcels of one region can be merged"))
    region = regions.get_region(session, first.region_id)
    geometry = shapely.union_all([shapely.from_wkb(parcels[pid].geometry) for pid in parcel_ids])
    row = _parcel_row(region, first, code or "+".join(parcels[pid].code for pid in parcel_ids)[:60], geometry,
                      zone_index(region))
    row.area_m2 = sum(parcels[pid].area_m2 for pid in parcel_ids)  # conserved exactly
    _add_parcels(session, [row])
    parcels[row.id] = row
    seen: dict[str, Right] = {}
    for r in rights.values():
        if r.parcel_id in parcel_ids and r.active:
            seen.setdefault(r.type, r)
    carried = _new_right_rows(session, list(seen.values()), [row.id], certificates)
    for new_right, _ in carried:
        rights[new_right.id] = new_right
    _apply(session, region.id, state, rules.ParcelsMerged(tuple(parcel_ids), row.id, row.area_m2,
                                                          tuple(n for _, n in carried)), parcels, rights, by,
           document)
    return row


def _add_parcels(session: Session, rows: list[Parcel]) -> None:
    """New parcels in, or a clear conflict when a code is taken (nothing half-written: a savepoint)."""
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("a parcel code among {codes} is registered already in this region"),
                       codes=", ".join(r.code for r in rows)) from None


def _parcel_row(region: Region, like: Parcel, code: str, geom: BaseGeometry, index: geo.ZoneIndex) -> Parcel:
    place = index.locate(geom)
    minx, miny, maxx, maxy = geom.bounds
    return Parcel(region_id=region.id, code=code, kind=like.kind, name=like.name, area_m2=float(geom.area),
                  length_m=geo.length_of(geom), active=True, geometry=shapely.to_wkb(geom),
                  geojson=shapely.to_geojson(shapely.set_precision(to_wgs84(geom.simplify(2.0), index.crs), 1e-6)),
                  minx=minx, miny=miny, maxx=maxx, maxy=maxy, county_code=place.get("county", ""),
                  township_code=place.get("township", ""), village_code=place.get("village", ""),
                  attributes=dict(like.attributes or {}), parents=[], children=[], synthetic=like.synthetic,
                  created_at=now())


# -- reading --------------------------------------------------------------------------------------------------

def get_parcel(session: Session, parcel_id: int) -> Parcel:
    return found(session, Parcel, parcel_id, N_("parcel {id} does not exist"))


def parcel_by_code(session: Session, region_id: int, code: str) -> Parcel | None:
    """An active parcel of the region by its code (None when there is none)."""
    return session.scalar(select(Parcel).where(Parcel.region_id == region_id, Parcel.code == code,
                                               Parcel.active.is_(True)))


def parcels_by_id(session: Session, ids: Iterable[int]) -> list[Parcel]:
    wanted = list(ids)
    return list(session.scalars(select(Parcel).where(Parcel.id.in_(wanted)))) if wanted else []


def parcels_by_code(session: Session, codes: Iterable[str]) -> dict[str, list[Parcel]]:
    """Active parcels by their code, in any region (a code may repeat across regions: all are returned)."""
    wanted = sorted({c.strip() for c in codes if c.strip()})
    out: dict[str, list[Parcel]] = {}
    if wanted:
        for p in session.scalars(select(Parcel).where(Parcel.code.in_(wanted), Parcel.active.is_(True))):
            out.setdefault(p.code, []).append(p)
    return out


def get_right(session: Session, right_id: int) -> Right:
    return found(session, Right, right_id, N_("right {id} does not exist"))


def parcels_in(session: Session, region_id: int, bbox: tuple[float, float, float, float] | None = None,
               kind: str | None = None, village: str | None = None, active: bool = True,
               limit: int = 5000) -> list[Parcel]:
    """Parcels of a region, in a box of the region's CRS, of a kind, in a village."""
    q = select(Parcel).where(Parcel.region_id == region_id)
    if active:
        q = q.where(Parcel.active.is_(True))
    if kind:
        q = q.where(Parcel.kind == kind)
    if village:
        q = q.where(Parcel.village_code == village)
    if bbox:
        minx, miny, maxx, maxy = bbox
        q = q.where(Parcel.maxx >= minx, Parcel.minx <= maxx, Parcel.maxy >= miny, Parcel.miny <= maxy)
    return list(session.scalars(q.order_by(Parcel.id).limit(limit)))


def rights_on(session: Session, parcel_ids: Iterable[int], active: bool = True) -> list[Right]:
    ids = list(parcel_ids)
    if not ids:
        return []
    q = select(Right).where(Right.parcel_id.in_(ids))
    if active:
        q = q.where(Right.active.is_(True))
    return list(session.scalars(q.order_by(Right.id)))


def locks_of(session: Session, right_ids: Iterable[int]) -> dict[int, list[Lock]]:
    return _lock_rows(session, right_ids)


def history(session: Session, parcel_id: int) -> list[RegistryEvent]:
    """Every event that touched a parcel (or the parcels it came from), oldest first."""
    lineage = {parcel_id}
    frontier = [parcel_id]
    while frontier:
        parents = set()
        for p in session.scalars(select(Parcel).where(Parcel.id.in_(frontier))):
            parents |= set(p.parents or [])
        frontier = list(parents - lineage)
        lineage |= parents
    rows = session.scalars(select(RegistryEvent).where(RegistryEvent.region_id == get_parcel(
        session, parcel_id).region_id).order_by(RegistryEvent.id))
    return [e for e in rows if lineage & set(e.parcel_ids or [])]


def rights_of_holders(session: Session, holder_ids: Iterable[int]) -> list[Right]:
    ids = list(holder_ids)
    return list(session.scalars(select(Right).where(Right.holder_id.in_(ids), Right.active.is_(True))
                                .order_by(Right.id))) if ids else []


def my_holders(session: Session, by: Principal) -> list[Holder]:
    """The holders a user stands for (a villager: their own; an organisation's member: the organisation)."""
    conds = []
    if by.user_id is not None:
        conds.append(Holder.user_id == by.user_id)
    if by.organisation_id is not None:
        conds.append(Holder.organisation_id == by.organisation_id)
    if not conds:
        return []
    return list(session.scalars(select(Holder).where(or_(*conds)).execution_options(skip_scope=True)))


def describe_rights(session: Session, rows: Sequence[Right]) -> list[dict[str, Any]]:
    """Rights as plain values with their locks, and their holders' names where the caller may see them."""
    holders = holders_of(session, {r.holder_id for r in rows})
    locks = _lock_rows(session, [r.id for r in rows])
    return [{"id": r.id, "parcel_id": r.parcel_id, "type": r.type, "holder_id": r.holder_id,
             "holder": holders[r.holder_id].name if r.holder_id in holders else None,
             "holder_id_masked": holders[r.holder_id].id_masked if r.holder_id in holders else None,
             "start": r.start, "end": r.end, "certificate_no": r.certificate_no, "active": r.active,
             "version": r.version, "locks": [{"id": k.id, "kind": k.kind, "holder": k.holder, "until": k.until,
                                              "ref": k.ref} for k in locks.get(r.id, [])]} for r in rows]


def value_surface(session: Session, region_id: int, year: int | None = None) -> vep.Surface:
    """What values polygons in a region: its accounts of a year (the latest by default)."""
    runs = regions.latest_runs(session, region_id)
    if not runs:
        raise InputError(N_("region {id} has no finished accounts yet: run the accounting first"), id=region_id)
    run = runs.get(year) if year else runs[max(runs)]
    if run is None:
        raise InputError(N_("no finished accounting for {year}; available years: {years}"), year=year,
                         years=", ".join(map(str, sorted(runs))))
    return vep.surface(run.id, run.output_dir, run.year, run.price_year, run.method)


def value_of(session: Session, region_id: int, geometry: BaseGeometry, year: int | None = None) -> dict[str, Any]:
    """The ecological value (VEP) of a geometry in the region's CRS: yuan by category, and what it rests on."""
    return vep.value(value_surface(session, region_id, year), geometry).as_dict()


def replay_state(session: Session, region_id: int) -> rules.State:
    """The state the history of a region leads to (what the tables must say)."""
    rows = session.scalars(select(RegistryEvent).where(RegistryEvent.region_id == region_id).order_by(
        RegistryEvent.id))
    return rules.replay(rules.from_record(e.kind, json.loads(json.dumps(e.payload))) for e in rows)


def projected_state(session: Session, region_id: int) -> rules.State:
    """The state the tables say (for comparison with the replay)."""
    parcels = list(session.scalars(select(Parcel).where(Parcel.region_id == region_id)))
    rights = list(session.scalars(select(Right).where(Right.parcel_id.in_([p.id for p in parcels]))))
    locks = _lock_rows(session, [r.id for r in rights])
    return rules.State({p.id: rules.Parcel(p.id, p.kind, p.area_m2, p.active, tuple(p.parents), tuple(p.children))
                        for p in parcels}, {r.id: _as_rule_right(r, locks.get(r.id, [])) for r in rights})


# -- many at once (imports, demo seeding) ---------------------------------------------------------------------

@dataclass(frozen=True)
class NewRightSpec:
    type: str
    holder_id: int
    certificate_no: str
    start: date | None = None
    end: date | None = None
    document: str = ""


@dataclass(frozen=True)
class NewParcelSpec:
    code: str
    kind: str
    geometry: BaseGeometry
    rights: tuple[NewRightSpec, ...]
    name: str = ""
    attributes: dict[str, Any] | None = None
    synthetic: bool = False


def register_many(session: Session, region: Region, specs: Sequence[NewParcelSpec], by: Principal,
                  batch_id: int | None = None, index: geo.ZoneIndex | None = None) -> list[int]:
    """Register many new parcels with their rights in a few statements (a file's thousands of features): the
    same events and the same rules as one at a time, checked on the new parcels before anything is written."""
    by.require(RECORD)
    index = index or zone_index(region)
    moment = now()
    parcel_rows = []
    for s in specs:
        place = index.locate(s.geometry)
        minx, miny, maxx, maxy = s.geometry.bounds
        simple = s.geometry.simplify(2.0) if s.geometry.area > 0 else s.geometry
        parcel_rows.append({
            "region_id": region.id, "code": s.code, "kind": s.kind, "name": s.name, "area_m2": float(s.geometry.area),
            "length_m": geo.length_of(s.geometry), "active": True, "geometry": shapely.to_wkb(s.geometry),
            "geojson": shapely.to_geojson(shapely.set_precision(to_wgs84(simple, index.crs), 1e-6)),
            "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy, "county_code": place.get("county", ""),
            "township_code": place.get("township", ""), "village_code": place.get("village", ""),
            "attributes": s.attributes or {}, "parents": [], "children": [], "synthetic": s.synthetic,
            "batch_id": batch_id, "created_at": moment})
    parcel_ids = list(session.scalars(insert(Parcel).returning(Parcel.id, sort_by_parameter_order=True),
                                      parcel_rows))
    right_rows = [{"parcel_id": pid, "type": r.type, "holder_id": r.holder_id, "start": r.start, "end": r.end,
                   "certificate_no": r.certificate_no, "source_document": r.document, "active": True, "version": 1}
                  for pid, s in zip(parcel_ids, specs, strict=True) for r in s.rights]
    right_ids = list(session.scalars(insert(Right).returning(Right.id, sort_by_parameter_order=True), right_rows)) \
        if right_rows else []
    history: list[rules.Event] = []
    rid = iter(right_ids)
    for pid, s, row in zip(parcel_ids, specs, parcel_rows, strict=True):
        history.append(rules.ParcelRegistered(pid, s.kind, row["area_m2"]))
        history.extend(rules.RightGranted(next(rid), pid, r.type, r.holder_id, r.start, r.end, r.certificate_no)
                       for r in s.rights)
    rules.replay(history)  # the rules decide before anything is committed (a refusal rolls it all back)
    event_rows = []
    for e in history:
        kind, payload = rules.to_record(e)
        right = [payload["right_id"]] if "right_id" in payload else []
        event_rows.append({"region_id": region.id, "kind": kind, "parcel_ids": [payload["parcel_id"]],
                           "right_ids": right, "payload": payload, "document": "", "by_user_id": by.user_id,
                           "at": moment})
    session.execute(insert(RegistryEvent), event_rows)
    events.record(session, CHANGED, actor_id=by.user_id, kind="bulk", parcel_ids=parcel_ids[:1000],
                  right_ids=right_ids[:1000], region_id=region.id, count=len(parcel_ids))
    return parcel_ids


def events_in(session: Session, region_id: int, zone_code: str, first: date, last: date) -> dict[str, int]:
    """How many registry events of each kind touched the parcels of a county or township between two dates
    (a tenure audit reads it)."""
    inside = set(session.scalars(select(Parcel.id).where(
        Parcel.region_id == region_id, or_(Parcel.county_code == zone_code, Parcel.township_code == zone_code))))
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(last, datetime.max.time(), tzinfo=UTC)
    counts: dict[str, int] = {}
    for kind, parcel_ids in session.execute(select(RegistryEvent.kind, RegistryEvent.parcel_ids).where(
            RegistryEvent.region_id == region_id, RegistryEvent.at >= start, RegistryEvent.at <= end)):
        if inside.intersection(parcel_ids or ()):
            counts[kind] = counts.get(kind, 0) + 1
    return counts
