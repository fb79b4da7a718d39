"""The JSON API of monitoring: stations with their latest values, a station's series with its limits and gaps,
readings from a CSV file or a logger's JSON (all or nothing; the same readings again store nothing), alerts and
their handling, yearly rasters ingested for a region, land-cover change reports with their map, and patrol
reports with photos."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from gep.errors import N_, InputError, NotFound, PermissionDenied
from gep.kit.audit import aware, now
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Code, Db, Id, LongText, Name, RowId, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.monitoring import rules, service
from gep.monitoring.models import Alert, PatrolReport, Station
from gep.regions import service as regions

router = APIRouter(prefix="/api/monitoring", tags=["monitoring"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(needs(service.READ))]
Importer = Annotated[Principal, Depends(needs(service.IMPORT))]
Handler = Annotated[Principal, Depends(needs(service.HANDLE))]
Ranger = Annotated[Principal, Depends(needs(service.PATROL))]
MAX_CSV = 256 * 1024 * 1024  # a year of hourly readings of 200 stations is about 90 MB
MAX_RASTER = 4 * 1024 * 1024 * 1024
MAX_LOGGER_ROWS = 50_000
Text40 = Annotated[str, Field(max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StationRequest(Strict):
    code: Code
    name: Name
    kind: Code
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    county_code: Annotated[str, Field(max_length=40)] = ""
    thresholds: dict[Text40, dict[Text40, float]] = Field(default_factory=dict, max_length=20)
    section_code: Annotated[str, Field(max_length=40)] = ""


class ReadingRow(Strict):
    station: Text40
    time: Text40
    parameter: Text40
    value: Text40
    unit: Text40


class ReadingsRequest(Strict):
    rows: list[ReadingRow] = Field(min_length=1, max_length=MAX_LOGGER_ROWS)


class AlertRequest(Strict):
    state: Annotated[str, Field(pattern=r"^(acknowledged|closed)$")]
    note: LongText = ""


class CreditRequest(Strict):
    organisation_id: RowId | None = None
    village_code: Annotated[str, Field(max_length=40)] = ""
    name: Annotated[str, Field(max_length=200)] = ""
    indicator: Annotated[str, Field(pattern=r"^(N01|N02|N05|N08|)$")] = ""
    note: LongText = ""


class ChangeRequest(Strict):
    region_id: RowId
    year_from: int = Field(ge=1900, le=2200)
    year_to: int = Field(ge=1900, le=2200)
    level: Code = "township"


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


def station_view(s: Station, last: dict[tuple[int, str], tuple[datetime, float, int]],
                 open_alerts: dict[int, int]) -> dict[str, Any]:
    kind = rules.config().kinds[s.kind]
    values, beyond, newest = [], False, None
    for p in kind.parameters.values():
        got = last.get((s.id, p.code))
        if got is None:
            continue
        at, value, flag = got
        limit, limit_min = service.limits(s, p)
        over = (limit is not None and value > limit) or (limit_min is not None and value < limit_min)
        beyond = beyond or over
        newest = at if newest is None or at > newest else newest
        values.append({"parameter": p.code, "value": value, "unit": p.unit, "at": at.isoformat(), "beyond": over,
                       "flagged": bool(flag)})
    stale = newest is None or now() - newest > timedelta(minutes=3 * kind.interval_minutes)
    status = "no_data" if newest is None else "beyond" if beyond else "stale" if stale else "ok"
    return {"id": s.id, "code": s.code, "name": s.name, "kind": s.kind, "lon": s.lon, "lat": s.lat,
            "county_code": s.county_code, "thresholds": s.thresholds, "section_code": s.section_code,
            "synthetic": s.synthetic, "latest": values,
            "status": status, "open_alerts": open_alerts.get(s.id, 0)}


def alert_view(a: Alert, gettext: Any, lang: str = "zh") -> dict[str, Any]:
    params = dict(a.params or {})
    if lang == "en":  # the English names where the alert kept both
        params = {**params, **{k[:-3]: v for k, v in params.items() if k.endswith("_en")}}
    dept = rules.config().departments.get(a.department, {})
    return {"id": a.id, "kind": a.kind, "department": a.department, "department_zh": dept.get("name_zh", ""),
            "department_en": dept.get("name_en", ""), "county_code": a.county_code, "zone_code": a.zone_code,
            "station_id": a.station_id, "text": _fill(gettext(a.title), params), "state": a.state, "note": a.note,
            "credit": list((a.params or {}).get("credit", [])), "started_at": aware(a.started_at).isoformat(),
            "ended_at": aware(a.ended_at).isoformat() if a.ended_at else None, "synthetic": a.synthetic}


def _fill(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def _gettext(request: Request) -> Any:
    return request.app.state.platform.catalogues.gettext(lang_of(request))


@router.get("/stations", summary="Stations with their latest values and open alerts")
def list_stations(db: Db, caller: Reader) -> list[dict[str, Any]]:
    last = service.latest(db)
    open_alerts: dict[int, int] = {}
    for a in service.alerts(db, "open"):
        if a.station_id is not None:
            open_alerts[a.station_id] = open_alerts.get(a.station_id, 0) + 1
    return [station_view(s, last, open_alerts) for s in service.stations(db)]


@router.post("/stations", status_code=201, summary="Add a station")
def add_station(body: StationRequest, db: Db, caller: Importer) -> dict[str, Any]:
    s = service.add_station(db, body.code, body.name, body.kind, body.lon, body.lat, caller, body.county_code,
                            body.thresholds, section_code=body.section_code)
    return station_view(s, {}, {})


@router.get("/stations/{station_id}", summary="A station's series of one parameter, its limits and its gaps")
def station(station_id: Id, db: Db, caller: Reader, parameter: Annotated[str, Query(max_length=20)] = "",
            days: Annotated[int, Query(ge=1, le=3660)] = 60) -> dict[str, Any]:
    s = service.get_station(db, station_id)
    kind = rules.config().kinds[s.kind]
    code = parameter or next(iter(kind.parameters))
    p = kind.parameters.get(code)
    if p is None:
        raise InputError(N_("{value} is not measured at a station of this kind (expected {expected})"), value=code,
                         expected=", ".join(kind.parameters))
    last = service.series(db, s.id, code, limit=1)
    end = last["at"].iloc[-1].to_pydatetime() if len(last) else now()
    frame = service.series(db, s.id, code, end - timedelta(days=days), end, limit=days * 24 * 60 // max(
        1, kind.interval_minutes) + 10)
    limit, limit_min = service.limits(s, p)
    gaps = [{"from": a.isoformat(), "to": b.isoformat(), "missing": n}
            for a, b, n in rules.gaps(frame["at"], kind.interval_minutes)] if len(frame) else []
    return {"station": station_view(s, service.latest(db), {}), "parameter": code, "unit": p.unit,
            "name_zh": p.name_zh, "name_en": p.name_en, "limit": limit, "limit_min": limit_min,
            "times": [t.isoformat() for t in frame["at"]], "values": frame["value"].round(6).tolist(),
            "flags": frame["flag"].astype(int).tolist(), "gaps": gaps, "days": days,
            "parameters": [{"code": c, "name_zh": x.name_zh, "name_en": x.name_en} for c, x in kind.parameters.items()]}


def _result(r: service.ImportResult) -> dict[str, Any]:
    return {"id": r.id, "rows": r.rows, "stored": r.stored, "skipped": r.skipped, "flagged": r.flagged,
            "gaps": r.gaps[:50], "gap_count": r.gap_count, "alerts": r.alerts}


@router.post("/readings/import", summary="Readings from a CSV file: station, time, parameter, value, unit")
def import_file(db: Db, caller: Importer,
                file: Annotated[UploadFile, File(description="CSV UTF-8: station, time (Beijing time unless an offset "
                                                             "is given), parameter, value, unit")]) -> dict[str, Any]:
    name = (file.filename or "readings.csv")[:200]
    data = file.file.read(MAX_CSV + 1)
    if len(data) > MAX_CSV:
        raise InputError(N_("{file} is larger than {mb} MB"), file=name, mb=MAX_CSV // (1024 * 1024))
    return _result(service.import_readings(db, service.read_csv(data, name), caller, name, data))


@router.post("/readings", summary="Readings from a logger (JSON rows; the same rows again store nothing)")
def post_readings(body: ReadingsRequest, db: Db, caller: Importer) -> dict[str, Any]:
    frame = pd.DataFrame([r.model_dump() for r in body.rows], columns=list(rules.COLUMNS))
    return _result(service.import_readings(db, frame, caller, "api", first_row=1))


@router.get("/alerts", summary="Alerts, newest first")
def list_alerts(request: Request, db: Db, caller: Reader,
                state: Annotated[str, Query(pattern=r"^(open|acknowledged|closed|)$")] = "") -> list[dict[str, Any]]:
    t = _gettext(request)
    return [alert_view(a, t, lang_of(request)) for a in service.alerts(db, state or None)]


@router.post("/alerts/{alert_id}", summary="Acknowledge or close an alert (closing says what was done)")
def handle(alert_id: Id, body: AlertRequest, request: Request, db: Db, caller: Handler) -> dict[str, Any]:
    return alert_view(service.handle_alert(db, alert_id, body.state, body.note, caller), _gettext(request),
                      lang_of(request))


@router.post("/alerts/{alert_id}/credit", summary="Attribute an alert's violation to an enterprise or a village: "
             "a pending event for ecological credit to review")
def credit(alert_id: Id, body: CreditRequest, request: Request, db: Db, caller: Handler) -> dict[str, Any]:
    row = service.raise_credit(db, alert_id, caller, body.organisation_id, body.village_code, body.name,
                               body.indicator, body.note)
    return alert_view(row, _gettext(request), lang_of(request))


@router.post("/rasters", status_code=201, summary="Ingest a yearly raster for a region (checked on its grid)")
def ingest(request: Request, db: Db, caller: Importer, region_id: Annotated[int, Form(ge=1, le=2**31)],
           layer: Annotated[str, Form(max_length=40)], year: Annotated[int, Form(ge=1900, le=2200)],
           file: Annotated[UploadFile, File(description="GeoTIFF on the region's grid")],
           source: Annotated[str, Form(max_length=300)] = "") -> dict[str, Any]:
    name = Path(file.filename or "raster.tif").name[:200]
    folder = _data_dir(request) / "monitoring" / "incoming"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tif")
    try:
        with os.fdopen(fd, "wb") as out:
            copied = 0
            while chunk := file.file.read(1 << 20):
                copied += len(chunk)
                if copied > MAX_RASTER:
                    raise InputError(N_("{file} is larger than {mb} MB"), file=name, mb=MAX_RASTER // (1 << 20))
                out.write(chunk)
        row = service.ingest_raster(db, region_id, layer, year, Path(tmp), name, caller, _data_dir(request), source)
    finally:
        os.unlink(tmp)
    return {"id": row.id, "region_id": row.region_id, "layer": row.layer, "year": row.year, "digest": row.digest}


@router.get("/rasters", summary="Yearly rasters ingested")
def list_rasters(db: Db, caller: Reader, region_id: Annotated[int | None, Query(ge=1, le=2**31)] = None
                 ) -> list[dict[str, Any]]:
    return [{"id": r.id, "region_id": r.region_id, "layer": r.layer, "year": r.year, "digest": r.digest,
             "source": r.source, "synthetic": r.synthetic, "at": aware(r.at).isoformat()}
            for r in service.rasters(db, region_id)]


def change_view(db: Db, row: Any, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id, "region_id": row.region_id, "level": row.level, "year_from": row.year_from,
                           "year_to": row.year_to, "bounds": row.bounds, "synthetic": row.synthetic,
                           "at": aware(row.at).isoformat()}
    if full:
        names = regions.zone_names(db, row.region_id, sorted({x["zone"] for x in row.losses}))
        thresholds = rules.config().change
        out["losses"] = [{**x, "name": names.get(x["zone"], x["zone"]),
                          "alert": x["group"] in thresholds and x["lost_ha"] > 0 and (
                              x["lost_ha"] >= thresholds[x["group"]].hectares
                              or (x["before_ha"] and x["lost_ha"] / x["before_ha"] >= thresholds[x["group"]].share))}
                         for x in row.losses]
        out["zones"] = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": json.loads(z.geometry), "properties": {"code": z.code, "name": z.name}}
            for z in regions.zones(db, row.region_id, row.level) if z.geometry]}
        out["thresholds"] = {g: {"hectares": r.hectares, "share": r.share, "department": r.department}
                             for g, r in thresholds.items()}
    return out


@router.post("/changes", status_code=201, summary="Land-cover change between two ingested years, per zone")
def detect(body: ChangeRequest, request: Request, db: Db, caller: Importer) -> dict[str, Any]:
    row = service.detect_change(db, body.region_id, body.year_from, body.year_to, body.level, caller,
                                _data_dir(request))
    return change_view(db, row, full=True)


@router.get("/changes", summary="Land-cover change reports")
def list_changes(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [change_view(db, r) for r in service.change_reports(db)]


@router.get("/changes/{report_id}", summary="A change report: each zone's losses by ecosystem group")
def change(report_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return change_view(db, service.get_change(db, report_id), full=True)


@router.get("/changes/{report_id}/map.png", response_class=FileResponse, summary="The changed pixels (PNG)",
            responses={200: {"content": {"image/png": {}}, "description": "changed pixels, Web Mercator"}})
def change_image(report_id: Id, db: Db, caller: Reader) -> FileResponse:
    row = service.get_change(db, report_id)
    if not row.image or not Path(row.image).exists():
        raise NotFound(N_("change report {id} does not exist"), id=report_id)
    return FileResponse(row.image, media_type="image/png")


def patrol_view(p: PatrolReport) -> dict[str, Any]:
    cat = rules.config().patrols.get(p.category, {})
    return {"id": p.id, "category": p.category, "category_zh": cat.get("name_zh", p.category),
            "category_en": cat.get("name_en", p.category), "note": p.note, "lon": p.lon, "lat": p.lat,
            "observed_at": aware(p.observed_at).isoformat(), "county_code": p.county_code,
            "photos": len(p.photos or []), "by": p.by_name, "synthetic": p.synthetic}


@router.post("/patrols", status_code=201, summary="File a patrol report (with up to 4 photos)")
def file_patrol(request: Request, db: Db, caller: Ranger, category: Annotated[str, Form(max_length=30)],
                lon: Annotated[float, Form(ge=-180, le=180)], lat: Annotated[float, Form(ge=-90, le=90)],
                note: Annotated[str, Form(max_length=4000)] = "",
                observed_at: Annotated[datetime | None, Form()] = None,
                photos: Annotated[list[UploadFile] | None, File()] = None) -> dict[str, Any]:
    got = []
    for f in photos or []:
        data = f.file.read(service.MAX_PHOTO_BYTES + 1)
        if data:
            got.append((Path(f.filename or "photo").name[:100], data))
    return patrol_view(service.file_patrol(db, category, note, lon, lat, observed_at, got, caller,
                                           _data_dir(request)))


@router.get("/patrols", summary="Patrol reports (readers: all; a ranger: their own)")
def list_patrols(db: Db, caller: Caller) -> list[dict[str, Any]]:
    if not (caller.can(service.READ) or caller.can(service.PATROL)):
        raise PermissionDenied(N_("only rangers and the departments see patrol reports"))
    rows = service.patrols(db)
    if not caller.can(service.READ):
        rows = [p for p in rows if p.by_user_id == caller.user_id]
    return [patrol_view(p) for p in rows]


@router.get("/patrols/{report_id}/photos/{n}", response_class=FileResponse, summary="A photo of a patrol report",
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the photo"}})
def photo(report_id: Id, n: Annotated[int, PathParam(ge=0, le=10)], request: Request, db: Db,
          caller: Caller) -> FileResponse:
    row = db.get(PatrolReport, report_id)
    if row is None or n >= len(row.photos or []):
        raise NotFound(N_("photo {id} does not exist"), id=f"{report_id}/{n}")
    if not caller.can(service.READ) and row.by_user_id != caller.user_id:
        raise PermissionDenied(N_("only the reporter and the departments see a report's photos"))
    p = row.photos[n]
    return FileResponse(service.photo_path(_data_dir(request), p["sha256"], p["type"]), media_type=f"image/{p['type']}")

