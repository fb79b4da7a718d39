"""Use cases of green finance: quotes and applications (the terms computed by the product's rule from the
borrower's credit grade, the accounts' GEP, the registry's rights and the settled turnover, shown with their
reasons), a bank's approval (the pledge locked in the registry) or rejection, disbursement and repayment
through the ledger, default, and enforcement (the pledged right goes to the exchange; what it fetches repays
the loan). A bank sees only its own loans, a borrower only theirs.

Money moves in the ledger, in integer fen, with a key per step, so a retried request never moves it twice:
disbursement debits the loan's principal account (the bank's claim) and credits the borrower's funds;
a repayment moves principal back and interest to the bank's interest income; enforcement proceeds repay the
principal and interest due, the rest goes to the borrower, a shortfall is written off to the bank's losses."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gep.auth.models import Organisation
from gep.credit import service as credit
from gep.credit.models import CreditSubject
from gep.db import found
from gep.errors import N_, Conflict, FileError, InputError, PermissionDenied, Problem, ProblemsError
from gep.finance import rules
from gep.finance.models import Collateral, Instalment, Loan, LoanStep, SettlementImport, SettlementRecord
from gep.kit import events
from gep.kit.audit import audit, now
from gep.kit.csvfile import read_rows
from gep.kit.notify import notify
from gep.kit.principal import SYSTEM, Principal
from gep.ledger import service as ledger
from gep.regions import service as regions
from gep.registry import service as registry

LEND = "finance.lend"  # a bank officer: decide, disburse, declare default, enforce, import settlements
BORROW = "finance.borrow"  # apply for a loan, repay it
READ_ALL = "finance.read_all"  # the supervisor: every bank's loans
ENFORCED = "finance.collateral_enforced"  # outbox: a defaulted loan's pledged right goes to the exchange
COLLATERAL_REF = "finance:"  # an exchange listing's collateral_ref: "finance:<loan code>:<right id>"
OVERDUE_DAYS = 90  # a loan may be declared in default 90 days after an instalment is missed [DERIVED: the
# five-tier loan classification counts 90 days overdue as non-performing; set the lending bank's own rule]


def today() -> date:
    return credit.today()


# -- reading --------------------------------------------------------------------------------------------------------

def get_loan(session: Session, loan_id: int) -> Loan:
    """A loan the caller may see (another bank's, or another borrower's, is not found)."""
    return found(session, Loan, loan_id, N_("loan {id} does not exist"))


def _lock_loan(session: Session, loan_id: int) -> Loan:
    get_loan(session, loan_id)  # visible to the caller, or NotFound
    loan = session.scalar(select(Loan).where(Loan.id == loan_id).with_for_update()
                          .execution_options(skip_scope=True, populate_existing=True))
    assert loan is not None
    return loan


def banks(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).where(Organisation.kind == "bank").order_by(Organisation.id)))


def _require_bank(loan: Loan, by: Principal) -> None:
    by.require(LEND)
    if by.organisation_id != loan.bank_org_id:
        raise PermissionDenied(N_("only {bank} decides on loan {code}"), bank=loan.bank_name, code=loan.code)


def _require_borrower(loan: Loan, by: Principal) -> None:
    mine = (loan.borrower_org_id is not None and loan.borrower_org_id == by.organisation_id) or (
        loan.borrower_org_id is None and loan.borrower_user_id is not None and loan.borrower_user_id == by.user_id)
    if not mine:
        raise PermissionDenied(N_("only the borrower may do this with loan {code}"), code=loan.code)


def _record(session: Session, loan: Loan, verb: str, by: Principal | None, **detail: Any) -> None:
    before = loan.state
    after = rules.step(before, verb)
    loan.state, loan.updated_at = after, now()
    session.add(LoanStep(loan_id=loan.id, verb=verb, before=before, after=after, by_user_id=by.user_id if by else None,
                         detail=json.loads(json.dumps(detail, default=str)), at=now()))
    audit(session, by, verb, "finance_loan", loan.id, code=loan.code, before=before, after=after, **detail)


def _tell_borrower(session: Session, loan: Loan, template: str, **params: Any) -> None:
    if loan.created_by is not None:
        notify(session, loan.created_by, template, link=f"/finance/loans/{loan.id}", kind="finance", code=loan.code,
               **params)


# -- the borrower and their collateral ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Borrower:
    kind: str
    name: str
    user_id: int | None
    organisation_id: int | None
    subject: CreditSubject | None


def borrower_of(session: Session, by: Principal) -> Borrower:
    """Who borrows when the caller applies: their organisation, or themselves."""
    s = credit.my_subject(session, by)
    if by.organisation_id is not None:
        return Borrower(s.kind if s else "enterprise", by.party_name, None, by.organisation_id, s)
    return Borrower(s.kind if s else "individual", s.name if s else by.party_name, by.user_id, None, s)


def _years_left(end: date | None) -> int:
    if end is None:
        return 0
    return max(0, end.year - today().year)


def collateral_facts(session: Session, right_ids: Sequence[int], borrower: Borrower | None,
                     appraisals: dict[int, int] | None = None, with_gep: bool = False) -> list[rules.Collateral]:
    """What the rules need of each right offered: its parcel, compensation, volume, years, GEP. With a
    borrower, each right must be theirs and free of locks now."""
    out = []
    holders = None
    if borrower is not None:  # the holders the borrower stands for, and the household their credit is rated as
        holders = {h.id for h in registry.my_holders(session, Principal(
            borrower.user_id, "borrower", "", borrower.organisation_id, frozenset(), "system"))}
        if borrower.subject is not None and borrower.subject.holder_id is not None:
            holders.add(borrower.subject.holder_id)
    if len(set(right_ids)) != len(right_ids):
        raise InputError(N_("a right is offered twice"))
    for right_id in right_ids:
        right = registry.get_right(session, right_id)
        if not right.active:
            raise Conflict(N_("right {id} has ended"), id=right_id)
        if holders is not None and right.holder_id not in holders:
            raise PermissionDenied(N_("right {id} is not the borrower's"), id=right_id)
        locks = registry.locks_of(session, [right_id]).get(right_id, [])
        if borrower is not None and locks:
            raise Conflict(N_("right {id} is locked ({kind}, by {holder}): it cannot be pledged"), id=right_id,
                           kind=locks[0].kind, holder=locks[0].holder)
        parcel = registry.get_parcel(session, right.parcel_id)
        gep = None
        if with_gep:
            try:
                gep = float(registry.value_of(session, parcel.region_id, shapely.from_wkb(parcel.geometry))["gep_yuan"])
            except InputError:
                gep = None
        attrs = parcel.attributes or {}
        length = parcel.length_m
        if not length and parcel.kind == "river_section":  # a river drawn as a strip: half its outline is its length
            length = float(shapely.from_wkb(parcel.geometry).length) / 2
        out.append(rules.Collateral(right.id, parcel.kind, parcel.area_m2, length,
                                    float(attrs.get("annual_compensation_yuan") or 0),
                                    float(attrs.get("water_volume_m3") or 0), _years_left(right.end), gep,
                                    (appraisals or {}).get(right.id)))
    return out


def _zone_gep(session: Session, s: CreditSubject | None) -> float | None:
    """GEP of the borrower's own zone (a village company: its village, else its township) from the latest
    finished accounts."""
    if s is None or s.region_id is None:
        return None
    code = s.village_code or s.township_code
    if not code:
        return None
    runs = regions.latest_runs(session, s.region_id)
    if not runs:
        return None
    values = regions.zone_values(session, runs[max(runs)], codes=[code])
    return values.get(code, {}).get("gep")


def turnover_fen(session: Session, subject_id: int | None, on: date | None = None) -> int:
    """Settled turnover of the 12 months before `on`."""
    if subject_id is None:
        return 0
    on = on or today()
    return int(session.scalar(select(func.coalesce(func.sum(SettlementRecord.amount_fen), 0)).where(
        SettlementRecord.subject_id == subject_id, SettlementRecord.on > on - timedelta(days=365),
        SettlementRecord.on <= on)) or 0)


def _applicant(session: Session, b: Borrower, p: rules.Product) -> rules.Applicant:
    c = credit.current(session)
    grade = credit.grade_of(session, b.subject.id) if b.subject is not None else None
    return rules.Applicant(b.kind, grade, [g for g, _ in c.grades],
                           _zone_gep(session, b.subject) if p.limit == "gep" else None,
                           turnover_fen(session, b.subject.id if b.subject else None) if p.limit == "turnover" else 0)


def quote(session: Session, product: str, months: int, right_ids: Sequence[int], by: Principal,
          borrower: Borrower | None = None) -> dict[str, Any]:
    """The terms the caller would get (nothing is written)."""
    p = rules.product(product)
    b = borrower or borrower_of(session, by)
    facts = collateral_facts(session, right_ids, b, with_gep=p.limit == "gep")
    t = rules.terms(p, _applicant(session, b, p), facts, months, rules.rates())
    return {"product": p.as_dict(), "borrower": {"kind": b.kind, "name": b.name,
                                                 "subject_id": b.subject.id if b.subject else None},
            "terms": t.as_dict()}


# -- the application and the decision ---------------------------------------------------------------------------

def apply(session: Session, product: str, bank_org_id: int, amount_fen: int, months: int, right_ids: Sequence[int],
          purpose: str, by: Principal, key: str, borrower: Borrower | None = None, synthetic: bool = False) -> Loan:
    """Apply to a bank. Refused at once when the rules say no (with every reason); the same key again returns
    the first application."""
    if borrower is None:
        by.require(BORROW)
    twin = session.scalar(select(Loan).where(Loan.key == key[:80]).execution_options(skip_scope=True))
    if twin is not None:
        return twin
    bank = session.get(Organisation, bank_org_id)
    if bank is None or bank.kind != "bank":
        raise InputError(N_("organisation {id} is not a bank"), id=bank_org_id)
    p = rules.product(product)
    b = borrower or borrower_of(session, by)
    facts = collateral_facts(session, right_ids, b, with_gep=p.limit == "gep")
    t = rules.terms(p, _applicant(session, b, p), facts, months, rules.rates())
    if not t.eligible:
        raise _refused(N_("{product} cannot be granted ({count} reason(s))"), p, t)
    if amount_fen <= 0 or amount_fen > t.limit_fen:
        raise InputError(N_("the amount must be more than 0 and at most the limit of {limit} yuan"),
                         limit=f"{Decimal(t.limit_fen) / 100:,.2f}")
    at = now()
    loan = Loan(code=f"pending-{key[:40]}", key=key[:80], product=p.code, bank_org_id=bank.id, bank_name=bank.name,
                borrower_kind=b.kind, borrower_subject_id=b.subject.id if b.subject else None,
                borrower_user_id=b.user_id, borrower_org_id=b.organisation_id, borrower_name=b.name,
                county_code=b.subject.county_code if b.subject else "", amount_fen=amount_fen, months=months,
                purpose=purpose.strip()[:300], grade=_grade_text(t, b, session), limit_fen=t.limit_fen,
                rate_bp=t.rate_bp, terms=t.as_dict(), state="applied", reason="", synthetic=synthetic,
                created_by=by.user_id, created_at=at, updated_at=at)
    session.add(loan)
    session.flush()
    loan.code = f"DK{at.year}{loan.id:06d}"
    for c in facts:
        right = registry.get_right(session, c.right_id)
        session.add(Collateral(loan_id=loan.id, right_id=c.right_id, parcel_id=right.parcel_id,
                               parcel_kind=c.parcel_kind, value_fen=t.values_fen.get(c.right_id), lock_id="",
                               state="proposed", proceeds_fen=0,
                               detail={"gep_yuan": c.gep_yuan, "annual_compensation_yuan": c.annual_compensation_yuan}))
    session.add(LoanStep(loan_id=loan.id, verb="apply", before="", after="applied", by_user_id=by.user_id,
                         detail={"amount_fen": amount_fen, "months": months, "limit_fen": t.limit_fen}, at=at))
    audit(session, by, "apply", "finance_loan", loan.id, code=loan.code, product=p.code, amount_fen=amount_fen)
    return loan


def _grade_text(t: rules.Terms, b: Borrower, session: Session) -> str:
    return (credit.grade_of(session, b.subject.id) or "") if b.subject is not None else ""


def _refused(template: str, p: rules.Product, t: rules.Terms) -> ProblemsError:
    return ProblemsError(template, [Problem(N_("terms"), x["message"], **x["params"]) for x in t.problems],
                         product=p.name_zh)


def approve(session: Session, loan_id: int, by: Principal, amount_fen: int | None = None,
            appraisals: dict[int, int] | None = None, reason: str = "") -> Loan:
    """The bank approves: the terms are computed again (with its appraisals, if any), the amount must be within
    the limit, and every pledged right is locked in the registry for the bank until the loan ends."""
    loan = _lock_loan(session, loan_id)
    _require_bank(loan, by)
    rules.step(loan.state, "approve")
    p = rules.product(loan.product)
    collaterals = list(session.scalars(select(Collateral).where(Collateral.loan_id == loan.id)
                                       .order_by(Collateral.id)))
    b = Borrower(loan.borrower_kind, loan.borrower_name, loan.borrower_user_id, loan.borrower_org_id,
                 credit.subject_unscoped(session, loan.borrower_subject_id) if loan.borrower_subject_id else None)
    unknown = set(appraisals or {}) - {c.right_id for c in collaterals}
    if unknown:
        raise InputError(N_("right {id} is not pledged for this loan"), id=min(unknown))
    facts = collateral_facts(session, [c.right_id for c in collaterals], None, appraisals,
                             with_gep=p.limit == "gep")
    t = rules.terms(p, _applicant(session, b, p), facts, loan.months, rules.rates())
    if not t.eligible:
        raise _refused(N_("{product} can no longer be granted ({count} reason(s))"), p, t)
    amount = amount_fen if amount_fen is not None else min(loan.amount_fen, t.limit_fen)
    if amount <= 0 or amount > t.limit_fen:
        raise InputError(N_("the amount must be more than 0 and at most the limit of {limit} yuan"),
                         limit=f"{Decimal(t.limit_fen) / 100:,.2f}")
    end = rules.add_months(today(), loan.months)
    for c in collaterals:
        c.lock_id = registry.lock(session, c.right_id, "pledge", loan.bank_name, by, until=end, ref=loan.code,
                                  holder_organisation_id=loan.bank_org_id, authorised=True)
        c.state = "pledged"
        if appraisals and c.right_id in appraisals:
            c.appraisal_fen = appraisals[c.right_id]
        c.value_fen = t.values_fen.get(c.right_id, c.value_fen)
    loan.amount_fen, loan.limit_fen, loan.rate_bp, loan.terms = amount, t.limit_fen, t.rate_bp, t.as_dict()
    loan.reason = reason.strip()[:500]
    _record(session, loan, "approve", by, amount_fen=amount, rate_bp=t.rate_bp, pledged=[c.right_id for c in
                                                                                          collaterals])
    _tell_borrower(session, loan, N_("Loan {code} is approved: {amount} yuan at {rate} %"),
                   amount=f"{Decimal(amount) / 100:,.2f}", rate=f"{Decimal(t.rate_bp) / 100:.2f}")
    return loan


def reject(session: Session, loan_id: int, reason: str, by: Principal) -> Loan:
    loan = _lock_loan(session, loan_id)
    _require_bank(loan, by)
    if not reason.strip():
        raise InputError(N_("a rejection gives its reason"))
    loan.reason = reason.strip()[:500]
    _record(session, loan, "reject", by, reason=loan.reason)
    _tell_borrower(session, loan, N_("Loan {code} was rejected: {reason}"), reason=loan.reason)
    return loan


def withdraw(session: Session, loan_id: int, by: Principal) -> Loan:
    """The borrower withdraws before the money is paid out; pledges are released."""
    loan = _lock_loan(session, loan_id)
    _require_borrower(loan, by)
    _record(session, loan, "withdraw", by)
    _release(session, loan, by)
    return loan


def _release(session: Session, loan: Loan, by: Principal | None) -> None:
    for c in session.scalars(select(Collateral).where(Collateral.loan_id == loan.id, Collateral.state == "pledged")):
        held = {k.id for k in registry.locks_of(session, [c.right_id]).get(c.right_id, [])}
        if c.lock_id in held:
            registry.release(session, c.right_id, c.lock_id, by or SYSTEM, authorised=True)
        c.state = "released"


# -- money ------------------------------------------------------------------------------------------------------------

def principal_account(session: Session, loan: Loan) -> Any:
    return ledger.open_account(session, f"loan:{loan.id}:principal", f"{loan.code} {loan.borrower_name}", "asset",
                               "loan_principal", organisation_id=loan.bank_org_id)


def interest_account(session: Session, bank_org_id: int, bank_name: str) -> Any:
    return ledger.open_account(session, f"bank:{bank_org_id}:interest", f"{bank_name} interest income", "revenue",
                               "loan_interest", organisation_id=bank_org_id)


def losses_account(session: Session, bank_org_id: int, bank_name: str) -> Any:
    return ledger.open_account(session, f"bank:{bank_org_id}:losses", f"{bank_name} loan losses", "equity",
                               "loan_losses", organisation_id=bank_org_id)


def proceeds_account(session: Session, loan: Loan) -> Any:
    return ledger.open_account(session, f"loan:{loan.id}:proceeds", f"{loan.code} collateral proceeds", "liability",
                               "loan_proceeds", organisation_id=loan.bank_org_id, no_overdraft=True)


def borrower_funds(session: Session, loan: Loan) -> Any:
    """The borrower's funds: their organisation's or their own; a household without an account on the platform
    (rated through the registry) gets one with the lending bank."""
    if loan.borrower_org_id is None and loan.borrower_user_id is None:
        return ledger.open_account(session, f"loan-borrower:{loan.borrower_subject_id}:funds",
                                   f"{loan.borrower_name} ({loan.bank_name})", "liability", "funds",
                                   organisation_id=loan.bank_org_id, no_overdraft=True)
    return ledger.funds_of(session, loan.borrower_org_id, loan.borrower_user_id if loan.borrower_org_id is None
                           else None, name=loan.borrower_name)


def disburse(session: Session, loan_id: int, by: Principal, on: date | None = None) -> Loan:
    """Pay the loan out to the borrower's funds and fix the schedule from this day."""
    loan = _lock_loan(session, loan_id)
    _require_bank(loan, by)
    rules.step(loan.state, "disburse")
    on = on or today()
    principal, funds = principal_account(session, loan), borrower_funds(session, loan)
    ledger.post(session, [ledger.Move(principal.id, funds.id, loan.amount_fen, "loan_disbursement", memo=loan.code,
                                      ref=("finance_loan", str(loan.id)))], key=f"loan:{loan.id}:disburse", by=by)
    p = rules.product(loan.product)
    for i in rules.schedule(loan.amount_fen, loan.rate_bp, loan.months, on, p.repayment):
        session.add(Instalment(loan_id=loan.id, n=i.n, due_on=i.due_on, principal_fen=i.principal_fen,
                               interest_fen=i.interest_fen, paid_principal_fen=0, paid_interest_fen=0, state="due"))
    loan.principal_account_id, loan.borrower_account_id, loan.disbursed_on = principal.id, funds.id, on
    _record(session, loan, "disburse", by, amount_fen=loan.amount_fen, on=on.isoformat())
    _tell_borrower(session, loan, N_("Loan {code}: {amount} yuan paid into your funds"),
                   amount=f"{Decimal(loan.amount_fen) / 100:,.2f}")
    return loan


def instalments(session: Session, loan_id: int) -> list[Instalment]:
    return list(session.scalars(select(Instalment).where(Instalment.loan_id == loan_id).order_by(Instalment.n)))


def outstanding_fen(session: Session, loan: Loan) -> int:
    """Principal not yet repaid (what the principal account holds)."""
    return sum(i.principal_fen - i.paid_principal_fen for i in instalments(session, loan.id)
               if i.state != "written_off")


def repay(session: Session, loan_id: int, by: Principal, key: str, authorised: bool = False) -> Instalment:
    """Pay the next instalment (principal and interest) from the borrower's funds; the last one settles the
    loan and releases its pledges. The same key again pays nothing more."""
    loan = _lock_loan(session, loan_id)
    if not authorised:
        _require_borrower(loan, by)
    done = session.scalar(select(LoanStep).where(LoanStep.loan_id == loan.id, LoanStep.verb == "repay",
                                                 LoanStep.detail["key"].as_string() == key[:80]))
    due = [i for i in instalments(session, loan.id) if i.state == "due"]
    if done is not None:
        paid = session.get(Instalment, int(done.detail["instalment_id"]))
        assert paid is not None
        return paid
    rules.step(loan.state, "repay")
    if not due:
        raise Conflict(N_("loan {code} has nothing left to repay"), code=loan.code)
    i = due[0]
    funds = borrower_funds(session, loan)
    principal = ledger.account_by_id_unscoped(session, loan.principal_account_id)
    interest = interest_account(session, loan.bank_org_id, loan.bank_name)
    owed = i.principal_fen + i.interest_fen
    if ledger.account_view(funds)["available_fen"] < owed:
        raise Conflict(N_("your funds hold {available} yuan; instalment {n} is {owed} yuan: pay in first"),
                       available=f"{Decimal(ledger.account_view(funds)['available_fen']) / 100:,.2f}", n=i.n,
                       owed=f"{Decimal(owed) / 100:,.2f}")
    moves = []
    if i.principal_fen:
        moves.append(ledger.Move(funds.id, principal.id, i.principal_fen, "loan_principal", memo=f"{loan.code} #{i.n}",
                                 ref=("finance_loan", str(loan.id))))
    if i.interest_fen:
        moves.append(ledger.Move(funds.id, interest.id, i.interest_fen, "loan_interest", memo=f"{loan.code} #{i.n}",
                                 ref=("finance_loan", str(loan.id))))
    ledger.post(session, moves, key=f"loan:{loan.id}:repay:{i.n}", by=by)
    i.paid_principal_fen, i.paid_interest_fen, i.paid_at, i.state = i.principal_fen, i.interest_fen, now(), "paid"
    _record(session, loan, "repay", by, instalment=i.n, instalment_id=i.id, key=key[:80],
            principal_fen=i.principal_fen, interest_fen=i.interest_fen)
    if len(due) == 1:
        _record(session, loan, "settle", by)
        _release(session, loan, by)
        _tell_borrower(session, loan, N_("Loan {code} is repaid in full; its pledges are released"))
    return i


def overdue(session: Session, loan: Loan, on: date | None = None) -> list[Instalment]:
    on = on or today()
    return [i for i in instalments(session, loan.id) if i.state == "due" and i.due_on < on]


def declare_default(session: Session, loan_id: int, by: Principal, on: date | None = None) -> Loan:
    """The bank declares a loan in default once an instalment is more than OVERDUE_DAYS late."""
    loan = _lock_loan(session, loan_id)
    _require_bank(loan, by)
    on = on or today()
    late = [i for i in overdue(session, loan, on) if (on - i.due_on).days > OVERDUE_DAYS]
    if not late:
        raise Conflict(N_("loan {code} has no instalment more than {days} days overdue"), code=loan.code,
                       days=OVERDUE_DAYS)
    _record(session, loan, "default", by, instalment=late[0].n, due_on=late[0].due_on.isoformat(),
            on=on.isoformat())
    _tell_borrower(session, loan, N_("Loan {code} is in default: instalment {n} was due on {due}"), n=late[0].n,
                   due=late[0].due_on.isoformat())
    return loan


def enforce(session: Session, loan_id: int, by: Principal) -> Loan:
    """Put the pledged rights of a defaulted loan on the exchange: a draft listing of the bank's for each, its
    proceeds paid into the loan's proceeds account."""
    loan = _lock_loan(session, loan_id)
    _require_bank(loan, by)
    pledged = list(session.scalars(select(Collateral).where(Collateral.loan_id == loan.id,
                                                            Collateral.state == "pledged")))
    if not pledged:
        raise Conflict(N_("loan {code} has no pledged right to enforce"), code=loan.code)
    _record(session, loan, "enforce", by, rights=[c.right_id for c in pledged])
    proceeds = proceeds_account(session, loan)
    owed = outstanding_fen(session, loan)
    for c in pledged:
        c.state = "on_sale"
        parcel = registry.get_parcel(session, c.parcel_id)
        start = max(100, min(c.value_fen or owed, owed) // 100 * 100)
        events.record(session, ENFORCED, actor_id=by.user_id,
                      collateral_ref=f"{COLLATERAL_REF}{loan.code}:{c.right_id}", right_id=c.right_id,
                      pledge_ref=loan.code, loan_id=loan.id, parcel_kind=c.parcel_kind, bank_org_id=loan.bank_org_id,
                      bank_name=loan.bank_name, borrower_name=loan.borrower_name, seller_account_id=proceeds.id,
                      start_price_fen=start, title=f"{parcel.name or parcel.code}（{loan.code} 抵押物处置）")
    _tell_borrower(session, loan, N_("Loan {code}: the pledged rights go to the exchange"))
    return loan


def sold(session: Session, collateral_ref: str, amount_fen: int, listing: str) -> None:
    """A pledged right was sold: its proceeds repay the loan (principal, then interest due); once every
    pledged right is settled the rest goes to the borrower, a shortfall is written off, the loan closes."""
    loan, c = _by_ref(session, collateral_ref)
    if loan is None or c is None or c.state == "sold":
        return
    c.state, c.proceeds_fen = "sold", amount_fen
    if any(x.state == "on_sale" for x in session.scalars(select(Collateral).where(Collateral.loan_id == loan.id))):
        return
    _close_by_enforcement(session, loan, listing)


def _close_by_enforcement(session: Session, loan: Loan, listing: str) -> None:
    proceeds = proceeds_account(session, loan)
    available = int(ledger.account_view(proceeds)["available_fen"])
    principal = ledger.account_by_id_unscoped(session, loan.principal_account_id)
    interest = interest_account(session, loan.bank_org_id, loan.bank_name)
    due = [i for i in instalments(session, loan.id) if i.state == "due"]
    owed_principal = sum(i.principal_fen for i in due)
    owed_interest = sum(i.interest_fen for i in due if i.due_on <= today())
    to_principal = min(available, owed_principal)
    to_interest = min(available - to_principal, owed_interest)
    surplus = available - to_principal - to_interest
    shortfall = owed_principal - to_principal
    moves = [ledger.Move(proceeds.id, principal.id, to_principal, "loan_recovery", memo=loan.code,
                         ref=("finance_loan", str(loan.id)))] if to_principal else []
    if to_interest:
        moves.append(ledger.Move(proceeds.id, interest.id, to_interest, "loan_interest", memo=loan.code,
                                 ref=("finance_loan", str(loan.id))))
    if surplus:
        moves.append(ledger.Move(proceeds.id, borrower_funds(session, loan).id, surplus, "loan_surplus",
                                 memo=loan.code, ref=("finance_loan", str(loan.id))))
    if shortfall:
        moves.append(ledger.Move(losses_account(session, loan.bank_org_id, loan.bank_name).id, principal.id, shortfall,
                                 "loan_write_off", memo=loan.code, ref=("finance_loan", str(loan.id))))
    ledger.post(session, moves, key=f"loan:{loan.id}:recover", by=SYSTEM)
    for i in due:
        i.state, i.paid_at = ("paid" if shortfall == 0 else "written_off"), now()
    _record(session, loan, "recover", SYSTEM, listing=listing, recovered_fen=to_principal + to_interest,
            surplus_fen=surplus, written_off_fen=shortfall)
    _tell_borrower(session, loan, N_("Loan {code} is closed by the sale of its collateral"))


def unsold(session: Session, collateral_ref: str) -> None:
    """A pledged right's listing ended without a sale: the exchange pledged it back to the bank; the loan is
    in default again (the bank may list it once more)."""
    loan, c = _by_ref(session, collateral_ref)
    if loan is None or c is None or c.state != "on_sale":
        return
    locks = registry.locks_of(session, [c.right_id]).get(c.right_id, [])
    c.lock_id = next((k.id for k in locks if k.kind == "pledge" and k.ref == loan.code), "")
    c.state = "pledged"
    if loan.state == "enforcing" and not any(
            x.state == "on_sale" for x in session.scalars(select(Collateral).where(Collateral.loan_id == loan.id))):
        _record(session, loan, "unsold", SYSTEM)


def _by_ref(session: Session, ref: str) -> tuple[Loan | None, Collateral | None]:
    if not ref.startswith(COLLATERAL_REF):
        return None, None
    code, _, right = ref[len(COLLATERAL_REF):].rpartition(":")
    loan = session.scalar(select(Loan).where(Loan.code == code).with_for_update().execution_options(skip_scope=True))
    if loan is None or not right.isdigit():
        return None, None
    c = session.scalar(select(Collateral).where(Collateral.loan_id == loan.id, Collateral.right_id == int(right)))
    return loan, c


# -- settlement records (trade-flow credit) ----------------------------------------------------------------------

SETTLEMENT_COLUMNS = ("subject", "date", "amount_yuan", "counterpart", "reference")


def import_settlements(session: Session, data: bytes, filename: str, by: Principal, synthetic: bool = False
                       ) -> dict[str, int]:
    """Settled sales from a CSV (subject code, date, amount in yuan, counterpart, reference): all checked, every
    bad row named, recorded all or nothing; a row recorded before (same subject and reference) is skipped."""
    by.require(LEND)
    digest = hashlib.sha256(data).hexdigest()
    if session.scalar(select(SettlementImport.id).where(SettlementImport.digest == digest)) is not None:
        return {"recorded": 0, "skipped": 0, "rows": 0, "again": 1}
    rows = read_rows(data, filename, ("subject",))
    codes = {r.get("subject", "").strip() for r in rows}
    subjects = {s.code: s.id for s in session.scalars(select(CreditSubject).where(CreditSubject.code.in_(codes))
                                                      .execution_options(skip_scope=True))}
    known = {(s, r) for s, r in session.execute(select(SettlementRecord.subject_id, SettlementRecord.reference)
                                                .where(SettlementRecord.subject_id.in_(subjects.values())))}
    problems: list[Problem] = []
    ok: list[tuple[int, date, int, str, str]] = []
    seen: dict[tuple[int, str], int] = {}
    skipped = 0
    for n, r in enumerate(rows, start=2):
        def bad(column: str, message: str, n: int = n, **params: Any) -> None:
            problems.append(Problem(N_("row {row}, {field}"), message, row=n, field=column, **params))
        sid = subjects.get((r.get("subject") or "").strip())
        if sid is None:
            bad("subject", N_("unknown subject {value}"), value=r.get("subject") or "")
            continue
        try:
            on = date.fromisoformat((r.get("date") or "").strip())
        except ValueError:
            bad("date", N_("not a date (YYYY-MM-DD): {value}"), value=r.get("date") or "")
            continue
        if on > today():
            bad("date", N_("the date {date} is in the future"), date=on.isoformat())
            continue
        try:
            amount = Decimal((r.get("amount_yuan") or "").strip())
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount <= 0 or amount > Decimal("1e9"):
            bad("amount_yuan", N_("an amount in yuan above 0 is expected, not “{value}”"),
                value=r.get("amount_yuan") or "")
            continue
        ref = (r.get("reference") or "").strip()
        if not ref:
            bad("reference", N_("each settlement has its reference (the receipt's number)"))
            continue
        if (sid, ref) in seen:
            bad("reference", N_("the same settlement as row {row}"), row=seen[(sid, ref)])
            continue
        seen[(sid, ref)] = n
        if (sid, ref) in known:
            skipped += 1
            continue
        ok.append((sid, on, rules.fen(amount), (r.get("counterpart") or "").strip()[:200], ref[:120]))
    if problems:
        raise FileError(filename, problems[:200])
    imp = SettlementImport(digest=digest, filename=filename[:300], rows=len(rows), recorded=len(ok), skipped=skipped,
                           by_user_id=by.user_id, at=now())
    session.add(imp)
    session.flush()
    session.add_all([SettlementRecord(subject_id=sid, on=on, amount_fen=a, counterpart=cp, reference=ref,
                                      import_id=imp.id, synthetic=synthetic) for sid, on, a, cp, ref in ok])
    audit(session, by, "import", "finance_settlement_import", imp.id, rows=len(rows), recorded=len(ok))
    return {"recorded": len(ok), "skipped": skipped, "rows": len(rows), "again": 0}


def record_trace_settlement(session: Session, holder_id: Any, organisation_id: Any, on: str, amount_fen: int,
                            counterpart: str, reference: str, synthetic: bool = False) -> SettlementRecord | None:
    """A sale settled on a brand batch's trace chain, as the seller's settled turnover: once per reference; a
    seller who is not a credit subject (no grade, so no trade-flow line) is left out."""
    code = (f"holder:{int(holder_id)}" if holder_id is not None else
            f"org:{int(organisation_id)}" if organisation_id is not None else None)
    if code is None or amount_fen <= 0 or not reference:
        return None
    subject = session.scalar(select(CreditSubject).where(CreditSubject.code == code)
                             .execution_options(skip_scope=True))
    if subject is None:
        return None
    done = session.scalar(select(SettlementRecord).where(SettlementRecord.subject_id == subject.id,
                                                         SettlementRecord.reference == reference[:120]))
    if done is not None:
        return done
    row = SettlementRecord(subject_id=subject.id, on=date.fromisoformat(on), amount_fen=amount_fen,
                           counterpart=counterpart[:200], reference=reference[:120], import_id=None,
                           synthetic=synthetic)
    session.add(row)
    session.flush()
    audit(session, None, "record", "finance_settlement", row.id, subject=code, reference=reference,
          amount_fen=amount_fen, source="brands.sale_settled")
    return row


# -- views ----------------------------------------------------------------------------------------------------------

def loan_view(session: Session, loan: Loan, full: bool = False) -> dict[str, Any]:
    p = rules.products().get(loan.product)
    out: dict[str, Any] = {
        "id": loan.id, "code": loan.code, "product": loan.product, "product_zh": p.name_zh if p else loan.product,
        "product_en": p.name_en if p else loan.product, "bank": loan.bank_name, "bank_org_id": loan.bank_org_id,
        "borrower": loan.borrower_name, "borrower_kind": loan.borrower_kind, "county_code": loan.county_code,
        "amount_fen": loan.amount_fen, "months": loan.months, "rate_bp": loan.rate_bp, "limit_fen": loan.limit_fen,
        "grade": loan.grade, "state": loan.state, "reason": loan.reason, "purpose": loan.purpose,
        "disbursed_on": loan.disbursed_on.isoformat() if loan.disbursed_on else None, "synthetic": loan.synthetic,
        "created_at": loan.created_at.isoformat()}
    if full:
        out["terms"] = loan.terms
        out["borrower_subject_id"] = loan.borrower_subject_id
        out["outstanding_fen"] = outstanding_fen(session, loan) if loan.disbursed_on else 0
        out["schedule"] = [{"n": i.n, "due_on": i.due_on.isoformat(), "principal_fen": i.principal_fen,
                            "interest_fen": i.interest_fen, "state": i.state,
                            "paid_at": i.paid_at.isoformat() if i.paid_at else None}
                           for i in instalments(session, loan.id)]
        out["collateral"] = [collateral_view(session, c) for c in session.scalars(
            select(Collateral).where(Collateral.loan_id == loan.id).order_by(Collateral.id))]
        out["steps"] = [{"verb": s.verb, "before": s.before, "after": s.after, "at": s.at.isoformat(),
                         "detail": s.detail} for s in session.scalars(
            select(LoanStep).where(LoanStep.loan_id == loan.id).order_by(LoanStep.id))]
        out["overdue"] = [i.n for i in overdue(session, loan)]
    return out


def collateral_view(session: Session, c: Collateral) -> dict[str, Any]:
    parcel = registry.get_parcel(session, c.parcel_id)
    right = registry.get_right(session, c.right_id)
    return {"right_id": c.right_id, "parcel_id": c.parcel_id, "parcel_code": parcel.code, "parcel_name": parcel.name,
            "kind": c.parcel_kind, "certificate_no": right.certificate_no, "state": c.state, "lock_id": c.lock_id,
            "value_fen": c.value_fen, "appraisal_fen": c.appraisal_fen, "proceeds_fen": c.proceeds_fen,
            "area_m2": parcel.area_m2, "geojson": json.loads(parcel.geojson) if parcel.geojson else None,
            "locked": bool(registry.locks_of(session, [c.right_id]).get(c.right_id))}


def my_loans(session: Session, by: Principal) -> list[Loan]:
    q = select(Loan).order_by(Loan.id.desc())
    if by.organisation_id is not None:
        q = q.where(Loan.borrower_org_id == by.organisation_id)
    else:
        q = q.where(Loan.borrower_user_id == by.user_id, Loan.borrower_org_id.is_(None))
    return list(session.scalars(q.limit(200)))


def workbench(session: Session, by: Principal) -> dict[str, Any]:
    """A bank's desk: its applications waiting, its portfolio by product and state, its pledged rights."""
    by.require(LEND)
    mine = select(Loan).where(Loan.bank_org_id == by.organisation_id)
    loans = list(session.scalars(mine.order_by(Loan.id.desc()).limit(500)))
    portfolio: dict[str, dict[str, Any]] = {}
    for loan in loans:
        row = portfolio.setdefault(loan.product, {"count": 0, "amount_fen": 0, "states": {}})
        row["count"] += 1
        row["states"][loan.state] = row["states"].get(loan.state, 0) + 1
        if loan.state in ("disbursed", "defaulted", "enforcing"):
            row["amount_fen"] += loan.amount_fen
    ids = [loan.id for loan in loans]
    pledged = list(session.scalars(select(Collateral).where(
        Collateral.loan_id.in_(ids), Collateral.state.in_(("pledged", "on_sale"))))) if ids else []
    codes = {loan.id: loan.code for loan in loans}
    return {"applications": [loan_view(session, loan) for loan in loans if loan.state == "applied"],
            "loans": [loan_view(session, loan) for loan in loans],
            "portfolio": portfolio,
            "pledged": [{**collateral_view(session, c), "loan_id": c.loan_id, "loan_code": codes[c.loan_id]}
                        for c in pledged[:300]]}


def loans_by_county(session: Session, year: int) -> dict[str, tuple[int, int]]:
    """Green loans disbursed in a year, by the borrower's county: (count, fen) — the GEP assessment counts them."""
    q = (select(Loan.county_code, func.count(), func.sum(Loan.amount_fen))
         .where(Loan.disbursed_on >= date(year, 1, 1), Loan.disbursed_on <= date(year, 12, 31))
         .group_by(Loan.county_code).execution_options(skip_scope=True))
    return {str(code): (int(n), int(fen or 0)) for code, n, fen in session.execute(q)}
