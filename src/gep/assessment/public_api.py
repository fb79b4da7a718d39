"""The public release's API: an analyst publishes or withdraws an accounting run; anyone reads a published run's
map (GeoJSON of a level's zones with GEP) and downloads its reports. Nothing unpublished answers here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict

from gep.assessment import publication
from gep.errors import N_, NotFound
from gep.kit.principal import Principal
from gep.kit.web.deps import Db, Id, LongText, RowId, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import service as regions

router = APIRouter(tags=["assessment"], responses=ERROR_RESPONSES)
Publisher = Annotated[Principal, Depends(needs(publication.PUBLISH))]
MEDIA = {"pdf": "application/pdf", "html": "text/html",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_id: RowId
    note: LongText = ""


class WithdrawBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: LongText


@router.get("/api/assessment/publications", summary="Finished runs and whether each is published")
def runs(db: Db, caller: Publisher) -> list[dict[str, Any]]:
    out = []
    on = {r.id: p for p, r in publication.published(db)}
    for region in regions.list_regions(db):
        for year, run in sorted(regions.latest_runs(db, region.id).items(), reverse=True):
            p = on.get(run.id)
            out.append({"run_id": run.id, "region": region.name, "year": year, "gep_yuan": run.gep_yuan,
                        "method": run.method, "price_year": run.price_year,
                        "published_at": p.published_at.isoformat() if p else None})
    return out


@router.post("/api/assessment/publications", status_code=201, summary="Publish a run on the public portal")
def publish(body: PublishBody, db: Db, caller: Publisher) -> dict[str, Any]:
    p = publication.publish(db, body.run_id, caller, body.note)
    return {"run_id": p.run_id, "published_at": p.published_at.isoformat()}


@router.post("/api/assessment/publications/{run_id}/withdraw", summary="Take a run off the public portal")
def withdraw(run_id: Id, body: WithdrawBody, db: Db, caller: Publisher) -> dict[str, Any]:
    p = publication.withdraw(db, run_id, caller, body.reason)
    return {"run_id": p.run_id, "withdrawn_at": p.withdrawn_at.isoformat() if p.withdrawn_at else None}


@router.get("/api/public/gep/{run_id}/map", summary="A published run's zones of a level with GEP (GeoJSON)")
def public_map(run_id: Id, db: Db, level: Annotated[str, Query(pattern="^(city|county|township|village)$")],
               parent: Annotated[str | None, Query(max_length=40)] = None) -> dict[str, Any]:
    run = publication.public_run(db, run_id)
    view = publication.levels_view(db, run, level, parent)
    geoms = {z.code: z.geometry for z in regions.zones(db, run.region_id, view["level"], parent)}
    return {"type": "FeatureCollection", "level": view["level"], "below": view["below"], "features": [
        {"type": "Feature", "geometry": json.loads(geoms[r["code"]]) if geoms.get(r["code"]) else None,
         "properties": {k: r.get(k) for k in ("code", "name", "gep", "per_km2", "material", "regulating",
                                              "cultural")}} for r in view["rows"]]}


@router.get("/public/gep/{run_id}/report/{lang}.{fmt}", response_class=FileResponse,
            responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "the report file"}})
def public_report(run_id: Id, lang: Literal["zh", "en"], fmt: Literal["pdf", "html", "xlsx"], db: Db) -> FileResponse:
    run = publication.public_run(db, run_id)
    path = (run.reports or {}).get(f"{lang}.{fmt}")
    if not path or not Path(path).exists():
        raise NotFound(N_("run {id} has no {lang} {fmt} report"), id=run_id, lang=lang, fmt=fmt)
    return FileResponse(path, media_type=MEDIA[fmt], filename=Path(path).name)

