"""JSON API of regions, zones, accounting runs, accounts and reports. Thin: the service holds the rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from gep.errors import NotFound
from gep.regions import service
from gep.regions.models import AccountingRun, Region
from gep.web.deps import Caller, Db, Reader

router = APIRouter(prefix="/api", tags=["regions"])
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class RegionImport(BaseModel):
    path: str


class RunRequest(BaseModel):
    year: int
    method: str | None = None
    price_year: int | None = None


def region_dict(r: Region) -> dict[str, Any]:
    return {"id": r.id, "code": r.code, "name": r.name, "name_en": r.name_en, "method": r.method, "years": r.years,
            "levels": r.levels}


def run_dict(r: AccountingRun) -> dict[str, Any]:
    return {"id": r.id, "region_id": r.region_id, "year": r.year, "method": r.method, "price_year": r.price_year,
            "status": r.status, "progress": r.progress, "stage": r.stage, "message": r.message,
            "created_at": r.created_at.isoformat() if r.created_at else None,
            "finished_at": r.finished_at.isoformat() if r.finished_at else None, "gep_yuan": r.gep_yuan,
            "reports": sorted(r.reports or {})}


@router.get("/regions")
def list_regions(caller: Reader, db: Db) -> list[dict[str, Any]]:
    return [region_dict(r) for r in service.list_regions(db)]


@router.post("/regions", status_code=201)
def import_region(body: RegionImport, caller: Caller, db: Db) -> dict[str, Any]:
    """Import a region package from a folder on the server (validated first)."""
    return region_dict(service.import_region(db, Path(body.path), caller))


@router.get("/regions/{region_id}/zones")
def list_zones(region_id: int, caller: Reader, db: Db, level: str | None = None,
               parent: str | None = None) -> list[dict[str, Any]]:
    return [{"code": z.code, "name": z.name, "level": z.level, "parent_code": z.parent_code,
             "area_km2": z.area_km2} for z in service.zones(db, region_id, level, parent)]


@router.get("/regions/{region_id}/map")
def zone_map(region_id: int, level: str, caller: Reader, db: Db, parent: str | None = None,
             year: int | None = None) -> dict[str, Any]:
    """GeoJSON of a level's zones (under a parent) with GEP and GEP per km² for the map."""
    return service.map_features(db, region_id, level, parent, year)


@router.get("/regions/{region_id}/zones/{code}/accounts")
def zone_accounts(region_id: int, code: str, caller: Reader, db: Db, year: int | None = None) -> dict[str, Any]:
    return service.zone_accounts(db, region_id, code, year)


@router.get("/regions/{region_id}/zones/{code}/trends")
def zone_trends(region_id: int, code: str, caller: Reader, db: Db) -> list[dict[str, Any]]:
    return service.trends(db, region_id, code)


@router.post("/regions/{region_id}/runs", status_code=202)
def start_run(region_id: int, body: RunRequest, request: Request, caller: Caller, db: Db) -> dict[str, Any]:
    """Queue an accounting run; it executes off the request path. Poll GET /api/runs/{id} for progress."""
    run = service.start_run(db, region_id, body.year, caller, body.method, body.price_year)
    db.commit()  # the job must see the row
    request.app.state.jobs.submit(run.id)
    return run_dict(run)


@router.get("/runs")
def list_runs(caller: Reader, db: Db, region_id: int | None = None) -> list[dict[str, Any]]:
    return [run_dict(r) for r in service.list_runs(db, region_id)]


@router.get("/runs/{run_id}")
def get_run(run_id: int, caller: Reader, db: Db) -> dict[str, Any]:
    return run_dict(service.get_run(db, run_id))


@router.get("/runs/{run_id}/report/{lang}.{fmt}")
def download_report(run_id: int, lang: str, fmt: str, caller: Reader, db: Db) -> FileResponse:
    run = service.get_run(db, run_id)
    path = (run.reports or {}).get(f"{lang}.{fmt}")
    if not path or not Path(path).exists():
        raise NotFound(f"run {run_id} has no {lang} {fmt} report" + ("" if run.status == "succeeded" else
                                                                      f" (status: {run.status})"))
    return FileResponse(path, media_type=MEDIA.get(fmt, "application/octet-stream"), filename=Path(path).name)
