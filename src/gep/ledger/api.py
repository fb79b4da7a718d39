"""JSON API of the ledger: one's accounts and statements; staff record payments, reverse mistakes, and read the
balance sheet. Amounts are strings of yuan with two decimals (never floats)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Db, Id, IdempotencyKey, Limit, Name, RowId, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES
from gep.ledger import rules, service
from gep.ledger.models import LedgerAccount

router = APIRouter(prefix="/api/ledger", tags=["ledger"], responses=ERROR_RESPONSES)
Staff = Annotated[Principal, Depends(needs(service.PAYMENTS))]
Auditor = Annotated[Principal, Depends(needs(service.READ_ALL))]
Money = Annotated[Decimal, Field(gt=0, le=Decimal("1e13"), max_digits=16, decimal_places=2,
                                 description="yuan, at most two decimals (fen)")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentRequest(Body):
    account_id: RowId
    direction: Literal["in", "out"] = Field(description="in: the participant paid the platform's bank account; "
                                                        "out: the platform paid the participant")
    amount: Money
    reference: Name = Field(description="the bank statement line")


class ReverseRequest(Body):
    reason: Name


def view(a: LedgerAccount) -> dict[str, Any]:
    v = service.account_view(a)
    for k in [k for k in v if k.endswith("_fen")]:
        v[k.removesuffix("_fen")] = None if v[k] is None else str(rules.to_yuan(v[k]))
    return v


def transfer_view(t: Any) -> dict[str, Any]:
    return {"id": t.id, "kind": t.kind, "code": t.code, "amount": str(rules.to_yuan(t.amount)),
            "debit_account_id": t.debit_account_id, "credit_account_id": t.credit_account_id, "memo": t.memo,
            "pending_id": t.pending_id, "at": t.created_at}


@router.get("/accounts", summary="My accounts (staff: every account)")
def accounts(db: Db, caller: Caller) -> list[dict[str, Any]]:
    service.funds_of_caller(db, caller)  # a participant always has a funds account to pay into
    return [view(a) for a in service.my_accounts(db, caller)]


@router.get("/accounts/{account_id}", summary="An account and its statement, newest first")
def account(account_id: Id, db: Db, caller: Caller, limit: Limit = 200) -> dict[str, Any]:
    a = service.account_by_id(db, account_id)
    lines = service.statement(db, a, limit)
    for line in lines:
        line["amount"] = str(rules.to_yuan(line["amount_fen"]))
        line["balance"] = str(rules.to_yuan(line["balance_fen"]))
    return {"account": view(a), "statement": lines}


STATEMENT_HEADER = {"zh": ["日期", "流水号", "类别", "摘要", "对方账户", "收入（元）", "支出（元）", "冻结/解冻",
                           "余额（元）"],
                    "en": ["date", "transfer", "code", "memo", "counterparty", "in (yuan)", "out (yuan)", "hold",
                           "balance (yuan)"]}


def _cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/accounts/{account_id}/statement.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "the account's statement"}})
def statement_csv(account_id: Id, request: Request, db: Db, caller: Caller) -> Response:
    a = service.account_by_id(db, account_id)
    lang = lang_of(request)
    gettext = request.app.state.platform.catalogues.gettext(lang)
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow([_cell(gettext(a.name) if a.code.startswith("platform:") else a.name), a.code])
    out.writerow(STATEMENT_HEADER.get(lang, STATEMENT_HEADER["en"]))
    codes = service.CODES
    for line in reversed(service.statement(db, a, limit=1_000_000)):
        posted = line["kind"] in (rules.PLAIN, rules.POST)
        amount = str(rules.to_yuan(line["amount_fen"]))
        hold = "" if posted else (gettext("held") if line["kind"] == rules.PENDING else gettext("released"))
        out.writerow([line["at"].isoformat(timespec="seconds"), line["id"],
                      gettext(codes.get(line["code"], line["code"])),
                      _cell(line["memo"]),
                      _cell(gettext(line["counterparty"]) if line["counterparty_code"].startswith("platform:")
                            else line["counterparty"]), amount if posted and line["incoming"] else "",
                      amount if posted and not line["incoming"] else "", hold and f"{hold} {amount}",
                      str(rules.to_yuan(line["balance_fen"]))])
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="account-{account_id}.csv"'})


@router.get("/balance-sheet", summary="Every account's balance; whether debits equal credits")
def balance_sheet(db: Db, caller: Auditor) -> dict[str, Any]:
    sheet = service.balance_sheet(db, caller)
    return {"accounts": [view(a) for a in sheet["accounts"]], "balanced": sheet["balanced"],
            "totals": {k: str(rules.to_yuan(v)) for k, v in sheet["totals_fen"].items()},
            "debits": str(rules.to_yuan(sheet["debits_fen"])), "credits": str(rules.to_yuan(sheet["credits_fen"])),
            "pending_debits": str(rules.to_yuan(sheet["pending_debits_fen"])),
            "pending_credits": str(rules.to_yuan(sheet["pending_credits_fen"]))}


@router.post("/payments", status_code=201, summary="Record money paid in by a participant, or paid out to one",
             description="Send an Idempotency-Key header: the same key again records nothing new.")
def payment(body: PaymentRequest, db: Db, caller: Staff, key: IdempotencyKey = None) -> dict[str, Any]:
    a = service.account_by_id(db, body.account_id)
    fen = rules.to_fen(body.amount)
    scoped_key = f"payment:{caller.user_id}:{key}" if key else None
    move = service.payment_in if body.direction == "in" else service.payment_out
    return transfer_view(move(db, a, fen, body.reference, caller, scoped_key))


@router.post("/transfers/{transfer_id}/reverse", status_code=201, summary="Reverse a mistaken transfer (once)")
def reverse(transfer_id: Id, body: ReverseRequest, db: Db, caller: Staff) -> dict[str, Any]:
    return transfer_view(service.reverse(db, transfer_id, body.reason, caller))
