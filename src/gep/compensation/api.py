"""The JSON API of watershed compensation and damage valuation: scheme rounds, basins, sections, agreements,
observations (JSON rows or a CSV file; posting the same rows again stores nothing twice), a section's monthly
series, the year's settlements (closing posts once; recompute says whether every figure is the same to the
fen), the counties' fund ledger, and damage cases with their claim report (PDF, zh or en)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from gep.compensation import damage_service, rules, service
from gep.compensation.models import Agreement, Basin, DamageCase, Observation, Section
from gep.db import found
from gep.errors import N_, InputError
from gep.kit.principal import Principal
from gep.kit.web.deps import Code, Db, Id, LongText, Name, OptName, RowId, Year, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import service as regions

router = APIRouter(prefix="/api/compensation", tags=["compensation"], responses=ERROR_RESPONSES)
Office = Annotated[Principal, Depends(needs(service.MANAGE))]
Reader = Annotated[Principal, Depends(needs(service.READ))]
MAX_CSV = 16 * 1024 * 1024
Value = Annotated[str, Field(min_length=1, max_length=30)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BasinRequest(Strict):
    code: Code
    name_zh: Name
    name_en: OptName = ""
    scheme_code: Code
    region_id: RowId | None = None


class County(Strict):
    code: Code
    name: Name


class SectionRequest(Strict):
    basin_id: RowId
    code: Code
    name: Name
    river: OptName = ""
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    upstream: County
    downstream: County
    water_class: Annotated[str, Field(pattern=r"^(II|III)$")]


class AgreementRequest(Strict):
    section_id: RowId
    scheme_version: Code
    baseline: dict[Annotated[str, Field(max_length=20)], Value] = Field(max_length=10)
    amount_yuan: Annotated[Decimal, Field(ge=0, le=Decimal("1e10"), max_digits=14, decimal_places=2)] | None = None
    signed_on: date | None = None


class ObservationRow(Strict):
    section: Annotated[str, Field(max_length=40)]
    period: Annotated[str, Field(max_length=10)]
    parameter: Annotated[str, Field(max_length=20)]
    value: Annotated[str, Field(max_length=30)]
    unit: Annotated[str, Field(max_length=20)]


class ObservationsRequest(Strict):
    rows: list[ObservationRow] = Field(min_length=1, max_length=20_000)


class CorrectionRequest(Strict):
    section_id: RowId
    period: Annotated[str, Field(max_length=10)]
    parameter: Annotated[str, Field(pattern=r"^(codmn|nh3n|tp|tn|flow|efficiency)$")]
    value: Value
    reason: LongText


class CloseRequest(Strict):
    accept_gaps: bool = False
    reason: LongText = ""


class Item(Strict):
    name: Name
    yuan: Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), max_digits=16, decimal_places=2)]
    source: Name


class CaseRequest(Strict):
    title: Name
    region_id: RowId
    geometry: dict[str, Any]
    occurred_on: date
    from_ecosystem: Code
    to_ecosystem: Code
    recovery_years: int = Field(ge=1, le=100)
    path: Annotated[str, Field(pattern=r"^(step|linear|curve)$")] = "linear"
    curve: list[Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=list, max_length=100)
    discount_rate: Annotated[Decimal, Field(ge=0, lt=1, max_digits=6, decimal_places=4)] = damage_service.DEFAULT_RATE
    price_year: int | None = Field(default=None, ge=1990, le=2100)
    year: int | None = Field(default=None, ge=1990, le=2100)
    responsible: OptName = ""
    items: list[Item] = Field(default_factory=list, max_length=20)
    carbon_price_yuan: Annotated[Decimal, Field(gt=0, le=Decimal("100000"), max_digits=10, decimal_places=2)] = (
        Decimal(damage_service.DEFAULT_CARBON_PRICE_FEN) / 100)

    def request(self) -> damage_service.CaseRequest:
        return damage_service.CaseRequest(
            self.title, self.region_id, self.geometry, self.occurred_on, self.from_ecosystem, self.to_ecosystem,
            self.recovery_years, self.path, list(self.curve), self.discount_rate, self.price_year, self.year,
            self.responsible, [i.model_dump(mode="json") for i in self.items], int(self.carbon_price_yuan * 100))


# -- schemes, basins, sections, agreements ------------------------------------------------------------------------

@router.get("/schemes", summary="The scheme rounds installed (formula, weights, thresholds, money, sources)")
def list_schemes(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [{**r.body, "digest": r.digest} for r in service.schemes(db)]


@router.get("/parameters", summary="The monitored parameters, their units and periods")
def parameters(caller: Reader) -> list[dict[str, Any]]:
    return [{"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "unit": p.unit, "period": p.period,
             "better": p.better, "plausible_max": str(p.plausible_max)} for p in rules.PARAMETERS.values()]


@router.get("/basins", summary="Basins")
def list_basins(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [{"id": b.id, "code": b.code, "name_zh": b.name_zh, "name_en": b.name_en, "scheme_code": b.scheme_code,
             "region_id": b.region_id, "synthetic": b.synthetic} for b in service.basins(db)]


@router.post("/basins", status_code=201, summary="Create a basin under a scheme")
def create_basin(body: BasinRequest, db: Db, caller: Office) -> dict[str, Any]:
    b = service.create_basin(db, body.code, body.name_zh, body.scheme_code, caller, body.name_en, body.region_id)
    return {"id": b.id, "code": b.code}


@router.post("/sections", status_code=201, summary="Add a monitoring section between two counties")
def add_section(body: SectionRequest, db: Db, caller: Office) -> dict[str, Any]:
    s = service.add_section(db, body.basin_id, body.code, body.name, body.lon, body.lat,
                            (body.upstream.code, body.upstream.name), (body.downstream.code, body.downstream.name),
                            body.water_class, caller, body.river)
    return {"id": s.id, "code": s.code}


@router.post("/agreements", status_code=201, summary="Sign a section's agreement for a scheme round")
def sign(body: AgreementRequest, db: Db, caller: Office) -> dict[str, Any]:
    a = service.sign_agreement(db, body.section_id, body.scheme_version, dict(body.baseline), caller,
                               None if body.amount_yuan is None else int(body.amount_yuan * 100), body.signed_on)
    return {"id": a.id, "code": a.code, "amount_fen": a.amount_fen, "first_year": a.first_year,
            "last_year": a.last_year}


@router.get("/basins/{basin_id}", summary="A basin's year: sections with direction and amount, counties, map")
def basin(basin_id: Id, db: Db, caller: Reader, year: Year) -> dict[str, Any]:
    b = found(db, Basin, basin_id, N_("basin {id} does not exist"))
    sections = service.sections_of(db, basin_id)
    rows = service.year_of_basin(db, basin_id, year)
    counties: list[dict[str, Any]] = []
    if b.region_id is not None:
        codes = {s.upstream_code for s in sections} | {s.downstream_code for s in sections}
        counties = [{"type": "Feature", "geometry": json.loads(z.geometry) if z.geometry else None,
                     "properties": {"code": z.code, "name": z.name}}
                    for z in regions.zones(db, b.region_id) if z.code in codes and z.geometry]
    by_code = {s.code: s for s in sections}
    for r in rows:
        s = by_code[r["section"]]
        r["lon"], r["lat"], r["river"], r["synthetic"] = s.lon, s.lat, s.river, s.synthetic
    years = sorted(int(y) for (y,) in db.execute(select(Observation.year).where(
        Observation.section_id.in_([s.id for s in sections])).distinct()))  # the years with observations
    return {"basin": {"id": b.id, "code": b.code, "name_zh": b.name_zh, "name_en": b.name_en,
                      "scheme_code": b.scheme_code, "synthetic": b.synthetic},
            "year": year, "years": years, "sections": rows, "counties": {"type": "FeatureCollection",
                                                                         "features": counties},
            "moved_fen": sum(r.get("transfer_fen", 0) for r in rows),
            "counts": {d: sum(1 for r in rows if r.get("direction") == d) for d in rules.DIRECTIONS},
            "closed": sum(1 for r in rows if r.get("state") == "closed")}


@router.get("/basins/{basin_id}/funds", summary="The counties' compensation accounts with their statements")
def funds(basin_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    found(db, Basin, basin_id, N_("basin {id} does not exist"))
    return service.funds(db, basin_id)


@router.get("/basins/{basin_id}/template.csv", response_class=Response,
            summary="A CSV to fill in: every section, month and parameter of a year",
            responses={200: {"content": {"text/csv": {}}, "description": "the template"}})
def template(basin_id: Id, db: Db, caller: Reader, year: Year) -> Response:
    found(db, Basin, basin_id, N_("basin {id} does not exist"))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(service.COLUMNS)
    for s in service.sections_of(db, basin_id):
        for p in rules.PARAMETERS.values():
            months = range(1, 13) if p.period == "monthly" else (0,)
            for m in months:
                w.writerow([s.code, rules.period_text(year, m), p.code, "", p.unit])
    return Response(("\ufeff" + buf.getvalue()).encode(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="observations_{year}.csv"'})


@router.post("/basins/{basin_id}/years/{year}/close", summary="Close every section's settlement of the year")
def close_year(basin_id: Id, year: int, body: CloseRequest, db: Db, caller: Office) -> dict[str, Any]:
    found(db, Basin, basin_id, N_("basin {id} does not exist"))
    return service.close_year(db, basin_id, _year(year), caller, body.accept_gaps, body.reason)


def _year(year: int) -> int:
    if not 1990 <= year <= 2100:
        raise InputError(N_("year {year} is out of range"), year=year)
    return year


# -- observations -----------------------------------------------------------------------------------------------------

def _result(r: service.ImportResult) -> dict[str, Any]:
    return {"import_id": r.id, "rows": r.rows, "stored": r.stored, "skipped": r.skipped, "flagged": r.flagged}


@router.post("/observations", summary="Post observations as JSON rows (all or none)")
def post_observations(body: ObservationsRequest, db: Db, caller: Office) -> dict[str, Any]:
    rows = [r.model_dump() for r in body.rows]
    return _result(service.import_observations(db, rows, caller, "api", first_row=1))


@router.post("/observations/import",
             summary="Import a CSV of observations (section, period YYYY-MM or YYYY, parameter, value, unit)")
def import_observations(db: Db, caller: Office,
                        file: Annotated[UploadFile, File(description="CSV UTF-8: section, period, parameter, value, "
                                                                     "unit")]) -> dict[str, Any]:
    name = Path(file.filename or "observations.csv").name[:200]
    data = file.file.read(MAX_CSV + 1)
    if len(data) > MAX_CSV:
        raise InputError(N_("{file} is larger than {mb} MB"), file=name, mb=MAX_CSV // (1024 * 1024))
    rows = service.parse_csv(data, name)
    return _result(service.import_observations(db, rows, caller, name, data))


@router.put("/observations", summary="Correct a stored value (the year must not be closed; the reason is kept)")
def correct(body: CorrectionRequest, db: Db, caller: Office) -> dict[str, Any]:
    try:
        year, month = rules.parse_period(body.period)
    except ValueError:
        raise InputError(N_("{period} is not a period: expected YYYY-MM (a month) or YYYY (a year)"),
                         period=repr(body.period)) from None
    o = service.correct_observation(db, body.section_id, year, month, body.parameter, body.value, body.reason,
                                    caller)
    return {"id": o.id, "value": o.value, "flagged": o.flagged}


@router.get("/sections/{section_id}", summary="A section's monthly values and provisional index of a year")
def section(section_id: Id, db: Db, caller: Reader, year: Year) -> dict[str, Any]:
    return service.section_series(db, section_id, year)


# -- settlements ------------------------------------------------------------------------------------------------------

@router.post("/agreements/{agreement_id}/years/{year}/close", summary="Close an agreement's year (posts once)")
def close(agreement_id: Id, year: int, body: CloseRequest, db: Db, caller: Office) -> dict[str, Any]:
    row, new = service.close(db, agreement_id, _year(year), caller, body.accept_gaps, body.reason)
    agreement = found(db, Agreement, row.agreement_id, N_("agreement {id} does not exist"))
    section_ = found(db, Section, agreement.section_id, N_("section {id} does not exist"))
    return {**service.settlement_view(db, row, agreement, section_), "posted": new}


@router.get("/settlements/{settlement_id}/recompute",
            summary="Compute a settlement again and compare every figure with the stored one")
def recompute(settlement_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return service.recompute(db, settlement_id)


# -- damage ----------------------------------------------------------------------------------------------------

@router.get("/regions/{region_id}/counties", summary="The region's counties as GeoJSON (the damage map's ground)")
def counties(region_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    level = [z for z in regions.get_region(db, region_id).levels][1:2] or ["county"]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(z.geometry), "properties": {"code": z.code, "name": z.name}}
        for z in regions.zones(db, region_id, level[0]) if z.geometry]}


@router.get("/damage", summary="Damage cases")
def list_cases(db: Db, caller: Reader) -> list[dict[str, Any]]:
    return [{k: v for k, v in damage_service.case_view(c).items() if k not in ("geometry", "result")}
            | {"changed_ha": c.result.get("changed_ha")} for c in damage_service.cases(db)]


@router.post("/damage/preview", summary="Value a damage case without saving it")
def preview(body: CaseRequest, db: Db, caller: Office) -> dict[str, Any]:
    return damage_service.valuate(db, body.request())


@router.post("/damage", status_code=201, summary="Open a damage case: valued from the region's stored accounts")
def open_case(body: CaseRequest, db: Db, caller: Office) -> dict[str, Any]:
    return damage_service.case_view(damage_service.open_case(db, body.request(), caller))


@router.get("/damage/{case_id}", summary="A damage case with its valuation")
def get_case(case_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return damage_service.case_view(found(db, DamageCase, case_id, N_("damage case {id} does not exist")))


@router.get("/damage/{case_id}/recompute", summary="Value a case again and compare the claim to the fen")
def recompute_case(case_id: Id, db: Db, caller: Reader) -> dict[str, Any]:
    return damage_service.recompute_case(db, case_id)


@router.get("/damage/{case_id}/claim.pdf", response_class=Response, summary="The claim report (PDF)",
            responses={200: {"content": {"application/pdf": {}}, "description": "the claim report"}})
def claim(case_id: Id, db: Db, caller: Reader,
          lang: Annotated[str, Query(pattern=r"^(zh|en)$")] = "zh") -> Response:
    case, body = damage_service.claim_pdf(db, case_id, lang)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{case.code}_{lang}.pdf"'})
