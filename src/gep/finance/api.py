"""The green-finance JSON API: products and banks, a quote (the terms and their reasons, nothing written), an
application, the bank's decisions (approve with its appraisals, reject), disbursement, repayment, default and
enforcement, the borrower's loans, a bank's workbench, and settlement records for trade-flow credit. Amounts are
yuan as decimal strings in requests and integer fen in answers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from gep.errors import N_, GepError, InputError
from gep.finance import rules, service
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Code, Db, Id, IdempotencyKey, OptName, RowId, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.registry import service as registry

router = APIRouter(prefix="/api/finance", tags=["finance"], responses=ERROR_RESPONSES)
Banker = Annotated[Principal, Depends(needs(service.LEND))]
Borrower = Annotated[Principal, Depends(needs(service.BORROW))]
Yuan = Annotated[Decimal, Field(gt=0, le=Decimal("1e10"), max_digits=14, decimal_places=2)]
MAX_CSV = 16 * 1024 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuoteRequest(Strict):
    product: Code
    months: int = Field(ge=1, le=360)
    right_ids: list[RowId] = Field(default_factory=list, max_length=20)


class ApplyRequest(QuoteRequest):
    bank_org_id: RowId
    amount_yuan: Yuan
    purpose: OptName = ""


class Appraisal(Strict):
    right_id: RowId
    value_yuan: Yuan


class ApproveRequest(Strict):
    amount_yuan: Yuan | None = None
    appraisals: list[Appraisal] = Field(default_factory=list, max_length=20)
    reason: OptName = ""


class RejectRequest(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def _localised(request: Request, view: dict[str, Any]) -> dict[str, Any]:
    """Each reason and problem of the terms also as a sentence in the caller's language (its words too)."""
    gettext = request.app.state.platform.catalogues.gettext(lang_of(request))
    terms = view.get("terms")
    if isinstance(terms, dict):
        for part in ("reasons", "problems"):
            for r in terms.get(part, []):
                params = {k: gettext(v) if isinstance(v, str) else v for k, v in r["params"].items()}
                r["text"] = GepError(r["message"], **params).localized(gettext)
    return view


@router.get("/products", summary="Loan products with their rules and sources, and the banks on the platform")
def products(db: Db, caller: Caller) -> dict[str, Any]:
    r = rules.rates()
    return {"products": [p.as_dict() for p in rules.products().values()],
            "rates": {"lpr_bp": r.lpr_bp, "floor_bp": r.floor_bp},
            "banks": [{"id": b.id, "name": b.name} for b in service.banks(db)]}


@router.get("/my-rights", summary="My rights that could back a loan (with their locks)")
def my_rights(db: Db, caller: Caller) -> list[dict[str, Any]]:
    holders = registry.my_holders(db, caller)
    rights = registry.rights_of_holders(db, [h.id for h in holders])
    parcels = {p.id: p for p in registry.parcels_by_id(db, {r.parcel_id for r in rights})}
    return [{**r, "parcel_kind": parcels[r["parcel_id"]].kind, "parcel_name": parcels[r["parcel_id"]].name,
             "parcel_code": parcels[r["parcel_id"]].code, "area_m2": parcels[r["parcel_id"]].area_m2}
            for r in registry.describe_rights(db, rights) if r["active"]]


@router.post("/quote", summary="The terms I would get: eligibility, limit, rate, with reasons (nothing is written)")
def quote(body: QuoteRequest, request: Request, db: Db, caller: Caller) -> dict[str, Any]:
    return _localised(request, service.quote(db, body.product, body.months, body.right_ids, caller))


@router.post("/loans", status_code=201, summary="Apply for a loan (the same Idempotency-Key again returns it)")
def apply(body: ApplyRequest, db: Db, caller: Borrower, key: IdempotencyKey = None) -> dict[str, Any]:
    if key is None:
        raise InputError(N_("an application carries an Idempotency-Key header"))
    loan = service.apply(db, body.product, body.bank_org_id, rules.fen(body.amount_yuan), body.months, body.right_ids,
                         body.purpose, caller, f"{caller.user_id}:{key}")
    return service.loan_view(db, loan, full=True)


@router.get("/loans", summary="My loans (as the borrower)")
def my_loans(db: Db, caller: Caller) -> list[dict[str, Any]]:
    return [service.loan_view(db, loan) for loan in service.my_loans(db, caller)]


@router.get("/loans/{loan_id}", summary="A loan with its terms, schedule, collateral and steps")
def loan(loan_id: Id, request: Request, db: Db, caller: Caller) -> dict[str, Any]:
    return _localised(request, service.loan_view(db, service.get_loan(db, loan_id), full=True))


@router.post("/loans/{loan_id}/approve", summary="Approve (the pledged rights are locked in the registry)")
def approve(loan_id: Id, body: ApproveRequest, db: Db, caller: Banker) -> dict[str, Any]:
    loan = service.approve(db, loan_id, caller, rules.fen(body.amount_yuan) if body.amount_yuan else None,
                           {a.right_id: rules.fen(a.value_yuan) for a in body.appraisals}, body.reason)
    return service.loan_view(db, loan, full=True)


@router.post("/loans/{loan_id}/reject", summary="Reject with a reason")
def reject(loan_id: Id, body: RejectRequest, db: Db, caller: Banker) -> dict[str, Any]:
    return service.loan_view(db, service.reject(db, loan_id, body.reason, caller))


@router.post("/loans/{loan_id}/withdraw", summary="Withdraw my application (before the money is paid out)")
def withdraw(loan_id: Id, db: Db, caller: Caller) -> dict[str, Any]:
    return service.loan_view(db, service.withdraw(db, loan_id, caller))


@router.post("/loans/{loan_id}/disburse", summary="Pay the loan out to the borrower's funds")
def disburse(loan_id: Id, db: Db, caller: Banker) -> dict[str, Any]:
    return service.loan_view(db, service.disburse(db, loan_id, caller), full=True)


@router.post("/loans/{loan_id}/repay", summary="Pay the next instalment from my funds")
def repay(loan_id: Id, db: Db, caller: Caller, key: IdempotencyKey = None) -> dict[str, Any]:
    if key is None:
        raise InputError(N_("a repayment carries an Idempotency-Key header"))
    i = service.repay(db, loan_id, caller, f"{caller.user_id}:{key}")
    return {"instalment": i.n, "principal_fen": i.principal_fen, "interest_fen": i.interest_fen,
            "loan": service.loan_view(db, service.get_loan(db, loan_id), full=True)}


@router.post("/loans/{loan_id}/default", summary="Declare the loan in default (an instalment long overdue)")
def default(loan_id: Id, db: Db, caller: Banker) -> dict[str, Any]:
    return service.loan_view(db, service.declare_default(db, loan_id, caller), full=True)


@router.post("/loans/{loan_id}/enforce", summary="Send the pledged rights to the exchange (draft listings)")
def enforce(loan_id: Id, db: Db, caller: Banker) -> dict[str, Any]:
    return service.loan_view(db, service.enforce(db, loan_id, caller), full=True)


@router.get("/workbench", summary="A bank's applications, portfolio by product, and pledged rights")
def workbench(db: Db, caller: Banker) -> dict[str, Any]:
    return service.workbench(db, caller)


@router.post("/settlements/import", summary="Import settled sales (subject,date,amount_yuan,counterpart,reference)")
def import_settlements(db: Db, caller: Banker,
                       file: Annotated[UploadFile, File(description="CSV, UTF-8")]) -> dict[str, Any]:
    name = Path(file.filename or "settlements.csv").name[:200]
    data = file.file.read(MAX_CSV + 1)
    if len(data) > MAX_CSV:
        raise InputError(N_("{file} is larger than {limit} MB"), file=name, limit=MAX_CSV >> 20)
    return service.import_settlements(db, data, name, caller)
