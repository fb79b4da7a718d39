"""JSON API of the rights registry. Thin: parse, call the service, shape the answer (geometry as WGS84 GeoJSON)."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.errors import N_, InputError
from gep.kit.principal import Principal
from gep.kit.web.deps import Db, Id, Label, Name, OptName, RowId, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import service as regions
from gep.regions.models import Region
from gep.registry import importer, service
from gep.registry.models import Holder, Parcel, RegistryEvent, Right

router = APIRouter(prefix="/api/registry", tags=["registry"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(needs(service.READ))]
Recorder = Annotated[Principal, Depends(needs(service.RECORD))]
Locker = Annotated[Principal, Depends(needs(service.LOCK))]
MAX_UPLOAD = 200 * 1024 * 1024
BBox = Annotated[str | None, Query(pattern=r"^-?\d+(\.\d+)?(,-?\d+(\.\d+)?){3}$",
                                   description="minlon,minlat,maxlon,maxlat")]
KindQ = Annotated[str | None, Query(max_length=30, pattern=r"^[a-z_]+$")]
YearQ = Annotated[int | None, Query(ge=1900, le=2200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GeoJsonGeometry(Body):
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class VepRequest(Body):
    geometry: GeoJsonGeometry
    year: int | None = Field(default=None, ge=1900, le=2200)


class TransferRequest(Body):
    to_holder_id: RowId
    certificate_no: Label = ""
    version: int | None = Field(default=None, ge=1, description="the right's version you read: refused if changed")
    document: OptName = ""


class LockRequest(Body):
    kind: Literal["pledge", "lease", "freeze", "trade"]
    holder: Name
    until: date | None = None
    ref: OptName = ""
    version: int | None = Field(default=None, ge=1)


class SplitRequest(Body):
    parts: list[GeoJsonGeometry] = Field(min_length=2, max_length=50)
    certificates: list[Label] = Field(min_length=1, max_length=500)
    document: OptName = ""


class MergeRequest(Body):
    parcel_ids: list[RowId] = Field(min_length=2, max_length=50)
    certificates: list[Label] = Field(min_length=1, max_length=50)
    document: OptName = ""


class HolderRequest(Body):
    region_id: RowId
    kind: Literal["person", "collective", "organisation", "state"]
    name: Name
    id_number: Annotated[str, Field(max_length=18, pattern=r"^[0-9A-Za-z]*$")] = ""
    village_code: Annotated[str, Field(max_length=40, pattern=r"^[0-9A-Za-z_.\-]*$")] = ""


class LinkRequest(Body):
    user_id: RowId


class LockOut(BaseModel):
    id: str
    kind: str
    holder: str
    until: date | None
    ref: str


class RightOut(BaseModel):
    id: int
    parcel_id: int
    type: str
    holder_id: int
    holder: str | None = Field(description="the holder's name, for callers allowed to see holders")
    holder_id_masked: str | None
    start: date | None
    end: date | None
    certificate_no: str
    active: bool
    version: int
    locks: list[LockOut]


class EventOut(BaseModel):
    id: int
    kind: str
    at: datetime
    parcel_ids: list[int]
    right_ids: list[int]
    payload: dict[str, Any]
    document: str


class ParcelOut(BaseModel):
    id: int
    region_id: int
    code: str
    kind: str
    name: str
    area_m2: float
    length_m: float
    active: bool
    county_code: str
    township_code: str
    village_code: str
    place: str = Field(description="the village, township and county names")
    attributes: dict[str, Any]
    parents: list[int]
    children: list[int]
    synthetic: bool
    geometry: dict[str, Any]
    rights: list[RightOut]


class ImportOut(BaseModel):
    batch_id: int
    parcels: int
    rights: int
    holders: int


class HolderOut(BaseModel):
    id: int
    kind: str
    name: str
    id_masked: str
    village_code: str
    user_id: int | None
    organisation_id: int | None


class LockId(BaseModel):
    lock_id: str
    right: RightOut


def _holder_out(h: Holder) -> HolderOut:
    return HolderOut(id=h.id, kind=h.kind, name=h.name, id_masked=h.id_masked, village_code=h.village_code,
                     user_id=h.user_id, organisation_id=h.organisation_id)


def rights_out(db: Session, rows: list[Right]) -> list[RightOut]:
    """Rights with their locks, and their holders' names where the caller may see them."""
    return [RightOut(**{**d, "locks": [LockOut(**k) for k in d["locks"]]}) for d in service.describe_rights(db, rows)]


def parcel_out(db: Session, p: Parcel) -> ParcelOut:
    names = regions.zone_names(db, p.region_id, [p.county_code, p.township_code, p.village_code])
    place = " · ".join(names[c] for c in (p.county_code, p.township_code, p.village_code) if c in names)
    return ParcelOut(
        place=place, id=p.id, region_id=p.region_id, code=p.code, kind=p.kind, name=p.name, area_m2=p.area_m2,
        length_m=p.length_m, active=p.active, county_code=p.county_code, township_code=p.township_code,
        village_code=p.village_code, attributes=p.attributes or {}, parents=list(p.parents or []),
        children=list(p.children or []), synthetic=p.synthetic, geometry=json.loads(p.geojson),
        rights=rights_out(db, service.rights_on(db, [p.id], active=False)))


def _to_region(region: Region, geometry: GeoJsonGeometry) -> BaseGeometry:
    """A WGS84 GeoJSON geometry in the region's CRS, valid."""
    try:
        geom = shapely.from_geojson(json.dumps(geometry.model_dump()))
    except Exception:  # shapely's GEOSException for malformed coordinates
        raise InputError(N_("the geometry is not valid GeoJSON")) from None
    if not geom.is_valid:
        raise InputError(N_("the geometry is not valid ({reason})"), reason=shapely.is_valid_reason(geom))
    return service.reproject(geom, service.WGS84, service.zone_index(region).crs)


@router.get("/regions/{region_id}/parcels")
def list_parcels(region_id: Id, caller: Reader, db: Db, bbox: BBox = None, kind: KindQ = None,
                 village: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9A-Za-z_.\-]*$")] = None,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 3000) -> dict[str, Any]:
    """Parcels as GeoJSON (WGS84), with whether any of their rights is locked; `truncated` when more exist."""
    region = regions.get_region(db, region_id)
    box = None
    if bbox:
        minlon, minlat, maxlon, maxlat = (float(v) for v in bbox.split(","))
        box = service.reproject(shapely.box(minlon, minlat, maxlon, maxlat), service.WGS84,
                                service.zone_index(region).crs).bounds
    rows = service.parcels_in(db, region_id, box, kind, village, limit=limit + 1)
    rights = service.rights_on(db, [p.id for p in rows[:limit]])
    locks = service.locks_of(db, [r.id for r in rights])
    locked = {r.parcel_id for r in rights if locks.get(r.id)}
    features = [{"type": "Feature", "geometry": json.loads(p.geojson),
                 "properties": {"id": p.id, "code": p.code, "kind": p.kind, "name": p.name, "area_m2": p.area_m2,
                                "village_code": p.village_code, "locked": p.id in locked,
                                "synthetic": p.synthetic}} for p in rows[:limit]]
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > limit}


@router.get("/parcels/{parcel_id}")
def get_parcel(parcel_id: Id, caller: Reader, db: Db) -> ParcelOut:
    return parcel_out(db, service.get_parcel(db, parcel_id))


@router.get("/parcels/{parcel_id}/history")
def parcel_history(parcel_id: Id, caller: Reader, db: Db) -> list[EventOut]:
    """Every event of the parcel and of the parcels it was split or merged from, oldest first."""
    return [_event_out(e) for e in service.history(db, parcel_id)]


def _event_out(e: RegistryEvent) -> EventOut:
    return EventOut(id=e.id, kind=e.kind, at=e.at, parcel_ids=list(e.parcel_ids or []),
                    right_ids=list(e.right_ids or []), payload=_public(e.payload or {}), document=e.document)


def _public(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in ("holder_id", "to_holder_id")}


@router.get("/parcels/{parcel_id}/vep")
def parcel_vep(parcel_id: Id, caller: Reader, db: Db, year: YearQ = None) -> dict[str, Any]:
    """The parcel's ecological value (VEP) from the region's accounts of a year (the latest by default)."""
    parcel = service.get_parcel(db, parcel_id)
    return service.value_of(db, parcel.region_id, shapely.from_wkb(parcel.geometry), year)


@router.post("/regions/{region_id}/vep")
def polygon_vep(region_id: Id, body: VepRequest, caller: Reader, db: Db) -> dict[str, Any]:
    """The ecological value (VEP) of a drawn polygon (WGS84 GeoJSON)."""
    region = regions.get_region(db, region_id)
    return service.value_of(db, region_id, _to_region(region, body.geometry), body.year)


@router.post("/regions/{region_id}/imports", status_code=201)
def import_parcels(region_id: Id, request: Request, caller: Recorder, db: Db,
                   file: Annotated[UploadFile, File(description="GeoPackage, GeoJSON or a zipped Shapefile")]
                   ) -> ImportOut:
    """Import a parcel file: every feature is checked first, and nothing is stored unless all are fine."""
    region = regions.get_region(db, region_id)
    name = Path(file.filename or "parcels").name[:200]
    if not name.lower().endswith((".gpkg", ".geojson", ".json", ".zip")):
        raise InputError(N_("{file}: send a GeoPackage (.gpkg), GeoJSON (.geojson) or zipped Shapefile (.zip)"),
                         file=name)
    folder = Path(request.app.state.settings.data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        target = Path(tmp) / ("upload" + Path(name).suffix.lower())
        size = 0
        with target.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise InputError(N_("{file} is larger than {limit} MB"), file=name, limit=MAX_UPLOAD >> 20)
                out.write(chunk)
        result = importer.import_file(db, region, target, name, caller)
        shutil.rmtree(tmp, ignore_errors=True)
    return ImportOut(batch_id=result.batch_id, parcels=result.parcels, rights=result.rights, holders=result.holders)


@router.post("/rights/{right_id}/transfer")
def transfer_right(right_id: Id, body: TransferRequest, caller: Recorder, db: Db) -> RightOut:
    """Pass a right to another holder; refused while it is locked, or if it changed since `version`."""
    right = service.transfer(db, right_id, body.to_holder_id, caller, body.certificate_no, body.version,
                             body.document)
    return rights_out(db, [right])[0]


@router.post("/rights/{right_id}/locks", status_code=201)
def lock_right(right_id: Id, body: LockRequest, caller: Locker, db: Db) -> LockId:
    """Pledge, lease, freeze or reserve a right for a trade; refused if it is locked already."""
    lock_id = service.lock(db, right_id, body.kind, body.holder, caller, body.until, body.ref,
                           caller.organisation_id, body.version)
    return LockId(lock_id=lock_id, right=rights_out(db, [service.get_right(db, right_id)])[0])


@router.delete("/rights/{right_id}/locks/{lock_id}")
def release_lock(right_id: Id, lock_id: Annotated[str, PathParam(max_length=40, pattern=r"^[0-9a-f]+$")],
                 caller: Locker, db: Db) -> RightOut:
    return rights_out(db, [service.release(db, right_id, lock_id, caller)])[0]


@router.post("/parcels/{parcel_id}/split", status_code=201)
def split_parcel(parcel_id: Id, body: SplitRequest, caller: Recorder, db: Db) -> list[ParcelOut]:
    """Split a parcel into parts (WGS84 GeoJSON) that cover it exactly; each part carries its rights on."""
    parent = service.get_parcel(db, parcel_id)
    region = regions.get_region(db, parent.region_id)
    parts = [_to_region(region, g) for g in body.parts]
    return [parcel_out(db, p) for p in service.split(db, parcel_id, parts, body.certificates, caller,
                                                     document=body.document)]


@router.post("/merges", status_code=201)
def merge_parcels(body: MergeRequest, caller: Recorder, db: Db) -> ParcelOut:
    return parcel_out(db, service.merge(db, body.parcel_ids, body.certificates, caller, document=body.document))


@router.get("/holders")
def find_holders(caller: Annotated[Principal, Depends(needs(service.HOLDERS))], db: Db,
                 region_id: Annotated[int, Query(ge=1, le=2**63 - 1)],
                 q: Annotated[str, Query(max_length=100)] = "", limit: Annotated[int, Query(ge=1, le=200)] = 50
                 ) -> list[HolderOut]:
    query = select(Holder).where(Holder.region_id == region_id)
    if q:
        query = query.where(Holder.name.contains(q) | (Holder.village_code == q))
    return [_holder_out(h) for h in db.scalars(query.order_by(Holder.id).limit(limit))]


@router.post("/holders", status_code=201)
def add_holder(body: HolderRequest, caller: Recorder, db: Db) -> HolderOut:
    regions.get_region(db, body.region_id)
    return _holder_out(service.find_or_add_holder(db, body.region_id, body.kind, body.name, body.id_number,
                                                  body.village_code))


@router.post("/holders/{holder_id}/user")
def link_user(holder_id: Id, body: LinkRequest, caller: Recorder, db: Db) -> HolderOut:
    """Let a villager's account see the rights and income of the holder it stands for."""
    return _holder_out(service.link_user(db, holder_id, body.user_id, caller))


@router.get("/me")
def my_rights(caller: Reader, db: Db) -> dict[str, Any]:
    """The caller's own holders (a villager's household, an organisation) and their rights, with parcels."""
    holders = service.my_holders(db, caller)
    rights = service.rights_of_holders(db, [h.id for h in holders])
    parcels = {p.id: p for p in (service.get_parcel(db, pid) for pid in {r.parcel_id for r in rights})}
    return {"holders": [_holder_out(h).model_dump() for h in holders],
            "rights": [r.model_dump(mode="json") for r in rights_out(db, rights)],
            "parcels": [{"id": p.id, "code": p.code, "kind": p.kind, "area_m2": p.area_m2, "region_id": p.region_id,
                         "village_code": p.village_code, "geometry": json.loads(p.geojson)} for p in parcels.values()]}

