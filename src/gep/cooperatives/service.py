"""Use cases of two-mountain cooperatives: take rights in, bundle them into packages with a value, bring a package
to the exchange or a bank, and share its revenue with the holders by their contracts.

Rights come in through the registry's service (its only door): a term-based intake (lease, transfer of
management, trusteeship, shares) locks the right for the cooperative until the contract ends; a buy-out or an
acquisition passes the right to the cooperative. A cooperative manager acts for their own cooperative only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gep.cooperatives import rules
from gep.cooperatives.models import AssetPackage, Cooperative, IntakeContract, PackageItem, Payment, Revenue
from gep.db import found
from gep.errors import N_, Conflict, InputError, PermissionDenied, Word
from gep.kit import events
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.ledger import service as ledger
from gep.ledger.models import LedgerAccount
from gep.registry import service as registry
from gep.registry.models import Holder, Parcel, Right

MANAGE = "cooperatives.manage"
READ_ALL = "cooperatives.read_all"
ADMIN = "cooperatives.admin"
OFFERED = "cooperatives.package_offered"  # outbox: the exchange (or a bank) picks the package up
PAID = "cooperatives.revenue_distributed"


# -- cooperatives --------------------------------------------------------------------------------------------

def register_cooperative(session: Session, organisation_id: int, region_id: int, county_code: str,
                         name: str, by: Principal) -> Cooperative:
    """Make an organisation of kind cooperative a working cooperative of a region (or one county of it); it is
    also a holder in the registry, for the rights it buys out."""
    by.require(ADMIN)
    found = session.get(Cooperative, organisation_id)
    if found is not None:
        return found
    holder = registry.find_or_add_holder(session, region_id, "organisation", name, organisation_id=organisation_id)
    coop = Cooperative(organisation_id=organisation_id, region_id=region_id, county_code=county_code,
                       holder_id=holder.id)
    session.add(coop)
    session.flush()
    audit(session, by, "register", "cooperative", organisation_id, region_id=region_id, county=county_code)
    return coop


def my_cooperative(session: Session, by: Principal, organisation_id: int | None = None) -> Cooperative:
    """The cooperative the caller acts for (an administrator names it)."""
    by.require(MANAGE)
    org = organisation_id if (organisation_id is not None and by.can(READ_ALL)) else by.organisation_id
    coop = session.get(Cooperative, org) if org is not None else None
    if coop is None:
        raise PermissionDenied(N_("you act for no cooperative: ask an administrator to register yours"))
    return coop


# -- intake ---------------------------------------------------------------------------------------------------

def available_rights(session: Session, coop: Cooperative, village: str | None = None, limit: int = 500
                     ) -> list[tuple[Right, Parcel]]:
    """Active rights in the cooperative's area that are free to take in (not locked), with their parcels."""
    q = (select(Right, Parcel).join(Parcel, Parcel.id == Right.parcel_id)
         .where(Parcel.region_id == coop.region_id, Parcel.active.is_(True), Right.active.is_(True),
                Right.type != "ownership"))
    if coop.county_code:
        q = q.where(Parcel.county_code == coop.county_code)
    if village:
        q = q.where(Parcel.village_code == village)
    if coop.holder_id is not None:
        q = q.where(Right.holder_id != coop.holder_id)
    rows = list(session.execute(q.order_by(Parcel.village_code, Parcel.code).limit(limit * 2)))
    locks = registry.locks_of(session, [r.id for r, _ in rows])
    return [(r, p) for r, p in rows if not locks.get(r.id)][:limit]


def take_in(session: Session, coop: Cooperative, right_id: int, terms: rules.Terms, by: Principal,
            document: str = "") -> IntakeContract:
    """Sign an intake contract: the right is locked for the cooperative (or passes to it, for a buy-out)."""
    by.require(MANAGE)
    right = registry.get_right(session, right_id)
    parcel = registry.get_parcel(session, right.parcel_id)
    if parcel.region_id != coop.region_id or (coop.county_code and parcel.county_code != coop.county_code):
        raise InputError(N_("right {id} is outside the cooperative's area"), id=right_id)
    problems = rules.check_terms(terms, right.start, right.end)
    if problems:
        raise InputError(problems[0], end=str(right.end))
    contract = IntakeContract(
        organisation_id=coop.organisation_id, right_id=right.id, parcel_id=parcel.id, holder_id=right.holder_id,
        mode=terms.mode, start=terms.start, end=terms.end, annual_rent_fen=rules.to_fen(terms.annual_rent),
        lump_sum_fen=rules.to_fen(terms.lump_sum), revenue_share_pct=str(terms.revenue_share_pct),
        payment=terms.payment, area_m2=parcel.area_m2, status="active", document=document, signed_at=now())
    session.add(contract)
    session.flush()
    if terms.mode in rules.TITLE_PASSES:
        if coop.holder_id is None:
            raise Conflict(N_("the cooperative has no holder record to receive rights"))
        registry.transfer(session, right.id, coop.holder_id, by, document=f"intake contract {contract.id}",
                          authorised=True)
        if terms.lump_sum > 0:
            _pay(session, contract, "lump_sum", "signing", terms.lump_sum, terms.start)
    else:
        name = _org_name(session, coop)
        contract.lock_id = registry.lock(session, right.id, "lease", name, by, terms.end,
                                         f"intake contract {contract.id}", coop.organisation_id, authorised=True)
    audit(session, by, "take_in", "coop_contract", contract.id, right=right.id, mode=terms.mode)
    return contract


def _org_name(session: Session, coop: Cooperative) -> str:
    holder = session.scalar(select(Holder).where(Holder.id == coop.holder_id).execution_options(skip_scope=True))
    return holder.name if holder is not None else f"cooperative {coop.organisation_id}"


def end_contract(session: Session, contract_id: int, by: Principal) -> IntakeContract:
    """End a term-based contract: the lock on the right is released (its holder has it back, free)."""
    by.require(MANAGE)
    contract = get_contract(session, contract_id)
    if contract.status != "active":
        raise Conflict(N_("contract {id} has ended already"), id=contract_id)
    if contract.lock_id:
        registry.release(session, contract.right_id, contract.lock_id, by, authorised=True)
    contract.status = "ended"
    audit(session, by, "end", "coop_contract", contract.id)
    return contract


def get_contract(session: Session, contract_id: int) -> IntakeContract:
    return found(session, IntakeContract, contract_id, N_("contract {id} does not exist"))


def contracts(session: Session, status: str | None = None, holder_ids: Iterable[int] | None = None
              ) -> list[IntakeContract]:
    q = select(IntakeContract)
    if status:
        q = q.where(IntakeContract.status == status)
    if holder_ids is not None:
        q = q.where(IntakeContract.holder_id.in_(list(holder_ids)))
    return list(session.scalars(q.order_by(IntakeContract.id)))


def terms_of(c: IntakeContract) -> rules.Terms:
    return rules.Terms(c.mode, c.start, c.end, rules.from_fen(c.annual_rent_fen), rules.from_fen(c.lump_sum_fen),
                       Decimal(c.revenue_share_pct), c.payment)


# -- packages -------------------------------------------------------------------------------------------------

def create_package(session: Session, coop: Cooperative, code: str, name: str, contract_ids: list[int],
                   by: Principal, description: str = "", synthetic: bool = False) -> AssetPackage:
    """Bundle active contracts of the cooperative into a package (each contract in one package at most)."""
    by.require(MANAGE)
    if session.scalar(select(AssetPackage.id).where(AssetPackage.organisation_id == coop.organisation_id,
                                                    AssetPackage.code == code)) is not None:
        raise Conflict(N_("the cooperative has a package {code} already"), code=code)
    package = AssetPackage(organisation_id=coop.organisation_id, region_id=coop.region_id, code=code, name=name,
                           description=description, status="draft", vep={}, synthetic=synthetic, created_at=now())
    session.add(package)
    session.flush()
    add_items(session, package, contract_ids, by)
    audit(session, by, "create", "coop_package", package.id, code=code, contracts=contract_ids)
    return package


def add_items(session: Session, package: AssetPackage, contract_ids: list[int], by: Principal) -> None:
    by.require(MANAGE)
    if package.status != "draft":
        raise Conflict(N_("package {code} is {status}: only a draft package can change"), code=package.code,
                       status=Word(rules.PACKAGE_STATES[package.status]))
    for cid in contract_ids:
        contract = get_contract(session, cid)
        if contract.organisation_id != package.organisation_id or contract.status != "active":
            raise InputError(N_("contract {id} is not an active contract of this cooperative"), id=cid)
        try:
            with session.begin_nested():
                session.add(PackageItem(package_id=package.id, contract_id=cid))
                session.flush()
        except IntegrityError:
            raise Conflict(N_("contract {id} is in another package already"), id=cid) from None


def get_package(session: Session, package_id: int) -> AssetPackage:
    return found(session, AssetPackage, package_id, N_("package {id} does not exist"))


def package_contracts(session: Session, package: AssetPackage) -> list[IntakeContract]:
    ids = list(session.scalars(select(PackageItem.contract_id).where(PackageItem.package_id == package.id)))
    return list(session.scalars(select(IntakeContract).where(IntakeContract.id.in_(ids)).order_by(
        IntakeContract.id))) if ids else []


@dataclass
class PackageView:
    package: AssetPackage
    contracts: list[IntakeContract]
    parcels: list[Parcel]
    rights: list[Right]
    area_m2: float
    encumbrances: list[dict[str, Any]]


def view(session: Session, package: AssetPackage) -> PackageView:
    """A package with what is in it: contracts, parcels, rights, area and every lock on those rights."""
    cs = package_contracts(session, package)
    parcels = [registry.get_parcel(session, c.parcel_id) for c in cs]
    rights = [registry.get_right(session, c.right_id) for c in cs]
    locks = registry.locks_of(session, [r.id for r in rights])
    encumbrances = [{"right_id": rid, "kind": k.kind, "holder": k.holder, "until": k.until.isoformat() if k.until
                     else None} for rid, ks in locks.items() for k in ks]
    return PackageView(package, cs, parcels, rights, sum(p.area_m2 for p in parcels), encumbrances)


def value_package(session: Session, package: AssetPackage, year: int | None = None) -> dict[str, Any]:
    """The package's VEP (its parcels' union) from the region's accounts of a year, kept on the package."""
    v = view(session, package)
    union = shapely.union_all([shapely.from_wkb(p.geometry) for p in v.parcels]) if v.parcels else \
        shapely.Polygon()
    result = registry.value_of(session, package.region_id, union, year)
    package.vep = result
    return result


def offer(session: Session, package: AssetPackage, to: str, by: Principal) -> AssetPackage:
    """Bring a valued package to the exchange or to a bank: a hand-off the exchange (or finance) picks up."""
    by.require(MANAGE)
    if package.status != "draft":
        raise Conflict(N_("package {code} is {status} already"), code=package.code,
                       status=Word(rules.PACKAGE_STATES[package.status]))
    if not package_contracts(session, package):
        raise InputError(N_("an empty package cannot be offered"))
    if not package.vep:
        value_package(session, package)
    package.status = {"market": "offered_market", "bank": "offered_bank"}[to]
    v = view(session, package)
    shapes = [shapely.from_geojson(p.geojson) for p in v.parcels]
    outline = shapely.union_all(shapes).simplify(0.00005) if shapes else None
    coop = session.get(Cooperative, package.organisation_id)
    counties = {p.county_code for p in v.parcels}
    events.record(session, OFFERED, actor_id=by.user_id, package_id=package.id, to=to,
                  organisation_id=package.organisation_id, gep_yuan=package.vep.get("gep_yuan"),
                  package_code=package.code, package_name=package.name, description=package.description,
                  cooperative_name=registry.get_holder_unscoped(session, coop.holder_id).name
                  if coop is not None and coop.holder_id is not None else "", region_id=package.region_id,
                  county_code=counties.pop() if len(counties) == 1 else "", area_m2=v.area_m2,
                  geojson=json.loads(shapely.to_geojson(outline)) if outline is not None else None,
                  vep={k: package.vep.get(k) for k in ("gep_yuan", "regulating_yuan", "run_id", "year")})
    audit(session, by, "offer", "coop_package", package.id, to=to)
    return package


# -- money ----------------------------------------------------------------------------------------------------

def holder_account(session: Session, holder: Holder) -> LedgerAccount:
    """Where a holder's rents, lump sums and shares are paid in the ledger: their own funds (a villager with a
    login sees them), from which the platform pays out to their bank."""
    account = ledger.open_account(session, f"holder:{holder.id}:funds", holder.name, "liability", "funds",
                                  user_id=holder.user_id, organisation_id=holder.organisation_id, no_overdraft=True)
    if holder.user_id is not None and account.user_id is None:  # linked to a login after the first payment
        account.user_id = holder.user_id
    return account


def cooperative_funds(session: Session, organisation_id: int) -> LedgerAccount:
    """The cooperative's funds in the ledger, under its name."""
    coop = session.get(Cooperative, organisation_id)
    name = _org_name(session, coop) if coop is not None else ""
    return ledger.funds_of(session, organisation_id, name=name)


def _pay(session: Session, contract: IntakeContract, kind: str, period: str, amount: Decimal, on: date,
         revenue_id: int | None = None) -> Payment:
    """A payment to a holder: a row of their statement and a transfer from the cooperative's funds in the ledger
    (refused, with nothing recorded, if the cooperative does not hold the money)."""
    row = Payment(organisation_id=contract.organisation_id, contract_id=contract.id, holder_id=contract.holder_id,
                  kind=kind, period=period, revenue_id=revenue_id, amount_fen=rules.to_fen(amount), paid_on=on)
    session.add(row)
    session.flush()
    if row.amount_fen > 0:
        holder = session.get(Holder, contract.holder_id)
        assert holder is not None  # a contract's holder is a foreign key
        ledger.post(session, [ledger.Move(cooperative_funds(session, contract.organisation_id).id,
                                          holder_account(session, holder).id, row.amount_fen, f"coop_{kind}",
                                          memo=f"contract {contract.id} {period}",
                                          ref=("coop_payment", str(row.id)))], key=f"coop_payment:{row.id}")
    return row


def record_revenue(session: Session, package: AssetPackage, amount: Decimal, received_on: date, by: Principal,
                   source: str = "", residue_account: str = "", idempotency_key: str | None = None,
                   received_outside: bool = True) -> Revenue:
    """Record what a package earned and share it out at once by its contracts (see rules.distribute). The same
    idempotency key twice records it once (a repeated click, a retried request).

    Money received outside the platform (a tenant's transfer to the cooperative's bank) enters the cooperative's
    funds in the ledger first; a sale on the exchange (`received_outside=False`) has paid them already. The
    shares leave them for the holders' accounts; the cooperative's own share and the rounding residue stay."""
    by.require(MANAGE)
    if idempotency_key:
        done = session.scalar(select(Revenue).where(Revenue.idempotency_key == idempotency_key))
        if done is not None:
            return done
    cs = package_contracts(session, package)
    shares = [rules.Share(c.id, c.holder_id, Decimal(str(c.area_m2)), Decimal(c.revenue_share_pct)) for c in cs]
    account = residue_account or f"{package.code} 舍入余额"
    d = rules.distribute(amount, shares, account)
    if not d.balanced:  # the rules promise it; a ledger does not take a promise on trust
        raise Conflict(N_("the distribution does not add up; nothing was recorded"))
    revenue = Revenue(organisation_id=package.organisation_id, package_id=package.id,
                      amount_fen=rules.to_fen(d.amount), received_on=received_on, source=source,
                      residue_account=account, residue_fen=rules.to_fen(d.residue),
                      retained_fen=rules.to_fen(d.retained), idempotency_key=idempotency_key, created_at=now())
    session.add(revenue)
    session.flush()
    if received_outside and revenue.amount_fen > 0:
        ledger.post(session, [ledger.Move(ledger.platform_account(session, "bank").id,
                                          cooperative_funds(session, package.organisation_id).id, revenue.amount_fen,
                                          "coop_revenue", memo=f"{package.code} {source}"[:300],
                                          ref=("coop_revenue", str(revenue.id)))],
                    key=f"coop_revenue:{revenue.id}", by=by)
    by_id = {c.id: c for c in cs}
    for p in d.payouts:
        _pay(session, by_id[p.contract_id], "share", f"revenue {revenue.id}", p.amount, received_on, revenue.id)
    session.flush()
    events.record(session, PAID, actor_id=by.user_id, revenue_id=revenue.id, package_id=package.id,
                  holders=sorted({p.holder_id for p in d.payouts}))
    audit(session, by, "distribute", "coop_revenue", revenue.id, amount=str(d.amount), residue=str(d.residue),
          retained=str(d.retained), payouts=len(d.payouts))
    return revenue


def pay_rents(session: Session, coop: Cooperative, year: int, by: Principal, on: date | None = None) -> int:
    """Pay a year's rents of the cooperative's active annual contracts (once each: a second call pays nothing)."""
    by.require(MANAGE)
    paid = 0
    existing = set(session.scalars(select(Payment.contract_id).where(
        Payment.organisation_id == coop.organisation_id, Payment.kind == "rent", Payment.period == str(year))))
    for c in session.scalars(select(IntakeContract).where(IntakeContract.organisation_id == coop.organisation_id,
                                                          IntakeContract.status == "active",
                                                          IntakeContract.payment == "annual",
                                                          IntakeContract.annual_rent_fen > 0)):
        if c.id in existing or c.start.year > year or (c.end is not None and c.end.year < year):
            continue
        _pay(session, c, "rent", str(year), rules.from_fen(c.annual_rent_fen), on or date(year, 12, 31))
        paid += 1
    audit(session, by, "pay_rents", "cooperative", coop.organisation_id, year=year, contracts=paid)
    return paid


def payments_of(session: Session, holder_ids: Iterable[int]) -> list[Payment]:
    ids = list(holder_ids)
    return list(session.scalars(select(Payment).where(Payment.holder_id.in_(ids)).order_by(
        Payment.paid_on, Payment.id))) if ids else []


STATEMENT_HEADER = {"zh": ["日期", "类型", "合同", "地块", "期间", "金额（元）"],
                    "en": ["date", "kind", "contract", "parcel", "period", "amount (yuan)"]}


def statement_csv(session: Session, holder: Holder, lang: str, gettext: Any) -> str:
    """A holder's statement: every payment, and the total (UTF-8 with BOM, so Excel reads Chinese)."""
    rows = payments_of(session, [holder.id])
    parcels = {c.id: c.parcel_id for c in contracts(session, holder_ids=[holder.id])}
    codes = {p.id: p.code for p in session.scalars(select(Parcel).where(Parcel.id.in_(set(parcels.values()))))}
    kinds = {"share": gettext("revenue share"), "rent": gettext("rent"), "lump_sum": gettext("lump sum")}
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow([f"{holder.name} ({holder.id_masked or '—'})"])
    out.writerow(STATEMENT_HEADER.get(lang, STATEMENT_HEADER["en"]))
    total = Decimal("0.00")
    for p in rows:
        amount = rules.from_fen(p.amount_fen)
        total += amount
        out.writerow([p.paid_on.isoformat(), kinds.get(p.kind, p.kind), p.contract_id,
                      codes.get(parcels.get(p.contract_id, 0), ""), p.period, f"{amount:.2f}"])
    out.writerow(["", gettext("total"), "", "", "", f"{total:.2f}"])
    return "\ufeff" + buf.getvalue()
