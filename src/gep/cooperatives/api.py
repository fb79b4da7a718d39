"""JSON API of two-mountain cooperatives and of a holder's own page. Thin: parse, call the service, shape."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.cooperatives import rules, service
from gep.cooperatives.models import AssetPackage, Cooperative, IntakeContract, Payment, Revenue
from gep.errors import N_, NotFound
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Code, Db, Id, Label, Name, OptName, RowId, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.regions import service as regions
from gep.registry import service as registry

router = APIRouter(prefix="/api/cooperatives", tags=["cooperatives"], responses=ERROR_RESPONSES)
Manager = Annotated[Principal, Depends(needs(service.MANAGE))]
Admin = Annotated[Principal, Depends(needs(service.ADMIN))]
ActingFor = Annotated[int | None, Query(ge=1, le=2**63 - 1, description="administrators: the cooperative's "
                                                                         "organisation to act for")]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), max_digits=15, decimal_places=2,
                                 description="yuan, at most two decimals (fen)")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CooperativeRequest(Body):
    organisation_id: RowId
    region_id: RowId
    county_code: Annotated[str, Field(max_length=40, pattern=r"^[0-9A-Za-z_.\-]*$")] = ""
    name: Name


class ContractRequest(Body):
    right_id: RowId
    mode: Literal["lease", "transfer", "trusteeship", "shareholding", "buyout", "acquisition"]
    start: date
    end: date | None = None
    annual_rent: Money = Decimal("0")
    lump_sum: Money = Decimal("0")
    revenue_share_pct: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] = Decimal("0")
    payment: Literal["annual", "once"] = "annual"
    document: OptName = ""


class PackageRequest(Body):
    code: Code
    name: Name
    contract_ids: list[RowId] = Field(default_factory=list, max_length=1000)
    description: Annotated[str, Field(max_length=2000)] = ""


class ItemsRequest(Body):
    contract_ids: list[RowId] = Field(min_length=1, max_length=1000)


class ValueRequest(Body):
    year: int | None = Field(default=None, ge=1900, le=2200)


class OfferRequest(Body):
    to: Literal["market", "bank"]


class RevenueRequest(Body):
    amount: Money
    received_on: date
    source: OptName = ""
    residue_account: OptName = ""
    idempotency_key: Label | None = None


class RentRequest(Body):
    year: int = Field(ge=1990, le=2200)


class CooperativeOut(BaseModel):
    organisation_id: int
    region_id: int
    county_code: str
    county_name: str
    holder_id: int | None


class ContractOut(BaseModel):
    id: int
    right_id: int
    parcel_id: int
    parcel_code: str
    holder_id: int
    holder: str | None
    mode: str
    start: date
    end: date | None
    annual_rent: str
    lump_sum: str
    revenue_share_pct: str
    payment: str
    area_m2: float
    status: str
    locked: bool


class PackageOut(BaseModel):
    id: int
    code: str
    name: str
    description: str
    status: str
    region_id: int
    area_m2: float
    contracts: list[ContractOut]
    parcels: list[dict[str, Any]]
    encumbrances: list[dict[str, Any]]
    vep: dict[str, Any]


class PayoutOut(BaseModel):
    contract_id: int
    holder_id: int
    holder: str | None
    amount: str


class RevenueOut(BaseModel):
    id: int
    package_id: int
    amount: str
    received_on: date
    source: str
    residue_account: str
    residue: str
    retained: str
    payouts: list[PayoutOut]


class PaymentOut(BaseModel):
    id: int
    contract_id: int
    holder_id: int
    kind: str
    period: str
    amount: str
    paid_on: date


class Paid(BaseModel):
    paid: int


def _yuan(fen: int) -> str:
    return f"{rules.from_fen(fen):.2f}"


def contracts_out(db: Session, cs: list[IntakeContract]) -> list[ContractOut]:
    holders = registry.holders_of(db, {c.holder_id for c in cs})
    parcels = {c.parcel_id: registry.get_parcel(db, c.parcel_id) for c in cs}
    locks = registry.locks_of(db, [c.right_id for c in cs])
    return [ContractOut(id=c.id, right_id=c.right_id, parcel_id=c.parcel_id, parcel_code=parcels[c.parcel_id].code,
                        holder_id=c.holder_id, holder=holders[c.holder_id].name if c.holder_id in holders else None,
                        mode=c.mode, start=c.start, end=c.end, annual_rent=_yuan(c.annual_rent_fen),
                        lump_sum=_yuan(c.lump_sum_fen), revenue_share_pct=c.revenue_share_pct, payment=c.payment,
                        area_m2=c.area_m2, status=c.status, locked=bool(locks.get(c.right_id))) for c in cs]


def package_out(db: Session, package: AssetPackage) -> PackageOut:
    v = service.view(db, package)
    return PackageOut(id=package.id, code=package.code, name=package.name, description=package.description,
                      status=package.status, region_id=package.region_id, area_m2=v.area_m2,
                      contracts=contracts_out(db, v.contracts),
                      parcels=[{"id": p.id, "code": p.code, "kind": p.kind, "area_m2": p.area_m2,
                                "geometry": json.loads(p.geojson)} for p in v.parcels],
                      encumbrances=v.encumbrances, vep=package.vep or {})


def revenue_out(db: Session, r: Revenue) -> RevenueOut:
    pays = list(db.scalars(select(Payment).where(Payment.revenue_id == r.id).order_by(Payment.id)))
    holders = registry.holders_of(db, {p.holder_id for p in pays})
    return RevenueOut(id=r.id, package_id=r.package_id, amount=_yuan(r.amount_fen), received_on=r.received_on,
                      source=r.source, residue_account=r.residue_account, residue=_yuan(r.residue_fen),
                      retained=_yuan(r.retained_fen),
                      payouts=[PayoutOut(contract_id=p.contract_id, holder_id=p.holder_id,
                                         holder=holders[p.holder_id].name if p.holder_id in holders else None,
                                         amount=_yuan(p.amount_fen)) for p in pays])


def payment_out(p: Payment) -> PaymentOut:
    return PaymentOut(id=p.id, contract_id=p.contract_id, holder_id=p.holder_id, kind=p.kind, period=p.period,
                      amount=_yuan(p.amount_fen), paid_on=p.paid_on)


def _coop_out(db: Session, c: Cooperative) -> CooperativeOut:
    county = regions.zone_names(db, c.region_id, [c.county_code]).get(c.county_code, "") if c.county_code else ""
    return CooperativeOut(organisation_id=c.organisation_id, region_id=c.region_id, county_code=c.county_code,
                          county_name=county, holder_id=c.holder_id)


@router.post("", status_code=201)
def register_cooperative(body: CooperativeRequest, caller: Admin, db: Db) -> CooperativeOut:
    """Make an organisation of kind cooperative a working cooperative of a region (or a county of it)."""
    return _coop_out(db, service.register_cooperative(db, body.organisation_id, body.region_id,
                                                      body.county_code, body.name, caller))


@router.get("/mine")
def mine(caller: Manager, db: Db, organisation_id: ActingFor = None) -> CooperativeOut:
    return _coop_out(db, service.my_cooperative(db, caller, organisation_id))


@router.get("/rights")
def available_rights(caller: Manager, db: Db, organisation_id: ActingFor = None,
                     village: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9A-Za-z_.\-]*$")] = None,
                     limit: Annotated[int, Query(ge=1, le=2000)] = 300) -> list[dict[str, Any]]:
    """Rights in the cooperative's area that are free to take in, with their parcels."""
    coop = service.my_cooperative(db, caller, organisation_id)
    rows = service.available_rights(db, coop, village, limit)
    rights = registry.describe_rights(db, [r for r, _ in rows])
    return [{**jsonable_encoder(r), "parcel": {"code": p.code, "kind": p.kind, "area_m2": p.area_m2,
                                                      "village_code": p.village_code,
                                                      "geometry": json.loads(p.geojson)}}
            for r, (_, p) in zip(rights, rows, strict=True)]


@router.post("/contracts", status_code=201)
def take_in(body: ContractRequest, caller: Manager, db: Db, organisation_id: ActingFor = None) -> ContractOut:
    """Sign an intake contract; the right is locked for the cooperative (a buy-out passes it over)."""
    coop = service.my_cooperative(db, caller, organisation_id)
    terms = rules.Terms(body.mode, body.start, body.end, rules.yuan(body.annual_rent, N_("the annual rent")),
                        rules.yuan(body.lump_sum, N_("the lump sum")), body.revenue_share_pct, body.payment)
    return contracts_out(db, [service.take_in(db, coop, body.right_id, terms, caller, body.document)])[0]


@router.get("/contracts")
def list_contracts(caller: Caller, db: Db, status: Annotated[str | None, Query(pattern="^(active|ended)$")] = None
                   ) -> list[ContractOut]:
    """Contracts the caller may see: a cooperative's own, or a villager's."""
    return contracts_out(db, service.contracts(db, status))


@router.post("/contracts/{contract_id}/end")
def end_contract(contract_id: Id, caller: Manager, db: Db) -> ContractOut:
    return contracts_out(db, [service.end_contract(db, contract_id, caller)])[0]


@router.get("/packages")
def list_packages(caller: Manager, db: Db) -> list[PackageOut]:
    return [package_out(db, p) for p in db.scalars(select(AssetPackage).order_by(AssetPackage.id))]


@router.post("/packages", status_code=201)
def create_package(body: PackageRequest, caller: Manager, db: Db, organisation_id: ActingFor = None) -> PackageOut:
    coop = service.my_cooperative(db, caller, organisation_id)
    return package_out(db, service.create_package(db, coop, body.code, body.name, list(body.contract_ids), caller,
                                                  body.description))


@router.get("/packages/{package_id}")
def get_package(package_id: Id, caller: Manager, db: Db) -> PackageOut:
    return package_out(db, service.get_package(db, package_id))


@router.post("/packages/{package_id}/items")
def add_items(package_id: Id, body: ItemsRequest, caller: Manager, db: Db) -> PackageOut:
    package = service.get_package(db, package_id)
    service.add_items(db, package, list(body.contract_ids), caller)
    return package_out(db, package)


@router.post("/packages/{package_id}/value")
def value_package(package_id: Id, body: ValueRequest, caller: Manager, db: Db) -> dict[str, Any]:
    """The package's ecological value (VEP), from the region's accounts of a year."""
    return service.value_package(db, service.get_package(db, package_id), body.year)


@router.post("/packages/{package_id}/offer")
def offer(package_id: Id, body: OfferRequest, caller: Manager, db: Db) -> PackageOut:
    """Bring the package to the exchange or to a bank."""
    return package_out(db, service.offer(db, service.get_package(db, package_id), body.to, caller))


@router.post("/packages/{package_id}/revenues", status_code=201)
def record_revenue(package_id: Id, body: RevenueRequest, caller: Manager, db: Db) -> RevenueOut:
    """Record what the package earned; it is shared out at once by the contracts (to the fen)."""
    revenue = service.record_revenue(db, service.get_package(db, package_id), body.amount, body.received_on, caller,
                                     body.source, body.residue_account, body.idempotency_key)
    return revenue_out(db, revenue)


@router.get("/packages/{package_id}/revenues")
def list_revenues(package_id: Id, caller: Manager, db: Db) -> list[RevenueOut]:
    service.get_package(db, package_id)
    return [revenue_out(db, r) for r in db.scalars(select(Revenue).where(Revenue.package_id == package_id)
                                                   .order_by(Revenue.id))]


@router.post("/rents")
def pay_rents(body: RentRequest, caller: Manager, db: Db, organisation_id: ActingFor = None) -> Paid:
    """Pay a year's rents of the active annual contracts (each once)."""
    return Paid(paid=service.pay_rents(db, service.my_cooperative(db, caller, organisation_id), body.year, caller))


@router.get("/me")
def my_page(caller: Caller, db: Db) -> dict[str, Any]:
    """A holder's own page: their rights, contracts and income."""
    holders = registry.my_holders(db, caller)
    ids = [h.id for h in holders]
    pays = service.payments_of(db, ids)
    return {"holders": [{"id": h.id, "name": h.name, "id_masked": h.id_masked} for h in holders],
            "rights": jsonable_encoder(registry.describe_rights(db, registry.rights_of_holders(db, ids))),
            "contracts": [c.model_dump(mode="json") for c in contracts_out(db, service.contracts(db, holder_ids=ids))],
            "payments": [payment_out(p).model_dump(mode="json") for p in pays],
            "total": _yuan(sum(p.amount_fen for p in pays))}


@router.get("/holders/{holder_id}/statement.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "the holder's statement"}})
def statement(holder_id: Id, request: Request, caller: Caller, db: Db) -> Response:
    """A holder's statement of payments (CSV): for the holder themself and for the cooperative that pays them."""
    holder = registry.holders_of(db, [holder_id]).get(holder_id)
    if holder is None and not service.contracts(db, holder_ids=[holder_id]):
        raise NotFound(N_("holder {id} does not exist"), id=holder_id)
    if holder is None:  # a cooperative sees the holders of its own contracts
        holder = registry.get_holder_unscoped(db, holder_id)
    lang = lang_of(request)
    body = service.statement_csv(db, holder, lang, request.app.state.platform.catalogues.gettext(lang))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="statement-{holder_id}.csv"'})

