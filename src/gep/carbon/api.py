"""The forest carbon registry's JSON API: the public registry (projects, issuances, retirements, the retirement
search), a project's page, monitoring reports and their verification, issuance, and a holder's accounts with
transfers, offers on the exchange and retirements (send an Idempotency-Key: a retried retirement retires once)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gep.carbon import methodology, rules, service
from gep.carbon.models import CarbonProject, Issuance, MonitoringPeriod, Retirement, UnitAccount, UnitBlock, UnitMove
from gep.certificates.api import signer_of
from gep.errors import N_, InputError
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Code, Db, Id, IdempotencyKey, LongText, MaybeCaller, Name, OptName, RowId, needs
from gep.kit.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/carbon", tags=["carbon"], responses=ERROR_RESPONSES)
Developer = Annotated[Principal, Depends(needs(service.DEVELOP))]
Verifier = Annotated[Principal, Depends(needs(service.VERIFY))]
Issuer = Annotated[Principal, Depends(needs(service.ISSUE))]
Units = Annotated[int, Field(ge=1, le=10**12)]
Stock = Annotated[float, Field(ge=0, le=1e7)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StandRequest(Strict):
    parcel_code: Code
    species: Code


class ProjectRequest(Strict):
    name: Name
    type: Literal["afforestation", "forest_management", "bamboo"]
    methodology: Code = "bef-provincial-2011"
    region_id: RowId
    start: date
    crediting_years: int = Field(20, ge=1, le=60)
    stands: list[StandRequest] = Field(min_length=1, max_length=5000)


class Measurement(Strict):
    parcel_code: Code
    baseline_start: Stock
    baseline_end: Stock
    project_start: Stock
    project_end: Stock


class PeriodRequest(Strict):
    start: date
    end: date
    measurements: list[Measurement] = Field(min_length=1, max_length=5000)


class VerifyRequest(Strict):
    approve: bool
    verified_t: int | None = Field(None, ge=0, le=10**12)
    opinion: LongText


class TransferRequest(Strict):
    to_organisation_id: RowId
    to_name: OptName = ""
    quantity: Units
    project_id: RowId | None = None


class OfferRequest(Strict):
    quantity: Units
    title: OptName = ""
    project_id: RowId | None = None


class RetireRequest(Strict):
    purpose: Literal["event", "organisation", "court", "voluntary"]
    beneficiary: Name
    detail: LongText = ""
    quantity: Units | None = None
    project_id: RowId | None = None
    start: Units | None = None
    end: Units | None = None


class EstimateRequest(Strict):
    methodology: Code = "bef-provincial-2011"
    stands: list[dict[str, Any]] = Field(min_length=1, max_length=5000)


def project_view(p: CarbonProject) -> dict[str, Any]:
    return {"id": p.id, "code": p.code, "name": p.name, "type": p.type, "type_name": rules.PROJECT_TYPES[p.type],
            "methodology": p.methodology, "county_code": p.county_code, "developer": p.developer_name,
            "developer_org_id": p.developer_org_id, "start": p.start.isoformat(), "crediting_years": p.crediting_years,
            "area_ha": round(p.area_ha, 2), "lon": p.lon, "lat": p.lat, "issued_t": p.issued_t,
            "retired_t": p.retired_t, "flag": p.flag, "check": p.check, "synthetic": p.synthetic}


def issuance_view(i: Issuance, project: CarbonProject) -> dict[str, Any]:
    return {"id": i.id, "project_id": project.id, "project": project.code, "project_name": project.name,
            "vintage": i.vintage, "quantity": i.quantity, "start": i.start, "end": i.end,
            "serials": rules.serial_range(project.code, i.vintage, i.start, i.end),
            "issued_at": i.issued_at.isoformat(), "synthetic": project.synthetic}


def retirement_view(r: Retirement) -> dict[str, Any]:
    return {"id": r.id, "code": r.code, "holder": r.holder_name, "quantity": r.quantity, "purpose": r.purpose,
            "purpose_name": rules.PURPOSES[r.purpose], "beneficiary": r.beneficiary, "detail": r.detail,
            "ranges": r.ranges, "certificate_serial": r.certificate_serial, "at": r.at.isoformat(),
            "synthetic": r.synthetic}


def period_view(p: MonitoringPeriod, full: bool) -> dict[str, Any]:
    out = {"id": p.id, "start": p.start.isoformat(), "end": p.end.isoformat(), "state": p.state,
           "state_name": rules.PERIOD_STATES[p.state], "estimated_t": p.estimated_t, "verified_t": p.verified_t,
           "verifier": p.verifier_name, "opinion": p.opinion,
           "verified_at": p.verified_at.isoformat() if p.verified_at else None}
    if full:
        out |= {"estimate": p.estimate, "measurements": p.measurements}
    return out


@router.get("/registry", summary="The public carbon registry: projects, issuances, retirements, totals")
def registry_summary(db: Db) -> dict[str, Any]:
    projects = list(db.scalars(select(CarbonProject).order_by(CarbonProject.id)))
    by_id = {p.id: p for p in projects}
    issuances = list(db.scalars(select(Issuance).order_by(Issuance.id.desc()).limit(200)))
    retirements = list(db.scalars(select(Retirement).order_by(Retirement.id.desc()).limit(200)))
    issued = sum(p.issued_t for p in projects)
    retired = sum(p.retired_t for p in projects)
    return {"projects": [project_view(p) | {"geojson": p.geojson} for p in projects],
            "issuances": [issuance_view(i, by_id[i.project_id]) for i in issuances],
            "retirements": [retirement_view(r) for r in retirements],
            "totals": {"projects": len(projects), "issued_t": issued, "retired_t": retired,
                       "circulating_t": issued - retired, "flagged": sum(1 for p in projects if p.flag)}}


@router.get("/retirements", summary="Search retirements by code, beneficiary, holder, detail or a serial number")
def search_retirements(db: Db, q: Annotated[str, Query(max_length=100)] = "") -> list[dict[str, Any]]:
    return [retirement_view(r) for r in service.find_retirements(db, q)]


@router.get("/projects/{project_id}", summary="A project: stands, monitoring reports, issuances, unit moves")
def project_detail(project_id: Id, db: Db, caller: MaybeCaller) -> dict[str, Any]:
    p = service.get_project(db, project_id)
    staff = caller is not None and (caller.can(service.VERIFY) or caller.can(service.ISSUE) or
                                    caller.organisation_id == p.developer_org_id)
    developer = caller is not None and caller.organisation_id == p.developer_org_id
    periods = db.scalars(select(MonitoringPeriod).where(MonitoringPeriod.project_id == p.id)
                         .order_by(MonitoringPeriod.start))
    moves = db.scalars(select(UnitMove).where(UnitMove.project_id == p.id).order_by(UnitMove.id.desc()).limit(200))
    return {**project_view(p), "geojson": p.geojson,
            "stands": [{"parcel_code": s.parcel_code, "species": s.species, "area_ha": round(s.area_ha, 2)}
                       for s in service.stands_of(db, p.id)],
            "periods": [period_view(x, staff) for x in periods],
            "issuances": [issuance_view(i, p) for i in db.scalars(select(Issuance).where(Issuance.project_id == p.id)
                                                                  .order_by(Issuance.id))],
            "moves": [{"kind": m.kind, "vintage": m.vintage, "serials": rules.serial_range(p.code, m.vintage, m.start,
                                                                                            m.end),
                       "quantity": m.end - m.start + 1, "ref": m.ref, "at": m.at.isoformat()} for m in moves],
            "methodology_detail": methodology.load(p.methodology).as_dict(),
            "can_report": developer and caller is not None and caller.can(service.DEVELOP),
            "can_verify": not developer and caller is not None and caller.can(service.VERIFY),
            "can_issue": caller is not None and caller.can(service.ISSUE)}


@router.post("/projects", status_code=201, summary="Register a project on registry parcels (developers)")
def create_project(body: ProjectRequest, db: Db, caller: Developer) -> dict[str, Any]:
    p = service.create_project(db, body.name, body.type, body.methodology, body.region_id,
                               [service.StandInput(s.parcel_code, s.species) for s in body.stands], body.start, caller,
                               body.crediting_years)
    return project_view(p)


@router.post("/projects/{project_id}/periods", status_code=201, summary="A monitoring report (developers)")
def report(project_id: Id, body: PeriodRequest, db: Db, caller: Developer) -> dict[str, Any]:
    return period_view(service.report_period(db, project_id, body.start, body.end,
                                             [m.model_dump() for m in body.measurements], caller), True)


@router.post("/periods/{period_id}/submit", summary="Submit a monitoring report for verification")
def submit(period_id: Id, db: Db, caller: Developer) -> dict[str, Any]:
    return period_view(service.submit_period(db, period_id, caller), True)


@router.post("/periods/{period_id}/verify", summary="Verify or reject a monitoring report (verifiers)")
def verify(period_id: Id, body: VerifyRequest, db: Db, caller: Verifier) -> dict[str, Any]:
    return period_view(service.verify_period(db, period_id, body.approve, body.verified_t, body.opinion, caller), True)


@router.post("/periods/{period_id}/issue", summary="Issue the verified tonnes as serial-numbered units")
def issue(period_id: Id, db: Db, caller: Issuer) -> dict[str, Any]:
    row = service.issue(db, period_id, caller)
    project = service.get_project(db, row.project_id)
    return {**issuance_view(row, project), "check": project.check, "flag": project.flag}


def _account_view(db: Session, a: UnitAccount) -> dict[str, Any]:
    blocks = list(db.scalars(select(UnitBlock).where(UnitBlock.account_id == a.id, UnitBlock.state == "active")
                             .order_by(UnitBlock.project_id, UnitBlock.start)))
    codes = {pid: code for pid, code in db.execute(select(CarbonProject.id, CarbonProject.code)
                                                   .where(CarbonProject.id.in_({b.project_id for b in blocks})))}
    return {"id": a.id, "code": a.code, "name": a.name, "balance": sum(b.end - b.start + 1 for b in blocks),
            "blocks": [{"project_id": b.project_id, "project": codes[b.project_id], "vintage": b.vintage,
                        "start": b.start, "end": b.end, "quantity": b.end - b.start + 1,
                        "serials": rules.serial_range(codes[b.project_id], b.vintage, b.start, b.end)}
                       for b in blocks]}


@router.get("/accounts/my", summary="My unit accounts and the blocks they hold")
def my_accounts(db: Db, caller: Caller) -> list[dict[str, Any]]:
    return [_account_view(db, a) for a in service.my_accounts(db, caller)]


@router.post("/accounts/{account_id}/transfer", summary="Give units to another organisation")
def transfer(account_id: Id, body: TransferRequest, db: Db, caller: Developer) -> dict[str, Any]:
    moved = service.transfer(db, account_id, body.to_organisation_id, body.to_name, body.quantity, caller,
                             body.project_id)
    return {"moved": sum(b.end - b.start + 1 for b in moved)}


@router.post("/accounts/{account_id}/offer", status_code=201,
             summary="Set units aside for the exchange (a draft listing follows)")
def offer(account_id: Id, body: OfferRequest, db: Db, caller: Developer) -> dict[str, Any]:
    row = service.offer(db, account_id, body.quantity, body.title, caller, body.project_id)
    return {"id": row.id, "quantity": row.quantity, "units_ref": f"{service.UNITS_REF}{row.id}"}


@router.post("/accounts/{account_id}/retire", status_code=201,
             summary="Retire units for a purpose and beneficiary (send an Idempotency-Key header)")
def retire(account_id: Id, body: RetireRequest, request: Request, db: Db, caller: Developer,
           key: IdempotencyKey = None) -> dict[str, Any]:
    if key is None:
        raise InputError(N_("a retirement needs an Idempotency-Key header, so that a retried request does not "
                            "retire twice"))
    row = service.retire(db, service.RetireRequest(account_id, body.purpose, body.beneficiary, body.detail,
                                                   body.quantity, body.project_id, body.start, body.end),
                         f"{caller.user_id}:{key}", caller, signer_of(request))
    return retirement_view(row)


@router.get("/methods", summary="The carbon methodologies, every parameter with its source and verified flag")
def methods() -> list[dict[str, Any]]:
    return [methodology.load(m).as_dict() for m in methodology.available()]


@router.post("/estimate", summary="Estimate stands by a methodology (nothing is stored)")
def estimate(body: EstimateRequest) -> dict[str, Any]:
    m = methodology.load(body.methodology)
    out = []
    for i, s in enumerate(body.stands, start=1):
        try:
            stand = methodology.Stand(str(s.get("id", i)), str(s["species"]), float(s["area_ha"]),
                                      float(s.get("baseline_start", 0)), float(s.get("baseline_end", 0)),
                                      float(s["project_start"]), float(s["project_end"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(N_("stand {row}: species, area_ha, project_start and project_end are needed"),
                             row=i) from exc
        out.append(methodology.estimate(stand, m))
    return {"methodology": m.id, "stands": [e.as_dict() for e in out],
            "total_tco2": sum(e.removals_tco2 for e in out), "issuable_t": methodology.issuable(out),
            "unverified": m.unverified()}


@router.get("/stats", summary="Totals by vintage and purpose")
def stats(db: Db) -> dict[str, Any]:
    by_vintage = db.execute(select(Issuance.vintage, func.sum(Issuance.quantity)).group_by(Issuance.vintage)
                            .order_by(Issuance.vintage)).all()
    by_purpose = db.execute(select(Retirement.purpose, func.sum(Retirement.quantity))
                            .group_by(Retirement.purpose)).all()
    return {"issued_by_vintage": {int(v): int(q) for v, q in by_vintage},
            "retired_by_purpose": {str(p): int(q) for p, q in by_purpose}}
