"""The JSON API of the GEP assessment: indicator sets and departments, a department's workbook template, values
submitted as JSON rows or a workbook (all rows or none; the same rows twice store nothing twice), score sheets
computed, published and rechecked, and the QR code of a county's public score card."""

from __future__ import annotations

import csv
import io
from pathlib import Path as FilePath
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gep.assessment import rules, service, workbook
from gep.errors import N_, InputError, NotFound
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Code, Db, Id, PathCode, RowId, Year, needs
from gep.kit.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/assessment", tags=["assessment"], responses=ERROR_RESPONSES)
Office = Annotated[Principal, Depends(needs(service.MANAGE))]
MAX_FILE = workbook.MAX_BYTES
SetVersion = Annotated[str, Query(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.\-]+$")]
RegionId = Annotated[int, Query(ge=1, le=2**62)]
PathYear = Annotated[int, Path(ge=1900, le=2200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Row(Strict):
    unit_code: Annotated[str, Field(max_length=40)]
    indicator: Annotated[str, Field(max_length=20)]
    value: Annotated[str, Field(max_length=40)]
    unit: Annotated[str, Field(max_length=30)]
    note: Annotated[str, Field(max_length=500)] = ""


class SubmitRequest(Strict):
    set: Code
    year: int = Field(ge=1990, le=2100)
    region_id: RowId
    rows: list[Row] = Field(min_length=1, max_length=20_000)


class ComputeRequest(Strict):
    set: Code
    year: int = Field(ge=1990, le=2100)
    region_id: RowId


class LinkRequest(Strict):
    organisation_id: RowId | None


def _reader(caller: Caller) -> Principal:
    service.require_read(caller)
    return caller


Reader = Annotated[Principal, Depends(_reader)]


@router.get("/sets", summary="The indicator sets installed: levels, indicators with algorithm and points, colours")
def list_sets(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [service.set_view(service.indicator_set(db, r.version)) for r in service.sets(db)]


@router.get("/departments", summary="The providing departments and the organisation each submits as")
def list_departments(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [{"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "organisation_id": d.organisation_id}
            for d in service.departments(db).values()]


@router.put("/departments/{code}", summary="Tie a department to the organisation whose users submit its data")
def link(code: PathCode, body: LinkRequest, db: Db, caller: Office) -> dict[str, Any]:
    d = service.link_department(db, code, body.organisation_id, caller)
    return {"code": d.code, "organisation_id": d.organisation_id}


@router.get("/me", summary="The caller's department and the indicators it provides in each set")
def me(db: Db, caller: Reader) -> dict[str, Any]:
    dep = service.department_of(db, caller)
    out: dict[str, Any] = {"department": None, "can_manage": caller.can(service.MANAGE),
                           "can_submit": caller.can(service.SUBMIT) or caller.can(service.MANAGE)}
    if dep is not None:
        out["department"] = {"code": dep.code, "name_zh": dep.name_zh, "name_en": dep.name_en}
    return out


@router.get("/units", summary="The units a set assesses: the region's counties, or the departments")
def list_units(db: Db, caller: Reader, set: SetVersion, region_id: RegionId) -> list[dict[str, str]]:
    s = service.indicator_set(db, set)
    return [{"code": c, "name": n} for c, n in sorted(service.units(db, s, region_id).items())]


@router.get("/map", summary="The region's counties as GeoJSON, for the one-code map")
def county_map(db: Db, caller: Reader, region_id: RegionId) -> dict[str, Any]:
    return service.county_map(db, region_id)


@router.get("/values", summary="The values of a set and year: the newest per unit and indicator, with who and when")
def values(db: Db, caller: Reader, set: SetVersion, year: Year) -> list[dict[str, Any]]:
    return [{"unit_code": r.unit_code, "indicator": r.indicator, "value": r.value, "unit": r.unit,
             "department": r.department_code, "by": r.submitted_by, "at": r.submitted_at.isoformat(),
             "synthetic": r.synthetic} for r in service.current(db, set, year).values()]


@router.get("/values/history", summary="Every value submitted for one unit and indicator, oldest first")
def value_history(db: Db, caller: Reader, set: SetVersion, year: Year,
                  unit_code: Annotated[str, Query(max_length=40)],
                  indicator: Annotated[str, Query(max_length=20)]) -> list[dict[str, Any]]:
    return service.history(db, set, year, unit_code, indicator)


def _result(r: service.SubmitResult) -> dict[str, Any]:
    return {"import_id": r.import_id, "rows": r.rows, "stored": r.stored, "unchanged": r.unchanged}


@router.post("/values", summary="Submit values as JSON rows (all or none)")
def submit(body: SubmitRequest, db: Db, caller: Reader) -> dict[str, Any]:
    rows = [r.model_dump() for r in body.rows]
    return _result(service.submit(db, body.set, body.year, body.region_id, rows, caller, "form", first_row=1))


@router.post("/values/import", summary="Submit a filled workbook (.xlsx) or CSV: unit_code, indicator, value, unit")
def import_values(db: Db, caller: Reader, set: SetVersion, year: Year, region_id: RegionId,
                  file: Annotated[UploadFile, File(description="the department's workbook (.xlsx) or a CSV")]
                  ) -> dict[str, Any]:
    name = FilePath(file.filename or "values.xlsx").name[:200]
    data = file.file.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise InputError(N_("{file} is larger than {mb} MB"), file=name, mb=MAX_FILE // (1024 * 1024))
    if name.lower().endswith(".csv"):
        from gep.kit.csvfile import read_rows

        rows, first = read_rows(data, name, ("unit_code", "indicator", "value", "unit"), max_rows=20_000), 2
    else:
        rows, first = workbook.read(data, name)
    return _result(service.submit(db, set, year, region_id, rows, caller, name, data, first))


@router.get("/template.xlsx", response_class=Response, summary="A department's workbook to fill for a year",
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
                             "description": "the workbook"}})
def template(db: Db, caller: Reader, set: SetVersion, year: Year, region_id: RegionId,
             department: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    s = service.indicator_set(db, set)
    own = service.department_of(db, caller)
    code = department or (own.code if own else "")
    deps = service.departments(db)
    if code not in deps:
        raise NotFound(N_("department {code} does not exist"), code=code or "?")
    body = workbook.template(s, year, service.units(db, s, region_id), rules.provider_indicators(s, code),
                             deps[code].name_zh)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{set}_{year}_{code}.xlsx"'})


@router.get("/template.csv", response_class=Response, include_in_schema=False)
def template_csv(db: Db, caller: Reader, set: SetVersion, year: Year, region_id: RegionId,
                 department: Annotated[str, Query(max_length=40)]) -> Response:
    s = service.indicator_set(db, set)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(service.COLUMNS)
    for u in sorted(service.units(db, s, region_id)):
        for ind in rules.provider_indicators(s, department):
            w.writerow([u, ind.code, "", ind.unit])
    return Response(("\ufeff" + buf.getvalue()).encode(), media_type="text/csv")


# -- sheets --------------------------------------------------------------------------------------------------------

@router.get("/sheets", summary="Score sheets (drafts and published)")
def list_sheets(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [{"id": s.id, "set": s.set_version, "region_id": s.region_id, "year": s.year, "status": s.status,
             "computed_at": s.computed_at.isoformat(), "synthetic": s.synthetic} for s in service.sheets(db)]


@router.post("/sheets", summary="Compute (or recompute) a year's draft score sheet")
def compute(body: ComputeRequest, db: Db, caller: Office) -> dict[str, Any]:
    sheet = service.compute(db, body.set, body.region_id, body.year, caller)
    return service.sheet_view(db, sheet)


@router.get("/sheets/{sheet_id}", summary="A score sheet with every unit's values, points, rank and colour")
def get_sheet(sheet_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return service.sheet_view(db, service.get_sheet(db, sheet_id))


@router.post("/sheets/{sheet_id}/publish", summary="Publish a sheet: frozen, and its score cards public")
def publish(sheet_id: Id, db: Db, caller: Office) -> dict[str, Any]:
    return service.sheet_view(db, service.publish(db, sheet_id, caller))


@router.get("/sheets/{sheet_id}/recheck", summary="Score the year again from the stored inputs: same, or what moved")
def recheck(sheet_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return service.recheck(db, sheet_id)


def card_url(request: Request, version: str, year: int, code: str) -> str:
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/public/assessment/{version}/{year}/{code}"


@router.get("/cards/{version}/{year}/{code}/qr.svg", response_class=Response,
            summary="The QR code of a county's public score card (published sheets only)",
            responses={200: {"content": {"image/svg+xml": {}}, "description": "the QR code"}})
def card_qr(version: PathCode, year: PathYear, code: PathCode, request: Request, db: Db) -> Response:
    _sheet, row = service.published_card(db, version, year, code)
    colour = {"green": "#1b7f3b", "yellow": "#b8860b", "red": "#b3261e"}[row["colour"]]
    buf = io.BytesIO()
    segno.make(card_url(request, version, year, code), error="m").save(buf, kind="svg", scale=4, dark=colour,
                                                                       xmldecl=False)
    return Response(buf.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=300"})
