"""Two-mountain cooperatives' rules as plain code: how rights come in, what an intake contract may say, and how a
package's revenue goes back to the holders — in Decimal yuan, to the fen, every fen accounted for.

Revenue of a package is shared by the contracts in it that carry a revenue share (shareholding, trusteeship with
a profit share): contract i's part is amount × weightᵢ / Σweight × shareᵢ %, its weight the area it brought in.
Each part is rounded down to the fen; what the rounding leaves (less than one fen per holder) goes to a named
residue account; the rest stays with the cooperative. So payouts + residue + retained = the revenue, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext

from gep.errors import N_, InputError, Word
from gep.ledger.rules import to_fen  # noqa: F401  (the platform's one conversion of money, used here as rules.to_fen)
from gep.ledger.rules import to_yuan as from_fen  # noqa: F401

FEN = Decimal("0.01")
INTAKE_MODES = {"lease": N_("lease"), "transfer": N_("transfer of management"), "trusteeship": N_("trusteeship"),
                "shareholding": N_("shareholding"), "buyout": N_("buy-out"), "acquisition": N_("acquisition")}
TITLE_PASSES = frozenset({"buyout", "acquisition"})  # the right becomes the cooperative's
PAYMENTS = {"annual": N_("every year"), "once": N_("once, at signing")}
PACKAGE_STATES = {"draft": N_("draft"), "offered_market": N_("offered on the exchange"),
                  "offered_bank": N_("offered to a bank"), "closed": N_("closed")}
MAX_YUAN = Decimal("1e12")


def yuan(value: object, what: str = N_("the amount")) -> Decimal:
    """A money amount in yuan: a finite Decimal with at most two decimals (fen), not negative."""
    try:
        amount = Decimal(str(value)).normalize() if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InputError(N_("{what} must be an amount of yuan, got {value}"), what=Word(what),
                         value=repr(value)) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_YUAN:
        raise InputError(N_("{what} must be an amount of yuan from 0 to 10¹², got {value}"), what=Word(what),
                         value=str(value))
    if amount != amount.quantize(FEN):
        raise InputError(N_("{what} has more than two decimals (fen): {value}"), what=Word(what), value=str(value))
    return amount.quantize(FEN)


@dataclass(frozen=True)
class Terms:
    """What an intake contract says."""

    mode: str
    start: date
    end: date | None
    annual_rent: Decimal = Decimal("0.00")
    lump_sum: Decimal = Decimal("0.00")
    revenue_share_pct: Decimal = Decimal("0")
    payment: str = "annual"


def check_terms(terms: Terms, right_start: date | None, right_end: date | None) -> list[str]:
    """Why an intake contract cannot be signed as written (empty when it can)."""
    problems = []
    if terms.mode not in INTAKE_MODES:
        problems.append(N_("the intake mode is unknown"))
    if terms.payment not in PAYMENTS:
        problems.append(N_("the payment schedule is unknown"))
    if terms.mode not in TITLE_PASSES:
        if terms.end is None or terms.end <= terms.start:
            problems.append(N_("the contract must end after it starts"))
        elif right_end is not None and terms.end > right_end:
            problems.append(N_("the contract cannot run beyond the right itself (it ends {end})"))
    if right_start is not None and terms.start < right_start:
        problems.append(N_("the contract cannot start before the right does"))
    if not Decimal(0) <= terms.revenue_share_pct <= Decimal(100):
        problems.append(N_("the revenue share is a percentage from 0 to 100"))
    if terms.mode in TITLE_PASSES and terms.lump_sum <= 0:
        problems.append(N_("a buy-out or acquisition needs a price (the lump sum)"))
    return problems


@dataclass(frozen=True)
class Share:
    """A contract's claim on a package's revenue."""

    contract_id: int
    holder_id: int
    weight: Decimal  # the area it brought in (m²)
    pct: Decimal  # its revenue share (%)


@dataclass(frozen=True)
class Payout:
    contract_id: int
    holder_id: int
    amount: Decimal


@dataclass(frozen=True)
class Distribution:
    amount: Decimal
    payouts: tuple[Payout, ...]
    residue: Decimal  # to the residue account
    retained: Decimal  # stays with the cooperative
    residue_account: str

    @property
    def balanced(self) -> bool:
        return sum((p.amount for p in self.payouts), Decimal(0)) + self.residue + self.retained == self.amount


def distribute(amount: Decimal, shares: Sequence[Share], residue_account: str) -> Distribution:
    """Share a package's revenue out by the contracts' terms (see the module's docstring)."""
    amount = yuan(amount, N_("the revenue"))
    if not residue_account.strip():
        raise InputError(N_("name the account that receives the rounding residue"))
    total_weight = sum((s.weight for s in shares if s.pct > 0), Decimal(0))
    if amount == 0 or total_weight == 0:
        return Distribution(amount, (), Decimal("0.00"), amount, residue_account)
    # 60 digits: a part's true value is a fraction whose distance to a fen boundary, when not on it, is far above
    # 10⁻⁶⁰ for any amount and area the platform takes, so rounding down to the fen is exact
    with localcontext() as ctx:
        ctx.prec = 60
        exact = [amount * s.weight * s.pct / (Decimal(100) * total_weight) if s.pct > 0 else Decimal(0)
                 for s in shares]
        # the holders' total in one division (a sum of divided parts could fall a hair short of a whole fen)
        weighted = sum((s.weight * s.pct for s in shares if s.pct > 0), Decimal(0))
        to_holders = (amount * weighted / (Decimal(100) * total_weight)).quantize(FEN, rounding=ROUND_DOWN)
    payouts = tuple(Payout(s.contract_id, s.holder_id, e.quantize(FEN, rounding=ROUND_DOWN))
                    for s, e in zip(shares, exact, strict=True))
    paid = sum((p.amount for p in payouts), Decimal(0))
    residue = to_holders - paid
    return Distribution(amount, tuple(p for p in payouts if p.amount > 0), residue, amount - to_holders,
                        residue_account)
