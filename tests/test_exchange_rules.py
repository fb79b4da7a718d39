"""The exchange's rules as plain code: the listing and deal state machines (by hand and as hypothesis properties:
no sequence of actions reaches a state the machine does not allow), the trading modes' bid checks and outcomes by
hand (the Zhejiang discharge-rights e-auction's 70 % rule), and properties of every mode's outcome."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gep.errors import Conflict, InputError
from gep.exchange import matching, rules

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
CLOSE = T0 + timedelta(hours=1)


# -- the state machines -------------------------------------------------------------------------------------------

def test_the_happy_path_and_the_refusals() -> None:
    state = "draft"
    for verb, expected in (("submit", "submitted"), ("approve", "approved"), ("announce", "announced"),
                           ("open", "bidding"), ("award", "awarded")):
        state = rules.listing_step(state, verb)
        assert state == expected
    with pytest.raises(rules.TransitionError, match="cannot withdraw"):
        rules.listing_step("bidding", "withdraw")  # bids are in: too late to withdraw
    with pytest.raises(rules.TransitionError):
        rules.listing_step("draft", "announce")  # nothing is announced unreviewed
    with pytest.raises(InputError):
        rules.listing_step("draft", "teleport")
    deal = "awarded"
    for verb in ("sign", "settle", "transfer_title", "certify"):
        deal = rules.deal_step(deal, verb)
    assert deal == "certificate_issued"
    with pytest.raises(rules.TransitionError):
        rules.deal_step("settled", "default")  # who paid does not default


def test_a_listing_follows_its_least_advanced_live_deal() -> None:
    assert rules.listing_state(["certificate_issued", "contract_signed"]) == "contract_signed"
    assert rules.listing_state(["certificate_issued", "defaulted"]) == "certificate_issued"
    assert rules.listing_state(["defaulted", "defaulted"]) == "defaulted"


@settings(max_examples=300)
@given(st.lists(st.sampled_from(sorted(rules.LISTING_MOVES)), max_size=30))
def test_no_sequence_of_actions_leaves_the_listing_machine(verbs: list[str]) -> None:
    state, seen = "draft", ["draft"]
    for verb in verbs:
        try:
            after = rules.listing_step(state, verb)
        except rules.TransitionError:
            continue
        assert after in rules.STATES and (state, verb, after) == (state, verb, rules.LISTING_MOVES[verb][state])
        assert state not in rules.FINAL  # nothing moves a final listing
        state = after
        seen.append(state)
    # bidding is reached only through review and announcement, in that order
    if "bidding" in seen:
        assert seen.index("submitted") < seen.index("approved") < seen.index("announced") < seen.index("bidding")


@settings(max_examples=300)
@given(st.lists(st.sampled_from(sorted(rules.DEAL_MOVES)), max_size=20))
def test_no_sequence_of_actions_leaves_the_deal_machine(verbs: list[str]) -> None:
    state = "awarded"
    paid = False
    for verb in verbs:
        try:
            state = rules.deal_step(state, verb)
        except rules.TransitionError:
            continue
        paid = paid or state == "settled"
        assert not (paid and state == "defaulted")  # a paid trade never defaults
    assert state in rules.DEAL_ORDER or state == "defaulted"


# -- bids by hand ---------------------------------------------------------------------------------------------

ASC = rules.Terms("ascending", start_price=100_000, increment=5_000, reserve=110_000, extension_window_s=300,
                  extension_s=300)


def test_ascending_bids_and_the_automatic_extension() -> None:
    first = rules.check_bid(ASC, [], 1, 100_000, 1, T0, CLOSE)
    assert first.closes_at == CLOSE
    bids = [rules.BidRec(1, 1, 100_000)]
    with pytest.raises(Conflict, match=r"at least 1,050\.00 yuan"):
        rules.check_bid(ASC, bids, 2, 104_999, 1, T0, CLOSE)
    with pytest.raises(Conflict, match="highest bid already"):
        rules.check_bid(ASC, bids, 1, 200_000, 1, T0, CLOSE)
    late = CLOSE - timedelta(seconds=120)  # two minutes before the end: the end moves to five minutes after
    assert rules.check_bid(ASC, bids, 2, 105_000, 1, late, CLOSE).closes_at == late + timedelta(seconds=300)
    with pytest.raises(Conflict, match="closed"):
        rules.check_bid(ASC, bids, 2, 105_000, 1, CLOSE, CLOSE)
    assert rules.outcome(ASC, bids) == []  # 100,000 is below the reserve of 110,000
    assert rules.outcome(ASC, [*bids, rules.BidRec(2, 2, 110_000)]) == [rules.Win(2, 110_000, 1)]


def test_sealed_and_negotiated_bids() -> None:
    sealed = rules.Terms("sealed", start_price=1_000)
    bids = [rules.BidRec(1, 7, 1_500), rules.BidRec(2, 8, 1_800), rules.BidRec(3, 9, 1_800)]
    with pytest.raises(Conflict, match="once"):
        rules.check_bid(sealed, bids[:1], 7, 2_000, 1, T0, CLOSE)
    assert rules.outcome(sealed, bids) == [rules.Win(8, 1_800, 1)]  # a tie goes to the earlier bid
    negotiated = rules.Terms("negotiated", start_price=1_000)
    with pytest.raises(Conflict, match="above your last"):
        rules.check_bid(negotiated, bids[:1], 7, 1_500, 1, T0, CLOSE)
    assert rules.outcome(negotiated, bids) == []  # awarded by the seller's acceptance, not at the close


@pytest.mark.parametrize(("bidders", "winners"), [(1, 1), (2, 1), (3, 2), (4, 3), (5, 4), (6, 4), (10, 7), (0, 0)])
def test_the_top_seventy_per_cent_rounded_half_up(bidders: int, winners: int) -> None:
    # 四舍五入: 0.7 → 1, 1.4 → 1, 2.1 → 2, 2.8 → 3, 3.5 → 4, 4.2 → 4, 7.0 → 7
    assert rules.winners_count(bidders, Decimal(70)) == winners


def test_the_discharge_rights_auction_by_hand() -> None:
    """Five bidders for 20 t; each bidder's last bid counts: by price, then time; 4 win (3.5 → 4), pay as bid."""
    terms = rules.Terms("multi_unit", start_price=4_000, quantity=20, max_bids=10)
    bids = [rules.BidRec(1, 1, 4_100, 8), rules.BidRec(2, 2, 4_300, 6), rules.BidRec(3, 3, 4_200, 5),
            rules.BidRec(4, 4, 4_300, 4), rules.BidRec(5, 5, 4_050, 9), rules.BidRec(6, 1, 4_250, 8)]
    wins = rules.outcome(terms, bids)
    # ranking: 2 (4,300 at seq 2), 4 (4,300 at seq 4), 1 (4,250, its last bid), 3 (4,200) | 5 (4,050) loses
    assert wins == [rules.Win(2, 4_300, 6), rules.Win(4, 4_300, 4), rules.Win(1, 4_250, 8), rules.Win(3, 4_200, 2)]
    assert sum(w.quantity for w in wins) == 20 and wins[-1].total == 8_400
    with pytest.raises(Conflict, match="10 times"):
        rules.check_bid(terms, [rules.BidRec(i, 9, 4_000, 1) for i in range(10)], 9, 4_000, 1, T0, CLOSE)
    with pytest.raises(InputError, match="1 to 20 units"):
        rules.check_bid(terms, [], 9, 4_000, 21, T0, CLOSE)


def test_terms_that_cannot_be_announced() -> None:
    for bad in (rules.Terms("ascending", 1_000, increment=0), rules.Terms("sealed", 0),
                rules.Terms("sealed", 1_000, reserve=500), rules.Terms("sealed", 1_000, quantity=3),
                rules.Terms("multi_unit", 1_000, quantity=5, max_bids=0)):
        with pytest.raises(InputError):
            rules.check_terms(bad, rules.MODES)
    with pytest.raises(InputError, match="does not trade by"):
        rules.check_terms(rules.Terms("sealed", 1_000), ["ascending"])


# -- outcomes as properties -------------------------------------------------------------------------------------

BIDS = st.lists(st.tuples(st.integers(1, 8), st.integers(1, 10**6), st.integers(1, 30)), max_size=40)


@settings(max_examples=300)
@given(BIDS, st.integers(1, 100), st.decimals(min_value=1, max_value=100, places=0))
def test_multi_unit_outcomes(raw: list[tuple[int, int, int]], quantity: int, share: Decimal) -> None:
    terms = rules.Terms("multi_unit", start_price=1, quantity=quantity, max_bids=100, top_share_pct=share)
    bids = [rules.BidRec(i + 1, b, p, min(q, quantity)) for i, (b, p, q) in enumerate(raw)]
    wins = rules.outcome(terms, bids)
    last = {}
    for b in bids:
        last[b.bidder] = b
    assert sum(w.quantity for w in wins) <= quantity  # never more units than for sale
    assert len(wins) <= rules.winners_count(len(last), share)  # never more winners than the share
    assert len({w.bidder for w in wins}) == len(wins)  # one award per bidder
    for w in wins:
        assert w.price == last[w.bidder].price and 0 < w.quantity <= last[w.bidder].quantity  # pay as bid
    winners = {w.bidder for w in wins}

    def rank(bidder: int) -> tuple[int, int]:
        return -last[bidder].price, last[bidder].seq

    for loser in set(last) - winners:  # every winner ranks above every loser: by price, then by time
        assert all(rank(w) < rank(loser) for w in winners)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(0, 50_000)), max_size=60))
def test_ascending_accepted_bids_always_rise_by_the_increment(raw: list[tuple[int, int]]) -> None:
    accepted: list[rules.BidRec] = []
    closes = CLOSE
    for i, (bidder, price) in enumerate(raw):
        at = T0 + timedelta(seconds=30 * i)
        try:
            closes = rules.check_bid(ASC, accepted, bidder, price + 90_000, 1, at, closes).closes_at
        except (Conflict, InputError):
            continue
        accepted.append(rules.BidRec(len(accepted) + 1, bidder, price + 90_000))
    for a, b in itertools.pairwise(accepted):
        assert b.price >= a.price + ASC.increment and a.bidder != b.bidder
    wins = rules.outcome(ASC, accepted)
    assert len(wins) <= 1 and (not wins or wins[0].price == accepted[-1].price >= ASC.reserve)


# -- matching ---------------------------------------------------------------------------------------------------

def test_a_demand_fits_what_it_asks_for() -> None:
    buy = matching.Wish("buy", "forest_carbon", "331123", price_fen=5_000_000, term_years=10)
    offer = matching.Wish("sell", "forest_carbon", "331123001", Decimal(10), Decimal(10), 4_000_000, 20)
    fit = matching.fit(buy, offer)
    assert fit is not None and set(fit.why) == {"same category", "same county", "within the budget",
                                                "the term is long enough"}
    assert matching.fit(buy, matching.Wish("sell", "discharge")) is None  # another category
    assert matching.fit(buy, matching.Wish("sell", "forest_carbon", price_fen=6_000_000)) is None  # too dear
    assert matching.fit(buy, matching.Wish("sell", "forest_carbon", "331124")) is None  # another county
    assert matching.fit(buy, matching.Wish("sell", "forest_carbon", term_years=5)) is None  # too short
