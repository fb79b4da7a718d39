"""Use cases of the ledger: accounts, transfers posted as all-or-none batches, holds, statements, balance sheet.

Every domain that moves money (the exchange's deposits and settlements, cooperatives' payouts, loans,
compensation funds, rewards) does it here. A batch locks its accounts in id order (no deadlock between two
batches), lets the rules decide on the balances as they are, and writes the transfers and the new balances in
the caller's transaction. A batch has a key the caller chooses: the same key again returns what was done the
first time, so a retried request never moves money twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gep.db import add_once, found
from gep.errors import N_, InputError, NotFound
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.ledger import rules
from gep.ledger.models import LedgerAccount, LedgerTransfer

READ_ALL = "ledger.read_all"
PAYMENTS = "ledger.payments"  # record money coming in from outside, or going out

CODES = {  # why money moved: the words a statement shows (every domain posts with one of these)
    "payment_in": N_("paid in"), "payment_out": N_("paid out"), "reversal": N_("reversal"),
    "deposit": N_("bidding deposit"), "price": N_("purchase price"), "proceeds": N_("sale proceeds"),
    "fee": N_("trading fee"), "forfeit": N_("forfeited deposit"), "refund": N_("refund"),
    "coop_revenue": N_("a cooperative's revenue received"), "coop_share": N_("revenue share"),
    "coop_rent": N_("rent"), "coop_lump_sum": N_("lump sum"),
    "discharge_fee": N_("paid-use fee for discharge rights"), "discharge_buyback": N_("discharge rights bought back"),
    "loan_disbursement": N_("loan paid out"), "loan_principal": N_("loan principal repaid"),
    "loan_interest": N_("loan interest"), "loan_recovery": N_("loan recovered from its collateral"),
    "loan_surplus": N_("collateral proceeds beyond the loan"), "loan_write_off": N_("loan written off"),
    "compensation_stake": N_("stake in a compensation pool"),
    "compensation_payout": N_("compensation paid out of the pool"),
    "reward_payment": N_("reward paid out of a special fund"),
}

PLATFORM_ACCOUNTS = {  # purpose: (name msgid, kind, no_overdraft)
    "bank": (N_("the platform's bank account (money in and out)"), "asset", False),
    "escrow": (N_("escrow (deposits and prices held for trades)"), "liability", True),
    "fees": (N_("trading fees"), "revenue", True),
    "forfeits": (N_("forfeited deposits"), "revenue", True),
}


# -- accounts -------------------------------------------------------------------------------------------------

def open_account(session: Session, code: str, name: str, kind: str, purpose: str, organisation_id: int | None = None,
             user_id: int | None = None, no_overdraft: bool = False) -> LedgerAccount:
    """The account of this code, opened (once, even when two requests open it at the same moment) if new."""
    row, _added = add_once(session, LedgerAccount, {"code": code}, lambda: LedgerAccount(
        code=code, name=name, kind=kind, purpose=purpose, organisation_id=organisation_id, user_id=user_id,
        no_overdraft=no_overdraft, no_overcredit=False, debits_posted=0, credits_posted=0, debits_pending=0,
        credits_pending=0, created_at=now()))
    return row


def platform_account(session: Session, purpose: str) -> LedgerAccount:
    name, kind, no_overdraft = PLATFORM_ACCOUNTS[purpose]
    return open_account(session, f"platform:{purpose}", name, kind, purpose, no_overdraft=no_overdraft)


def funds_of(session: Session, organisation_id: int | None = None, user_id: int | None = None,
             name: str = "") -> LedgerAccount:
    """A participant's funds on the platform (an organisation's, or a person's without one): they cannot spend
    more than they hold."""
    if organisation_id is not None:
        return open_account(session, f"org:{organisation_id}:funds", name or f"organisation {organisation_id}",
                        "liability", "funds", organisation_id=organisation_id, no_overdraft=True)
    if user_id is None:
        raise InputError(N_("a participant's account belongs to an organisation or a user"))
    return open_account(session, f"user:{user_id}:funds", name or f"user {user_id}", "liability", "funds",
                    user_id=user_id, no_overdraft=True)


def funds_of_caller(session: Session, by: Principal) -> LedgerAccount:
    return funds_of(session, by.organisation_id, None if by.organisation_id is not None else by.user_id,
                    name=by.party_name)


def account_by_id(session: Session, account_id: int) -> LedgerAccount:
    """An account the caller may see (in a scoped session), or NotFound."""
    return found(session, LedgerAccount, account_id, N_("account {id} does not exist"))


def account_by_id_unscoped(session: Session, account_id: int | None) -> LedgerAccount:
    """An account by id whoever asks (a domain's own bookkeeping, not a caller's view)."""
    row = session.scalar(select(LedgerAccount).where(LedgerAccount.id == account_id)
                         .execution_options(skip_scope=True)) if account_id is not None else None
    if row is None:
        raise NotFound(N_("account {id} does not exist"), id=account_id)
    return row


# -- transfers ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    """One transfer of a batch: from (debit) one account to (credit) another, or the settling of a hold."""

    debit: int
    credit: int
    amount: int  # fen
    code: str
    kind: str = rules.PLAIN
    pending_id: int | None = None
    memo: str = ""
    ref: tuple[str, str] = ("", "")


@dataclass
class Batch:
    transfers: list[LedgerTransfer] = field(default_factory=list)
    replayed: bool = False  # the key was seen before: nothing moved this time


def post(session: Session, moves: Sequence[Move], key: str, by: Principal | None = None) -> Batch:
    """Post transfers all or none. `key` names the batch for good: the same key again changes nothing and
    returns the transfers of the first time."""
    if not moves:
        return Batch()
    if len(key) > 100:
        raise InputError(N_("a transfer key has at most 100 characters"))
    done = list(session.scalars(select(LedgerTransfer).where(LedgerTransfer.batch == key).order_by(LedgerTransfer.id)))
    if done:
        return Batch(done, replayed=True)
    holds = _holds(session, [m.pending_id for m in moves if m.pending_id is not None])
    ids = sorted({m.debit for m in moves} | {m.credit for m in moves} | {a for h in holds.values()
                                                                            for a in (h.debit, h.credit)})
    rows = {a.id: a for a in session.scalars(select(LedgerAccount).where(LedgerAccount.id.in_(ids))
                                             .order_by(LedgerAccount.id).with_for_update()
                                             .execution_options(skip_scope=True))}
    missing = [a for a in ids if a not in rows]
    if missing:
        raise rules.LedgerError(N_("account {id} does not exist"), id=missing[0])
    book = rules.Book({a.id: _rule_account(a) for a in rows.values()}, holds)
    pending: list[int] = []
    transfers = []
    for i, m in enumerate(moves):
        debit, credit, amount = m.debit, m.credit, m.amount
        if m.kind in (rules.POST, rules.VOID):
            hold = holds.get(m.pending_id or 0) or book.holds.get(m.pending_id or 0)
            if hold is None:
                raise rules.LedgerError(N_("hold {id} does not exist or was settled already"), id=m.pending_id)
            debit, credit = hold.debit, hold.credit
            amount = amount if m.kind == rules.POST else hold.amount
        t = LedgerTransfer(key=f"{key}:{i}", batch=key, kind=m.kind, debit_account_id=debit, credit_account_id=credit,
                           amount=amount, pending_id=m.pending_id, code=m.code[:40], memo=m.memo[:300],
                           ref_type=m.ref[0][:40], ref_id=str(m.ref[1])[:60], by_user_id=by.user_id if by else None,
                           created_at=now())
        session.add(t)
        session.flush()  # the transfer's id names its hold
        book = rules.apply(book, rules.Transfer(t.id, debit, credit, m.amount if m.kind != rules.VOID else 0, m.kind,
                                                m.pending_id))
        transfers.append(t)
        if m.kind == rules.PENDING:
            pending.append(t.id)
    for a in rows.values():
        new = book.accounts[a.id]
        a.debits_posted, a.credits_posted = new.debits_posted, new.credits_posted
        a.debits_pending, a.credits_pending = new.debits_pending, new.credits_pending
    try:
        session.flush()
    except IntegrityError:  # the hold was settled by someone else at the same moment
        raise rules.LedgerError(N_("a hold in this batch was settled already")) from None
    return Batch(transfers)


def _rule_account(a: LedgerAccount) -> rules.Account:
    return rules.Account(a.id, a.kind, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
                         a.no_overdraft, a.no_overcredit)


def _holds(session: Session, pending_ids: Sequence[int]) -> dict[int, rules.Hold]:
    """The open holds among these (a hold that was posted or voided is not open)."""
    if not pending_ids:
        return {}
    rows = list(session.scalars(select(LedgerTransfer).where(LedgerTransfer.id.in_(pending_ids),
                                                             LedgerTransfer.kind == rules.PENDING)
                                .with_for_update()))
    settled = set(session.scalars(select(LedgerTransfer.pending_id).where(
        LedgerTransfer.pending_id.in_(pending_ids))))
    return {t.id: rules.Hold(t.debit_account_id, t.credit_account_id, t.amount) for t in rows if t.id not in settled}


def hold(session: Session, debit: LedgerAccount, credit: LedgerAccount, amount: int, code: str, key: str,
         by: Principal | None = None, memo: str = "", ref: tuple[str, str] = ("", "")) -> LedgerTransfer:
    """Hold money (a deposit): it stays the payer's but cannot be spent until the hold is posted or voided."""
    return post(session, [Move(debit.id, credit.id, amount, code, rules.PENDING, memo=memo, ref=ref)], key,
                by).transfers[0]


def settle_hold(session: Session, pending_id: int, capture: bool, key: str, by: Principal | None = None,
                amount: int | None = None, code: str = "", memo: str = "") -> LedgerTransfer:
    """Post a hold (in full, or `amount` of it: the rest is released) or void it (all released)."""
    original = session.get(LedgerTransfer, pending_id)
    if original is None or original.kind != rules.PENDING:
        raise rules.LedgerError(N_("hold {id} does not exist or was settled already"), id=pending_id)
    kind = rules.POST if capture else rules.VOID
    move = Move(original.debit_account_id, original.credit_account_id, amount if amount is not None else
                original.amount, code or original.code, kind, pending_id, memo, (original.ref_type, original.ref_id))
    return post(session, [move], key, by).transfers[0]


def hold_open(session: Session, pending_id: int) -> bool:
    return bool(_holds(session, [pending_id]))


# -- money in and out -----------------------------------------------------------------------------------------

def payment_in(session: Session, account: LedgerAccount, amount: int, reference: str, by: Principal,
               key: str | None = None) -> LedgerTransfer:
    """Money a participant paid into the platform's bank account (a bank statement line, recorded by staff)."""
    by.require(PAYMENTS)
    bank = platform_account(session, "bank")
    t = post(session, [Move(bank.id, account.id, amount, "payment_in", memo=reference)],
             key or f"payment_in:{uuid.uuid4().hex}", by).transfers[0]
    audit(session, by, "payment_in", "ledger_account", account.id, amount_fen=amount, reference=reference)
    return t


def payment_out(session: Session, account: LedgerAccount, amount: int, reference: str, by: Principal,
                key: str | None = None) -> LedgerTransfer:
    """Money paid out of the platform to a participant (refused beyond what they hold)."""
    by.require(PAYMENTS)
    bank = platform_account(session, "bank")
    t = post(session, [Move(account.id, bank.id, amount, "payment_out", memo=reference)],
             key or f"payment_out:{uuid.uuid4().hex}", by).transfers[0]
    audit(session, by, "payment_out", "ledger_account", account.id, amount_fen=amount, reference=reference)
    return t


def reverse(session: Session, transfer_id: int, reason: str, by: Principal) -> LedgerTransfer:
    """Correct a mistaken transfer with one the other way (the original stays on record). Once: a second
    request returns the first reversal."""
    by.require(PAYMENTS)
    original = session.get(LedgerTransfer, transfer_id)
    if original is None:
        raise NotFound(N_("transfer {id} does not exist"), id=transfer_id)
    if original.kind != rules.PLAIN or original.code == "reversal":
        raise rules.LedgerError(N_("transfer {id} cannot be reversed: only a plain transfer is, once (a hold is "
                                   "voided instead)"), id=transfer_id)
    t = post(session, [Move(original.credit_account_id, original.debit_account_id, original.amount, "reversal",
                            memo=reason, ref=("ledger_transfer", str(original.id)))], f"reverse:{original.id}",
             by).transfers[0]
    audit(session, by, "reverse", "ledger_transfer", original.id, reason=reason, reversal=t.id)
    return t


# -- reading --------------------------------------------------------------------------------------------------

def my_accounts(session: Session, by: Principal) -> list[LedgerAccount]:
    """The accounts the caller may see (scoped: their own and their organisation's; all for staff)."""
    return list(session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)))


def statement(session: Session, account: LedgerAccount, limit: int = 200) -> list[dict[str, Any]]:
    """The account's transfers, newest first, with the posted balance after each (pending ones apart)."""
    rows = list(session.scalars(select(LedgerTransfer).where(or_(
        LedgerTransfer.debit_account_id == account.id, LedgerTransfer.credit_account_id == account.id))
        .order_by(LedgerTransfer.id)))
    names = {i: (n, c) for i, n, c in session.execute(select(LedgerAccount.id, LedgerAccount.name, LedgerAccount.code)
                                                        .execution_options(skip_scope=True)).all()}
    sign = -1 if account.kind == "asset" else 1
    balance = 0
    out = []
    for t in rows:
        incoming = t.credit_account_id == account.id
        posted = t.amount if t.kind in (rules.PLAIN, rules.POST) else 0
        balance += sign * (posted if incoming else -posted)
        out.append({"id": t.id, "at": t.created_at, "kind": t.kind, "code": t.code, "memo": t.memo,
                    "ref_type": t.ref_type, "ref_id": t.ref_id, "amount_fen": t.amount, "incoming": incoming,
                    "counterparty": names[t.debit_account_id if incoming else t.credit_account_id][0],
                    "counterparty_code": names[t.debit_account_id if incoming else t.credit_account_id][1],
                    "balance_fen": balance, "pending_id": t.pending_id})
    return list(reversed(out))[:limit]


def balance_sheet(session: Session, by: Principal) -> dict[str, Any]:
    """Every account's balance by kind, and whether debits equal credits across them all."""
    by.require(READ_ALL)
    accounts = list(session.scalars(select(LedgerAccount).order_by(LedgerAccount.kind, LedgerAccount.id)))
    book = rules.Book({a.id: _rule_account(a) for a in accounts}, {})
    totals: dict[str, int] = {}
    for a in accounts:
        totals[a.kind] = totals.get(a.kind, 0) + _rule_account(a).balance
    return {"accounts": accounts, "totals_fen": totals, "balanced": rules.balanced(book),
            "debits_fen": sum(a.debits_posted for a in accounts),
            "credits_fen": sum(a.credits_posted for a in accounts),
            "pending_debits_fen": sum(a.debits_pending for a in accounts),
            "pending_credits_fen": sum(a.credits_pending for a in accounts)}


def account_view(a: LedgerAccount) -> dict[str, Any]:
    r = _rule_account(a)
    return {"id": a.id, "code": a.code, "name": a.name, "kind": a.kind, "purpose": a.purpose,
            "organisation_id": a.organisation_id, "user_id": a.user_id, "balance_fen": r.balance,
            "available_fen": r.available if a.no_overdraft else None, "held_fen": a.debits_pending,
            "incoming_pending_fen": a.credits_pending}

