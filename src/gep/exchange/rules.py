"""The exchange's rules as plain code: the listing's and the deal's states and moves, the trading modes' bid
checks and outcomes, deposits. Nothing here touches the database, so every rule is tested directly.

A listing goes draft → submitted → approved (or rejected, then revised) → announced (public notice; bidders
register with a deposit) → bidding → awarded or failed; each award is a *deal* that goes contract_signed →
settled → title_transferred → certificate_issued, or defaulted (the deposit is forfeited). A listing may be
withdrawn until bidding starts. After the award the listing's state follows its deals (a multi-unit auction
has several). The process follows the template in PLATFORM.md §1.3 (Lishui's own rules are not public).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from gep.errors import N_, Conflict, InputError, Word

STATES = {
    "draft": N_("draft"), "submitted": N_("submitted for review"), "approved": N_("approved"),
    "rejected": N_("rejected"), "announced": N_("announced"), "bidding": N_("bidding"), "awarded": N_("awarded"),
    "failed": N_("failed (no valid bid)"), "contract_signed": N_("contract signed"), "settled": N_("paid"),
    "title_transferred": N_("title transferred"), "certificate_issued": N_("completed, certificate issued"),
    "withdrawn": N_("withdrawn"), "defaulted": N_("defaulted"),
}
VERBS = {
    "create": N_("create"), "edit": N_("edit"), "register": N_("a bidder registered"),
    "submit": N_("submit"), "approve": N_("approve"), "reject": N_("reject"), "revise": N_("revise"),
    "announce": N_("announce"), "open": N_("open the bidding"), "award": N_("award"), "fail": N_("close without award"),
    "withdraw": N_("withdraw"), "sign": N_("sign the contract"), "settle": N_("pay"),
    "transfer_title": N_("transfer the title"), "certify": N_("issue the certificate"), "default": N_("default"),
}
LISTING_MOVES: dict[str, dict[str, str]] = {
    "submit": {"draft": "submitted"},
    "approve": {"submitted": "approved"},
    "reject": {"submitted": "rejected"},
    "revise": {"rejected": "draft"},
    "announce": {"approved": "announced"},
    "open": {"announced": "bidding"},
    "award": {"bidding": "awarded"},
    "fail": {"bidding": "failed"},
    "withdraw": {"draft": "withdrawn", "submitted": "withdrawn", "approved": "withdrawn", "rejected": "withdrawn",
                 "announced": "withdrawn"},
}
# a deal (one award) after the close; the listing's state then follows its deals (`listing_state`)
DEAL_ORDER = ("awarded", "contract_signed", "settled", "title_transferred", "certificate_issued")
DEAL_MOVES: dict[str, dict[str, str]] = {
    "sign": {"awarded": "contract_signed"},
    "settle": {"contract_signed": "settled"},
    "transfer_title": {"settled": "title_transferred"},
    "certify": {"title_transferred": "certificate_issued"},
    "default": {"awarded": "defaulted", "contract_signed": "defaulted"},
}
PUBLIC = frozenset({"announced", "bidding", "awarded", "failed", "contract_signed", "settled", "title_transferred",
                    "certificate_issued", "defaulted"})
FINAL = frozenset({"failed", "withdrawn", "certificate_issued", "defaulted"})
HOLDS_RIGHT = frozenset({"submitted", "approved", "announced", "bidding", "awarded", "contract_signed", "settled"})
REGISTERING = frozenset({"announced", "bidding"})  # bidders may register (and pay the deposit) in these

MODES = {
    "negotiated": N_("negotiated transfer (协议转让)"),
    "ascending": N_("ascending online auction"),
    "sealed": N_("sealed bid"),
    "multi_unit": N_("multi-unit pay-as-bid auction"),
}


class TransitionError(Conflict):
    """A move the state machine does not allow from the current state."""


def step(moves: dict[str, dict[str, str]], state: str, verb: str, template: str) -> str:
    """The state after `verb`, or TransitionError saying why not."""
    if verb not in moves:
        raise InputError(N_("unknown action {verb}"), verb=verb)
    after = moves[verb].get(state)
    if after is None:
        raise TransitionError(template, state=Word(STATES.get(state, state)), verb=Word(VERBS[verb]))
    return after


def listing_step(state: str, verb: str) -> str:
    return step(LISTING_MOVES, state, verb, N_("a listing that is {state} cannot {verb}"))


def deal_step(state: str, verb: str) -> str:
    return step(DEAL_MOVES, state, verb, N_("a trade that is {state} cannot {verb}"))


def listing_state(deal_states: Iterable[str]) -> str:
    """A listing's state after its award: the least advanced of its live deals; defaulted when all defaulted."""
    states = list(deal_states)
    live = [s for s in states if s != "defaulted"]
    if not states:
        return "awarded"
    if not live:
        return "defaulted"
    return min(live, key=DEAL_ORDER.index)


# -- money rules ----------------------------------------------------------------------------------------------

def yuan(fen: int) -> str:
    """Fen as people read yuan in a message: 1,234.50."""
    return f"{Decimal(fen) / 100:,.2f}"


def pct_of(fen: int, pct: Decimal) -> int:
    """`pct` per cent of an amount, rounded half up to the fen."""
    return int((Decimal(fen) * pct / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def deposit(start_total_fen: int, pct: Decimal, minimum_fen: int) -> int:
    """The deposit a bidder holds to register: a share of the starting price, at least the category's minimum."""
    return max(pct_of(start_total_fen, pct), minimum_fen)


# -- trading modes --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Terms:
    """How a listing trades. Prices in fen: the whole object's price, or the price per unit (multi-unit)."""

    mode: str
    start_price: int
    increment: int = 0  # ascending: each bid beats the last by at least this
    reserve: int = 0  # ascending, sealed: the lowest price the seller accepts (0: the starting price)
    quantity: int = 1  # multi-unit: units for sale
    max_bids: int = 10  # multi-unit: bids each bidder may place
    top_share_pct: Decimal = Decimal(70)  # multi-unit: the share of bidders who win
    extension_window_s: int = 300  # ascending: a bid this close to the end …
    extension_s: int = 300  # … moves the end to this long after the bid


@dataclass(frozen=True)
class BidRec:
    seq: int  # the total order of bids on a listing
    bidder: int  # the registration
    price: int
    quantity: int = 1


@dataclass(frozen=True)
class Accepted:
    closes_at: datetime  # the (possibly extended) end of bidding


@dataclass(frozen=True)
class Win:
    bidder: int
    price: int  # per unit (multi-unit) or for the whole
    quantity: int

    @property
    def total(self) -> int:
        return self.price * self.quantity


def check_bid(terms: Terms, bids: Sequence[BidRec], bidder: int, price: int, quantity: int, at: datetime,
              closes_at: datetime) -> Accepted:
    """Whether a bid is valid against the bids before it (in `seq` order); the end of bidding after it."""
    if price <= 0:
        raise InputError(N_("a bid is a positive amount"))
    if at >= closes_at:
        raise Conflict(N_("bidding closed at {at}"), at=closes_at.isoformat(timespec="seconds"))
    mine = [b for b in bids if b.bidder == bidder]
    if terms.mode == "multi_unit":
        if not 1 <= quantity <= terms.quantity:
            raise InputError(N_("a bid is for 1 to {n} units, not {quantity}"), n=terms.quantity, quantity=quantity)
        if len(mine) >= terms.max_bids:
            raise Conflict(N_("each bidder may bid {n} times in this auction, and you have used them all"),
                           n=terms.max_bids)
    elif quantity != terms.quantity:
        raise InputError(N_("a bid in this mode is for the whole lot: quantity {n}"), n=terms.quantity)
    if price < terms.start_price and not (terms.mode == "ascending" and bids):  # (there: the increment rule says more)
        raise Conflict(N_("the bid is below the starting price of {start} yuan"), start=yuan(terms.start_price))
    if terms.mode == "ascending":
        if bids:
            top = bids[-1]
            if top.bidder == bidder:
                raise Conflict(N_("you hold the highest bid already"))
            if price < top.price + terms.increment:
                raise Conflict(N_("a bid must be at least {least} yuan (the current price {current} plus the "
                                  "increment {increment})"), least=yuan(top.price + terms.increment),
                               current=yuan(top.price), increment=yuan(terms.increment))
        if closes_at - at <= timedelta(seconds=terms.extension_window_s):
            closes_at = max(closes_at, at + timedelta(seconds=terms.extension_s))
    elif terms.mode == "sealed":
        if mine:
            raise Conflict(N_("a sealed bid is placed once"))
    elif terms.mode == "negotiated":
        if mine and price <= mine[-1].price:
            raise Conflict(N_("a new offer must be above your last one ({last} yuan)"), last=yuan(mine[-1].price))
    elif terms.mode != "multi_unit":
        raise InputError(N_("unknown trading mode {mode}"), mode=terms.mode)
    return Accepted(closes_at)


def winners_count(bidders: int, share_pct: Decimal) -> int:
    """The top share of bidders, rounded half up (四舍五入): 1 of 1, 1 of 2, 2 of 3, 7 of 10."""
    return int((Decimal(bidders) * share_pct / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def outcome(terms: Terms, bids: Sequence[BidRec]) -> list[Win]:
    """Who wins at the close (empty: the auction fails). Negotiated listings are awarded by the seller's
    acceptance instead, so they have no outcome at the close."""
    ordered = sorted(bids, key=lambda b: b.seq)
    floor = max(terms.reserve, terms.start_price)
    if terms.mode == "ascending":
        top = ordered[-1] if ordered else None
        return [Win(top.bidder, top.price, top.quantity)] if top and top.price >= floor else []
    if terms.mode == "sealed":
        best = min(ordered, key=lambda b: (-b.price, b.seq), default=None)
        return [Win(best.bidder, best.price, best.quantity)] if best and best.price >= floor else []
    if terms.mode == "multi_unit":
        return _multi_unit(terms, ordered)
    return []


def _multi_unit(terms: Terms, ordered: Sequence[BidRec]) -> list[Win]:
    """The Zhejiang discharge-rights rule: each bidder's last bid counts; bidders ranked by price, then by time;
    the top share win, each paying their own price; units go down the ranking until none are left."""
    last: dict[int, BidRec] = {}
    for b in ordered:
        last[b.bidder] = b
    ranked = sorted(last.values(), key=lambda b: (-b.price, b.seq))
    left = terms.quantity
    wins = []
    for b in ranked[:winners_count(len(ranked), terms.top_share_pct)]:
        take = min(b.quantity, left)
        if take <= 0:
            break
        wins.append(Win(b.bidder, b.price, take))
        left -= take
    return wins


def current_price(terms: Terms, bids: Sequence[BidRec]) -> int | None:
    """What an ascending auction shows as its price (None before the first bid); other modes show none."""
    if terms.mode != "ascending" or not bids:
        return None
    return max(bids, key=lambda b: b.seq).price


def minimum_next(terms: Terms, bids: Sequence[BidRec]) -> int:
    """The least the next bid may be."""
    price = current_price(terms, bids)
    return terms.start_price if price is None else price + terms.increment


def check_terms(terms: Terms, allowed_modes: Iterable[str]) -> None:
    """Terms a listing may not be announced with."""
    if terms.mode not in MODES:
        raise InputError(N_("unknown trading mode {mode}"), mode=terms.mode)
    if terms.mode not in set(allowed_modes):
        raise InputError(N_("this category does not trade by {mode}"), mode=Word(MODES[terms.mode]))
    if terms.start_price <= 0:
        raise InputError(N_("the starting price must be above zero"))
    if terms.mode == "ascending" and terms.increment <= 0:
        raise InputError(N_("an ascending auction needs a minimum increment above zero"))
    if terms.reserve and terms.reserve < terms.start_price:
        raise InputError(N_("the reserve price may not be below the starting price"))
    if terms.quantity < 1:
        raise InputError(N_("the quantity must be at least 1"))
    if terms.mode != "multi_unit" and terms.quantity != 1:
        raise InputError(N_("only a multi-unit auction sells several units"))
    if terms.mode == "multi_unit" and not (1 <= terms.max_bids <= 100 and 0 < terms.top_share_pct <= 100):
        raise InputError(N_("a multi-unit auction allows 1 to 100 bids each and a winning share above 0 and up to "
                            "100 %"))
