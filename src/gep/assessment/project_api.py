"""The JSON API of GEP in projects: the negative list, the areas it names (imported as GeoJSON, all or none), and
project checks (a preview, and a check kept with the project's file: verdict, rule, areas touched, GEP change)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from gep.accounting.catalogue import ECOSYSTEM_GROUPS, ECOSYSTEMS
from gep.assessment import negative_list, projects, service
from gep.assessment.api import Reader
from gep.kit.principal import Principal
from gep.kit.web.deps import Code, Db, Id, Name, OptName, RowId, needs
from gep.kit.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/assessment", tags=["assessment"], responses=ERROR_RESPONSES)
Office = Annotated[Principal, Depends(needs(service.MANAGE))]


class ProjectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    proponent: OptName = ""
    industry: Annotated[str, Field(pattern=r"^[A-T](\d{2}(\d{1,2})?)?$")]
    region_id: RowId
    geometry: dict[str, Any]
    from_ecosystem: Code
    to_ecosystem: Code
    year: int | None = Field(default=None, ge=1990, le=2100)

    def request(self) -> projects.ProjectRequest:
        return projects.ProjectRequest(self.name, self.industry, self.region_id, self.geometry, self.from_ecosystem,
                                       self.to_ecosystem, self.proponent, self.year)


@router.get("/negative-list", summary="The industry negative list: area kinds, industries, rules and verdicts")
def the_list(caller: Reader) -> dict[str, Any]:
    nl = negative_list.load()
    return {"version": nl.version, "source": nl.source, "verdicts": negative_list.VERDICTS,
            "kinds": {k: {"zh": zh, "en": en} for k, (zh, en) in nl.kinds.items()},
            "industries": {k: {"zh": zh, "en": en} for k, (zh, en) in nl.industries.items()},
            "rules": [{"id": r.id, "industry": r.industry, "kind": r.kind, "verdict": r.verdict,
                       "conditions": r.conditions} for r in nl.rules],
            "ecosystems": {**{g: {"zh": zh, "en": en} for g, (zh, en) in ECOSYSTEM_GROUPS.items()},
                           **{e.id: {"zh": e.name_zh, "en": e.name_en} for e in ECOSYSTEMS.values()}}}


@router.get("/areas", summary="The areas the negative list names, as GeoJSON")
def list_areas(db: Db, caller: Reader) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": a["geometry"], "properties": {k: v for k, v in a.items() if k != "geometry"}}
        for a in map(projects.area_view, projects.areas(db))]}


@router.post("/areas", status_code=201, summary="Import areas: a GeoJSON FeatureCollection (kind, name, source)")
def import_areas(body: dict[str, Any], db: Db, caller: Office,
                 region_id: Annotated[int, Query(ge=1, le=2**62)]) -> dict[str, Any]:
    rows = projects.import_areas(db, body, region_id, caller)
    return {"imported": len(rows), "ids": [r.id for r in rows]}


@router.post("/projects/preview", summary="Check a project without keeping it")
def preview(body: ProjectBody, db: Db, caller: Office) -> dict[str, Any]:
    return projects.evaluate(db, body.request())


@router.post("/projects", status_code=201, summary="Check a project and keep the check with its file")
def check(body: ProjectBody, db: Db, caller: Office) -> dict[str, Any]:
    return projects.project_view(projects.check(db, body.request(), caller))


@router.get("/projects", summary="Project checks, newest first")
def list_projects(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [{k: v for k, v in projects.project_view(r).items() if k not in ("geometry", "gep", "areas")}
            | {"gep_change_yuan": r.gep_change_yuan} for r in projects.projects(db)]


@router.get("/projects/{project_id}", summary="A project check: verdict, rule, areas touched, GEP change")
def get_project(project_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return projects.project_view(projects.get_project(db, project_id))
