"""The ledger's rules as plain code: accounts, balanced transfers, holds, and the limits accounts keep.

Money moves only as transfers between two accounts, in integer fen: one account is debited and the other
credited by the same amount, so across all accounts debits equal credits, always (for posted amounts and for
pending ones). A *pending* transfer holds money (a bidder's deposit in escrow) until it is posted — in full or
in part, the rest released — or voided. An account that must not go negative (a participant's funds, the
escrow) refuses a transfer that would take its debits past its credits. Nothing is edited: a correction is a
new transfer the other way. The shape follows TigerBeetle's accounting model (accounts, transfers, two-phase
pending transfers, balance bounds, client-chosen ids for idempotent retries).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from gep.errors import N_, Conflict, InputError

PLAIN, PENDING, POST, VOID = "plain", "pending", "post_pending", "void_pending"
KINDS = {"asset": N_("asset"), "liability": N_("liability"), "revenue": N_("revenue"), "equity": N_("equity")}
MAX_FEN = 10**17  # 1e15 yuan: far beyond any trade, far inside a 64-bit integer


class LedgerError(Conflict):
    """A transfer that cannot happen: nothing moves."""


@dataclass(frozen=True)
class Account:
    id: int
    kind: str
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0
    no_overdraft: bool = False  # debits (posted + pending) must not exceed posted credits
    no_overcredit: bool = False  # credits (posted + pending) must not exceed posted debits

    @property
    def balance(self) -> int:
        """Posted balance, seen from the account's side: credits − debits for liabilities, revenue and equity."""
        net = self.credits_posted - self.debits_posted
        return -net if self.kind == "asset" else net

    @property
    def available(self) -> int:
        """What can still be spent from a participant's account: posted credits less posted and held debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    def within_limits(self) -> bool:
        if self.no_overdraft and self.debits_posted + self.debits_pending > self.credits_posted:
            return False
        return not (self.no_overcredit and self.credits_posted + self.credits_pending > self.debits_posted)


@dataclass(frozen=True)
class Transfer:
    """One movement of money; `kind` says whether it posts, holds, or settles a hold (`pending_id`)."""

    id: int
    debit: int
    credit: int
    amount: int
    kind: str = PLAIN
    pending_id: int | None = None


@dataclass(frozen=True)
class Hold:
    """A pending transfer still open."""

    debit: int
    credit: int
    amount: int


@dataclass(frozen=True)
class Book:
    accounts: Mapping[int, Account]
    holds: Mapping[int, Hold]


def apply(book: Book, t: Transfer) -> Book:
    """The book after a transfer, or LedgerError saying why it cannot happen (the book is unchanged)."""
    accounts, holds = dict(book.accounts), dict(book.holds)
    if t.kind in (PLAIN, PENDING):
        if not 0 < t.amount <= MAX_FEN:
            raise LedgerError(N_("a transfer moves a positive amount (got {amount} fen)"), amount=t.amount)
        if t.debit == t.credit:
            raise LedgerError(N_("a transfer moves money between two different accounts"))
        debit, credit = _account(accounts, t.debit), _account(accounts, t.credit)
        if t.kind == PLAIN:
            debit = replace(debit, debits_posted=debit.debits_posted + t.amount)
            credit = replace(credit, credits_posted=credit.credits_posted + t.amount)
        else:
            debit = replace(debit, debits_pending=debit.debits_pending + t.amount)
            credit = replace(credit, credits_pending=credit.credits_pending + t.amount)
            holds[t.id] = Hold(t.debit, t.credit, t.amount)
    elif t.kind in (POST, VOID):
        hold = holds.pop(t.pending_id, None) if t.pending_id is not None else None
        if hold is None:
            raise LedgerError(N_("hold {id} does not exist or was settled already"), id=t.pending_id)
        amount = t.amount if t.kind == POST else 0
        if t.kind == POST and not 0 < amount <= hold.amount:
            raise LedgerError(N_("a hold of {held} fen can be posted for 1 to {held} fen, not {amount}"),
                              held=hold.amount, amount=amount)
        debit, credit = _account(accounts, hold.debit), _account(accounts, hold.credit)
        debit = replace(debit, debits_pending=debit.debits_pending - hold.amount,
                        debits_posted=debit.debits_posted + amount)
        credit = replace(credit, credits_pending=credit.credits_pending - hold.amount,
                         credits_posted=credit.credits_posted + amount)
    else:
        raise InputError(N_("unknown kind of transfer {kind}"), kind=t.kind)
    accounts[debit.id], accounts[credit.id] = debit, credit
    for account in (debit, credit):
        if not account.within_limits():
            raise LedgerError(N_("account {id} does not hold enough: {available} yuan available, {amount} yuan "
                                 "asked"), id=account.id,
                              available=f"{to_yuan(max(book.accounts[account.id].available, 0)):,}",
                              amount=f"{to_yuan(t.amount if t.kind != VOID else 0):,}")
    return Book(accounts, holds)


def _account(accounts: Mapping[int, Account], account_id: int) -> Account:
    account = accounts.get(account_id)
    if account is None:
        raise LedgerError(N_("account {id} does not exist"), id=account_id)
    return account


def apply_all(book: Book, transfers: Iterable[Transfer]) -> Book:
    """A batch of transfers, all or none (linked, as one transaction)."""
    for t in transfers:
        book = apply(book, t)
    return book


def balanced(book: Book) -> bool:
    """Across all accounts, debits equal credits — posted, and pending."""
    a = book.accounts.values()
    return (sum(x.debits_posted for x in a) == sum(x.credits_posted for x in a)
            and sum(x.debits_pending for x in a) == sum(x.credits_pending for x in a))


def to_fen(yuan: object) -> int:
    """Decimal yuan (at most two decimals) to integer fen."""
    try:
        amount = yuan if isinstance(yuan, Decimal) else Decimal(str(yuan))
    except (InvalidOperation, ValueError):
        raise InputError(N_("{value} is not an amount of yuan"), value=repr(yuan)) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise InputError(N_("{value} is not an amount of yuan with at most two decimals"), value=str(yuan))
    return int(amount * 100)


def to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))
