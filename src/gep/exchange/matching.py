"""How a trade demand fits a listing or an opposite demand, as plain code: what must hold (the category, the
county, the budget, the area), and a score that ranks what fits (1.0 fits every stated wish exactly)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gep.errors import N_


@dataclass(frozen=True)
class Wish:
    """One side's terms: a demand, or a listing seen as an offer to sell."""

    side: str  # buy, sell
    category: str | None = None
    county: str = ""
    area_min: Decimal | None = None
    area_max: Decimal | None = None
    price_fen: int | None = None  # a buyer's budget (at most), a seller's price (at least)
    term_years: int | None = None


@dataclass(frozen=True)
class Fit:
    score: float
    why: tuple[str, ...]


def _area_range(w: Wish) -> tuple[Decimal | None, Decimal | None]:
    return w.area_min, w.area_max


def fit(buyer: Wish, seller: Wish) -> Fit | None:
    """Whether what the seller offers fits what the buyer wants (None: it does not)."""
    why: list[str] = []
    score = 0.0
    if buyer.category and seller.category:
        if buyer.category != seller.category:
            return None
        why.append(N_("same category"))
        score += 0.4
    if buyer.county and seller.county:
        if not (seller.county.startswith(buyer.county) or buyer.county.startswith(seller.county)):
            return None
        why.append(N_("same county"))
        score += 0.2
    if buyer.price_fen is not None and seller.price_fen is not None:
        if seller.price_fen > buyer.price_fen:
            return None
        why.append(N_("within the budget"))
        score += 0.2 * (1 - seller.price_fen / buyer.price_fen) if buyer.price_fen else 0.0
        score += 0.1
    b_lo, b_hi = _area_range(buyer)
    s_lo, s_hi = _area_range(seller)
    if (b_lo is not None or b_hi is not None) and (s_lo is not None or s_hi is not None):
        lo = max(x for x in (b_lo, s_lo, Decimal(0)) if x is not None)
        hi = min((x for x in (b_hi, s_hi) if x is not None), default=None)
        if hi is not None and lo > hi:
            return None
        why.append(N_("the area fits"))
        score += 0.1
    if buyer.term_years and seller.term_years:
        if seller.term_years < buyer.term_years:
            return None
        why.append(N_("the term is long enough"))
        score += 0.1
    return Fit(round(min(score, 1.0), 3), tuple(why))
