"""The JSON API of tenure audits: open one for a zone and a term, read it, and download its report (PDF, zh or en)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from gep.assessment import service, tenure, tenure_report
from gep.assessment.api import Reader
from gep.kit.principal import Principal
from gep.kit.web.deps import Code, Db, Id, OptName, RowId, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import service as regions

router = APIRouter(prefix="/api/assessment/audits", tags=["assessment"], responses=ERROR_RESPONSES)
Office = Annotated[Principal, Depends(needs(service.MANAGE))]


class AuditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_id: RowId
    zone_code: Code
    started_on: date
    ended_on: date
    leader: OptName = ""


@router.get("/zones", summary="The zones an audit may cover: counties and townships of the region")
def zones(db: Db, caller: Reader, region_id: Annotated[int, Query(ge=1, le=2**62)]) -> list[dict[str, str]]:
    return [{"code": z.code, "name": z.name, "level": z.level, "parent": z.parent_code}
            for level in ("county", "township") for z in regions.zones(db, region_id, level)]


@router.post("", status_code=201, summary="Audit a zone over a leader's term")
def create(body: AuditBody, db: Db, caller: Office) -> dict[str, Any]:
    row = tenure.create(db, body.region_id, body.zone_code, body.started_on, body.ended_on, body.leader, caller)
    return tenure.view(row)


@router.get("", summary="Tenure audits, newest first")
def list_audits(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [{k: v for k, v in tenure.view(r).items() if k in ("id", "code", "zone", "leader", "started_on",
                                                               "ended_on", "synthetic", "created_at")}
            for r in tenure.audits(db)]


@router.get("/{audit_id}", summary="A tenure audit: GEP and assets at both ends, changes, what fell, events")
def get_audit(audit_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return tenure.view(tenure.get(db, audit_id))


@router.get("/{audit_id}/report.pdf", response_class=Response, summary="The audit report (PDF)",
            responses={200: {"content": {"application/pdf": {}}, "description": "the report"}})
def report(audit_id: Id, db: Db, caller: Reader,
           lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> Response:
    row = tenure.get(db, audit_id)
    return Response(tenure_report.pdf(tenure.view(row), lang), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{row.code}_{lang}.pdf"'})
