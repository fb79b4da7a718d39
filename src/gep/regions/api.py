"""JSON API of regions, zones, accounting runs, accounts and reports. Thin: the service holds the rules."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from gep.errors import N_, NotFound
from gep.kit.principal import Principal
from gep.kit.web.deps import Code, Db, Id, Limit, Name, PathCode, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import service
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
