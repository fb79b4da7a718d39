"""The discharge-rights registry's JSON API: an enterprise's card, the bureau's overview, enterprises, caps,
permits, fee bills, buy-backs, pledges, offers on the exchange, emission records (JSON or a CSV file; posting the
same records again books nothing twice) and checks of new projects against the reserve. Quantities are tonnes
as decimal strings (kg for exchange offers)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from gep.discharge import rules, service
from gep.errors import N_, InputError, NotFound
from gep.kit.audit import now
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Code, Db, Id, Name, OptName, RowId, needs
from gep.kit.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/discharge", tags=["discharge"], responses=ERROR_RESPONSES)
Bureau = Annotated[Principal, Depends(needs(service.MANAGE))]
Holder = Annotated[Principal, Depends(needs(service.HOLD))]
Tonnes = Annotated[Decimal, Field(gt=0, le=Decimal("1e7"), max_digits=13, decimal_places=6)]
YearField = Annotated[int, Field(ge=2000, le=2100)]
MAX_CSV = 16 * 1024 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def grams(t: Decimal) -> int:
    return rules.to_grams(t, "t")


class EnterpriseRequest(Strict):
    organisation_id: RowId
    name: Name
    credit_code: Annotated[str, Field(min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]{18}$")]
    county_code: Code
    industry: OptName = ""


class CapRequest(Strict):
    county_code: Code
    pollutant: Code
    year: YearField
    tonnes: Tonnes


class LineRequest(Strict):
    pollutant: Code
    tonnes_per_year: Tonnes


class PermitRequest(Strict):
    enterprise_id: RowId
    start_year: YearField
    years: int = Field(ge=1, le=5)
    lines: list[LineRequest] = Field(min_length=1, max_length=4)


class BuyBackRequest(Strict):
    enterprise_id: RowId
    pollutant: Code
    year: YearField
    tonnes: Tonnes
    price_yuan_per_kg: Annotated[Decimal, Field(ge=0, le=Decimal("1e6"), max_digits=10, decimal_places=2)] = Decimal(0)
    key: Code


class PledgeRequest(Strict):
    enterprise_id: RowId
    pollutant: Code
    year: YearField
    tonnes: Tonnes
    bank_name: Name
    contract_no: OptName = ""


class OfferRequest(Strict):
    pollutant: Code
    first_year: YearField
    last_year: YearField
    kg_per_year: int = Field(ge=1, le=10**9)
    county_code: Code | None = None  # the bureau sells from this reserve; an enterprise leaves it out
    title: OptName = ""


class EmissionItem(Strict):
    enterprise: Annotated[str, Field(max_length=40)]
    pollutant: Annotated[str, Field(max_length=40)]
    time: Annotated[str, Field(max_length=40)]
    value: Annotated[str, Field(max_length=40)]
    unit: Annotated[str, Field(max_length=10)]


class CheckRequest(Strict):
    project_name: Name
    county_code: Code
    year: YearField
    needs: dict[str, Tonnes] = Field(min_length=1, max_length=4)


def _year(year: int | None) -> int:
    return year if year is not None else now().astimezone(rules.CHINA).year


@router.get("/pollutants", summary="The pollutants under total-load control, with their fee rates and sources")
def pollutants() -> dict[str, Any]:
    return {"pollutants": rules.pollutants(), "permit": rules.config()["permit"],
            "alerts": rules.config()["alerts"], "auction": rules.config()["auction"]}


@router.get("/card", summary="My enterprise's card: balances per pollutant, usage, alerts, bills, pledges")
def my_card(db: Db, caller: Caller, year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict[str, Any]:
    enterprise = service.enterprise_of(db, caller)
    if enterprise is None:
        raise NotFound(N_("your organisation holds no discharge permit"))
    return service.card(db, enterprise.id, _year(year), caller)


@router.get("/enterprises/{enterprise_id}/card", summary="An enterprise's card (the bureau, or the enterprise)")
def card(enterprise_id: Id, db: Db, caller: Caller,
         year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict[str, Any]:
    return service.card(db, enterprise_id, _year(year), caller)


@router.get("/overview", summary="The bureau's overview: reserves, enterprises by quota used, auctions, bills")
def overview(db: Db, caller: Caller, year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict[str, Any]:
    return service.overview(db, _year(year), caller)


@router.post("/enterprises", status_code=201, summary="Register an organisation as a discharging enterprise")
def register(body: EnterpriseRequest, db: Db, caller: Bureau) -> dict[str, Any]:
    return service.enterprise_view(service.register_enterprise(db, body.organisation_id, body.name,
                                                               body.credit_code, body.county_code, caller,
                                                               body.industry))


@router.post("/caps", summary="Set a county's (or the city's) cap for a year: the tonnes go into its reserve")
def cap(body: CapRequest, db: Db, caller: Bureau) -> dict[str, Any]:
    changed = service.set_cap(db, body.county_code, body.pollutant, body.year, grams(body.tonnes), caller)
    return {"changed": changed}


@router.post("/permits", status_code=201, summary="Issue a permit: the allocation comes out of the reserve")
def permit(body: PermitRequest, db: Db, caller: Bureau) -> dict[str, Any]:
    row = service.issue_permit(db, body.enterprise_id, body.start_year, body.years,
                               [service.Line(ln.pollutant, grams(ln.tonnes_per_year)) for ln in body.lines], caller)
    return {"id": row.id, "number": row.number, "start_year": row.start_year, "end_year": row.end_year}


@router.post("/bills/{bill_id}/pay", summary="Pay a year's paid-use fee from the enterprise's funds")
def pay(bill_id: Id, db: Db, caller: Holder) -> dict[str, Any]:
    bill = service.pay_bill(db, bill_id, caller)
    return {"id": bill.id, "state": bill.state, "amount_fen": bill.amount_fen}


@router.post("/buybacks", summary="Buy an enterprise's spare quota back into the reserve (free or paid)")
def buy_back(body: BuyBackRequest, db: Db, caller: Bureau) -> dict[str, Any]:
    done = service.buy_back(db, body.enterprise_id, body.pollutant, body.year, grams(body.tonnes),
                            int(body.price_yuan_per_kg * 100), caller, body.key)
    return {"booked": done}


@router.post("/pledges", status_code=201, summary="Register a pledge: the quota is locked until released")
def pledge(body: PledgeRequest, db: Db, caller: Bureau) -> dict[str, Any]:
    row = service.pledge(db, body.enterprise_id, body.pollutant, body.year, grams(body.tonnes), body.bank_name,
                         body.contract_no, caller)
    return {"id": row.id, "state": row.state}


@router.post("/pledges/{pledge_id}/release", summary="Release a pledge")
def release(pledge_id: Id, db: Db, caller: Bureau) -> dict[str, Any]:
    return {"id": service.release_pledge(db, pledge_id, caller).id, "state": "released"}


@router.post("/offers", status_code=201, summary="Set quota aside for the exchange (a draft listing follows)")
def offer(body: OfferRequest, db: Db, caller: Caller) -> dict[str, Any]:
    years = body.last_year - body.first_year + 1
    start = service.reserve_price_fen(body.pollutant, years) if body.county_code is not None else 0
    row = service.offer(db, body.pollutant, body.first_year, body.last_year, body.kg_per_year, caller,
                        body.county_code, start, body.title)
    return {"id": row.id, "units_ref": f"{service.UNITS_REF}{row.id}", "start_price_fen": start}


def _result(r: service.ImportResult) -> dict[str, Any]:
    return {"import_id": r.import_id, "rows": r.rows, "booked": r.booked, "skipped": r.skipped, "alerts": r.alerts}


@router.post("/emissions", summary="Post emission records (JSON); all are checked, then booked all or nothing")
def post_emissions(items: Annotated[list[EmissionItem], Field(min_length=1, max_length=20000)], db: Db,
                   caller: Caller) -> dict[str, Any]:
    return _result(service.record_emissions(db, [i.model_dump() for i in items], caller, "api", first_row=1))


@router.post("/emissions/import", summary="Import a CSV of emission records (enterprise,pollutant,time,value,unit)")
def import_emissions(db: Db, caller: Caller,
                     file: Annotated[UploadFile, File(description="CSV: enterprise (credit code), pollutant, time, "
                                                                  "value, unit (g, kg or t)")]) -> dict[str, Any]:
    name = Path(file.filename or "emissions.csv").name[:200]
    data = file.file.read(MAX_CSV + 1)
    if len(data) > MAX_CSV:
        raise InputError(N_("{file} is larger than {limit} MB"), file=name, limit=MAX_CSV >> 20)
    return _result(service.record_emissions(db, service.read_csv(data, name), caller, name, data))


@router.post("/project-checks", status_code=201, summary="May a new project go ahead? Not where the reserve is short")
def check(body: CheckRequest, db: Db, caller: Bureau) -> dict[str, Any]:
    row = service.check_project(db, body.project_name, body.county_code, body.year,
                                {p: grams(t) for p, t in body.needs.items()}, caller)
    return {"id": row.id, "allowed": row.allowed, "needs_t": {k: str(rules.tonnes(v)) for k, v in row.needs.items()},
            "reserve_t": {k: str(rules.tonnes(v)) for k, v in row.reserve.items()}}
