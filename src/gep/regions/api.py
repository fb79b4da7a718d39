"""JSON API of regions, zones, accounting runs, accounts and reports. Thin: the service holds the rules."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from gep.errors import N_, InputError, NotFound
from gep.kit.principal import Principal
from gep.kit.web.deps import Code, Db, Id, Limit, Name, PathCode, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import packages, service, uploads
from gep.regions.models import AccountingRun, Region

router = APIRouter(prefix="/api", tags=["regions"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(needs(service.READ))]
Runner = Annotated[Principal, Depends(needs(service.RUN))]
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
Level = Annotated[str | None, Query(pattern="^(city|county|township|village)$")]
ZoneCode = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_.\-]*$")]
YearQ = Annotated[int | None, Query(ge=1900, le=2200)]


class RegionImport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Name = Field(description="name of a package folder inside the platform's import folder (GEP_IMPORT_DIR)")


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=1900, le=2200)
    method: Code | None = None
    price_year: int | None = Field(default=None, ge=1900, le=2200)


class RegionOut(BaseModel):
    id: int
    code: str
    name: str
    name_en: str
    method: str
    years: list[int]
    levels: list[str]


class ZoneOut(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str
    area_km2: float


class RunOut(BaseModel):
    id: int
    region_id: int
    year: int
    method: str
    price_year: int
    status: str
    progress: float
    stage: str
    message: str
    created_at: datetime | None
    finished_at: datetime | None
    gep_yuan: float | None
    reports: list[str]
    traceback: str | None = Field(default=None, description="only for administrators, when the run failed")


def region_out(r: Region) -> RegionOut:
    return RegionOut(id=r.id, code=r.code, name=r.name, name_en=r.name_en, method=r.method, years=r.years,
                     levels=r.levels)


def run_out(request: Request, r: AccountingRun, caller: Principal) -> RunOut:
    gettext = request.app.state.platform.catalogues.gettext(lang_of(request))
    message = gettext(r.message).format(**(r.message_params or {})) if r.message else ""
    return RunOut(id=r.id, region_id=r.region_id, year=r.year, method=r.method, price_year=r.price_year,
                  status=r.status, progress=r.progress, stage=gettext(r.stage) if r.stage else "", message=message,
                  created_at=r.created_at, finished_at=r.finished_at, gep_yuan=r.gep_yuan,
                  reports=sorted(r.reports or {}),
                  traceback=(r.traceback or None) if caller.can(service.READ_ALL) else None)


@router.get("/regions")
def list_regions(caller: Reader, db: Db) -> list[RegionOut]:
    return [region_out(r) for r in service.list_regions(db)]


@router.post("/regions", status_code=201)
def import_region(body: RegionImport, request: Request, caller: Annotated[Principal, Depends(needs(service.IMPORT))],
                  db: Db) -> RegionOut:
    """Import a region package from the platform's import folder (validated first; every problem listed)."""
    path = service.import_path(request.app.state.settings.import_dir, body.path)
    return region_out(service.import_region(db, path, caller, label=body.path))


@router.get("/regions/{region_id}/zones")
def list_zones(region_id: Id, caller: Reader, db: Db, level: Level = None, parent: ZoneCode = None) -> list[ZoneOut]:
    return [ZoneOut(code=z.code, name=z.name, level=z.level, parent_code=z.parent_code, area_km2=z.area_km2)
            for z in service.zones(db, region_id, level, parent)]


@router.get("/regions/{region_id}/map")
def zone_map(region_id: Id, level: Annotated[str, Query(pattern="^(city|county|township|village)$")],
             caller: Reader, db: Db, parent: ZoneCode = None, year: YearQ = None) -> dict[str, Any]:
    """GeoJSON of a level's zones (under a parent) with GEP and GEP per km² for the map."""
    return service.map_features(db, region_id, level, parent, year)


@router.get("/regions/{region_id}/zones/{code}/accounts")
def zone_accounts(region_id: Id, code: PathCode, caller: Reader, db: Db, year: YearQ = None) -> dict[str, Any]:
    return service.zone_accounts(db, region_id, code, year)


@router.get("/regions/{region_id}/zones/{code}/trends")
def zone_trends(region_id: Id, code: PathCode, caller: Reader, db: Db) -> list[dict[str, Any]]:
    return service.trends(db, region_id, code)


@router.post("/regions/{region_id}/runs", status_code=202)
def start_run(region_id: Id, body: RunRequest, request: Request, caller: Runner, db: Db) -> RunOut:
    """Queue an accounting run; the worker executes it. Poll GET /api/runs/{id} for progress."""
    run = service.start_run(db, region_id, body.year, caller, body.method, body.price_year)
    request.app.state.wake_worker()
    return run_out(request, run, caller)


@router.get("/runs")
def list_runs(request: Request, caller: Reader, db: Db, region_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)]
              = None, limit: Limit = 50) -> list[RunOut]:
    """Runs of the caller's organisation (all runs for administrators), newest first."""
    return [run_out(request, r, caller) for r in service.list_runs(db, region_id, limit)]


@router.get("/runs/{run_id}")
def get_run(run_id: Id, request: Request, caller: Reader, db: Db) -> RunOut:
    return run_out(request, service.get_run(db, run_id), caller)


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: Id, request: Request, caller: Runner, db: Db) -> RunOut:
    """Cancel a queued run, or stop a running one at its next step."""
    return run_out(request, service.cancel_run(db, run_id, caller), caller)


@router.post("/runs/{run_id}/retry", status_code=202)
def retry_run(run_id: Id, request: Request, caller: Runner, db: Db) -> RunOut:
    """Start a failed or cancelled run again (a new run with the same settings)."""
    run = service.retry_run(db, run_id, caller)
    request.app.state.wake_worker()
    return run_out(request, run, caller)


@router.get("/runs/{run_id}/report/{lang}.{fmt}", response_class=FileResponse,
            responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "the report file"}})
def download_report(run_id: Id, lang: Literal["zh", "en"], fmt: Literal["pdf", "html", "xlsx"], caller: Reader,
                    db: Db) -> FileResponse:
    run = service.published_run(db, run_id)
    path = (run.reports or {}).get(f"{lang}.{fmt}")
    if not path or not Path(path).exists():
        raise NotFound(N_("run {id} has no {lang} {fmt} report (status: {status})"), id=run_id, lang=lang, fmt=fmt,
                       status=service.status_word(run.status))
    return FileResponse(path, media_type=MEDIA[fmt], filename=Path(path).name)


# -- regions from the browser: packages, the statistics template, parameter overrides -----------------------------

Importer = Annotated[Principal, Depends(needs(service.IMPORT))]
Sent = Annotated[list[UploadFile], File(description="a zip of the region package, or its files one by one (each "
                                                    "named by its path inside the package)")]


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


def _receive(request: Request, files: list[UploadFile]) -> tuple[Path, str, str]:
    """Every sent file streamed under the data folder and staged; returns the staging folder, a label for
    messages and the SHA-256 of what was sent (of each file's digest, in order, when several)."""
    if not files:
        raise InputError(N_("send a zip of the region package, or its files"))
    data = _data_dir(request)
    received: list[tuple[Path, str]] = []
    digests = []
    try:
        budget = uploads.LIMITS.upload_bytes
        for f in files:
            name = (f.filename or "upload")[:300]
            tmp, digest = uploads.receive(f.file, data / "uploads", name, budget)
            budget -= tmp.stat().st_size
            received.append((tmp, name))
            digests.append(digest)
        folder = packages.stage(data, received)
    finally:
        for tmp, _ in received:
            tmp.unlink(missing_ok=True)
    label = received[0][1] if len(received) == 1 else f"{len(received)} files"
    digest = digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest()
    return folder, Path(label).name, digest


@router.post("/regions/uploads", status_code=201)
def upload_region(request: Request, caller: Importer, db: Db, files: Sent) -> RegionOut:
    """A new region from a package sent from the browser: checked whole first (every problem listed), stored only
    when valid."""
    folder, label, digest = _receive(request, files)
    return region_out(packages.create_region(db, _data_dir(request), folder, caller, label, digest))


@router.post("/regions/{region_id}/uploads")
def upload_files(region_id: Id, request: Request, caller: Importer, db: Db, files: Sent) -> RegionOut:
    """Add or replace files of a region (a new year's rasters and statistics, and the region.toml listing them);
    the whole package is checked, and nothing changes unless it is valid."""
    folder, label, digest = _receive(request, files)
    return region_out(packages.add_files(db, _data_dir(request), region_id, folder, caller, label, digest))


@router.get("/regions/{region_id}/statistics/template", response_class=FileResponse,
            responses={200: {"content": {MEDIA["xlsx"]: {}}, "description": "the statistics template"}})
def statistics_template(region_id: Id, request: Request, caller: Reader, db: Db,
                        year: Annotated[int, Query(ge=1900, le=2200)], method: Code | None = None) -> FileResponse:
    """An Excel workbook listing every statistic the method needs for every zone, per level, with units."""
    path = packages.template(db, _data_dir(request), region_id, year, method)
    return FileResponse(path, media_type=MEDIA["xlsx"], filename=f"statistics_template_{region_id}_{year}.xlsx",
                        background=BackgroundTask(path.unlink, missing_ok=True))  # made per request, not kept


@router.post("/regions/{region_id}/statistics")
def import_statistics(region_id: Id, request: Request, caller: Importer, db: Db,
                      year: Annotated[int, Form(ge=1900, le=2200)],
                      file: Annotated[UploadFile, File(description="the filled template (.xlsx)")]) -> dict[str, Any]:
    """A filled template: checked like a statistics file, its new figures merged into the region."""
    name = Path(file.filename or "statistics.xlsx").name[:200]
    tmp, digest = uploads.receive(file.file, _data_dir(request) / "uploads", name, 50 * uploads.MB)
    try:
        return packages.import_template(db, _data_dir(request), region_id, year, tmp, caller, name, digest)
    finally:
        tmp.unlink(missing_ok=True)


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float | dict[str, float] = Field(description="a number, or a table by ecosystem type or group")
    unit: str = Field(min_length=1, max_length=40)
    year: int | None = Field(default=None, ge=1900, le=2200, description="prices: the year they are quoted in")
    source: str = Field(min_length=2, max_length=500, description="where the value comes from (required)")
    note: str = Field(default="", max_length=500)


ParamId = Annotated[str, PathParam(max_length=120, pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$")]


@router.get("/regions/{region_id}/parameters")
def region_parameters(region_id: Id, caller: Reader, db: Db, method: Code | None = None) -> dict[str, Any]:
    """The method's parameters with their sources, status and ranges, beside the region's overrides."""
    return packages.parameters(db, region_id, method)


@router.put("/regions/{region_id}/parameters/{parameter}")
def override_parameter(region_id: Id, parameter: ParamId, body: OverrideIn, request: Request, caller: Importer,
                       db: Db) -> dict[str, Any]:
    """Override a parameter or price for the region, with its source; recorded in the accounts and the report."""
    return packages.set_override(db, _data_dir(request), region_id, parameter, body.model_dump(), caller)


@router.delete("/regions/{region_id}/parameters/{parameter}")
def remove_override(region_id: Id, parameter: ParamId, request: Request, caller: Importer, db: Db) -> dict[str, Any]:
    return packages.set_override(db, _data_dir(request), region_id, parameter, None, caller)
