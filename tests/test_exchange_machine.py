"""A property test of the exchange's services together (hypothesis): random registrations, bids, closes,
signatures, payments, defaults and withdrawals by several people on several listings. After every step the ledger
balances, no participant's funds go below zero, escrow holds exactly the open deposits and nothing else, every
listing and trade is in a state its machine allows, and a right is locked exactly while it trades."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from exchange_fixtures import USERS, World, make_world
from gep.certificates import keys
from gep.db import unit_of_work
from gep.errors import GepError
from gep.exchange import bidding, deals, listings, rules, store
from gep.exchange.models import Bid, Deal, Listing, Registration
from gep.kit.audit import now
from gep.ledger import rules as ledger_rules
from gep.ledger import service as ledger
from gep.ledger.models import LedgerAccount, LedgerTransfer
from gep.registry import service as registry

pytestmark = pytest.mark.slow
BIDDERS = ("e1", "e2", "e3")
WORLD: dict[str, World] = {}


@pytest.fixture(scope="module", autouse=True)
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("machine")
    WORLD["w"] = make_world(f"sqlite:///{tmp / 'gep.db'}", tmp)
    return WORLD["w"]


class Exchange(RuleBasedStateMachine):
    @initialize(mode=st.sampled_from(["ascending", "sealed", "multi_unit", "negotiated"]), with_right=st.booleans(),
                registered=st.sets(st.sampled_from(BIDDERS), max_size=3), open_now=st.booleans())
    def list_something(self, mode: str, with_right: bool, registered: set[str], open_now: bool) -> None:
        self.w = WORLD["w"]
        self.f = self.w.platform.factory
        self.signer = keys.signer(keys.key_path(self.w.tmp / "data"))
        self.right = None
        with unit_of_work(self.f) as s:  # type: ignore[arg-type]
            free = [r for r in registry.rights_of_holders(s, [h.id for h in registry.my_holders(
                s, self.w.principal("seller"))]) if not registry.locks_of(s, [r.id]).get(r.id)]
            use_right = with_right and mode != "multi_unit" and bool(free)
            category = "forest_right" if use_right else ("vep_rights" if mode == "negotiated" else "sand_gravel")
            seller = self.w.principal("seller" if use_right else "coop")
            offer = listings.Offer(category, f"machine {mode}", mode, start_price_fen=100_000,
                                   increment_fen=10_000 if mode == "ascending" else 0,
                                   quantity=10 if mode == "multi_unit" else 1, max_bids=3,
                                   right_id=free[0].id if use_right else None)
            x = listings.create(s, offer, seller)
            listings.submit(s, x.id, seller)
            listings.review(s, x.id, True, "", self.w.principal("officer"))
            listings.announce(s, x.id, self.w.principal("officer"))
            x.opens_at = now() + timedelta(seconds=-1 if open_now else 86400)
            listings.open_if_due(s, x, None)
            self.listing, self.seller, self.right = x.id, seller, x.right_id
        for who in sorted(registered):  # most runs start with bidders in, so that they get somewhere
            self.register(who)

    def _do(self, action) -> None:  # type: ignore[no-untyped-def]
        self.steps = getattr(self, "steps", 0) + 1
        try:
            with unit_of_work(self.f) as s:  # type: ignore[arg-type]
                action(s)
        except GepError:
            pass  # refused: the unit of work rolled everything back

    @rule(who=st.sampled_from(BIDDERS))
    def register(self, who: str) -> None:
        self._do(lambda s: bidding.register(s, self.listing, self.w.principal(who)))

    @rule(who=st.sampled_from((*BIDDERS, "coop", "seller")), steps=st.integers(0, 12), qty=st.integers(1, 12))
    def anyone_bids(self, who: str, steps: int, qty: int) -> None:
        self.bid(who, steps, qty)

    @rule(pick=st.integers(0, 2), steps=st.integers(0, 12), qty=st.integers(1, 12))
    def a_registered_bidder_bids(self, pick: int, steps: int, qty: int) -> None:
        with unit_of_work(self.f) as s:  # type: ignore[arg-type]
            keys = [r.bidder_key for r in s.query(Registration).filter(Registration.listing_id == self.listing)]
        users = [u for u in BIDDERS if f"org:{self.w.orgs[dict((a, o) for a, _r, o in USERS)[u]]}" in keys]
        if users:
            self.bid(users[pick % len(users)], steps, qty)

    def bid(self, who: str, steps: int, qty: int) -> None:
        def act(s):  # type: ignore[no-untyped-def]
            x = s.get(Listing, self.listing)
            bidding.place_bid(s, self.listing, 100_000 + 10_000 * steps, qty if x.mode == "multi_unit" else 1,
                              self.w.principal(who), key=f"{who}-{steps}-{qty}-{now().timestamp()}")
        self._do(act)

    @rule(pick=st.integers(0, 20))
    def accept(self, pick: int) -> None:
        def act(s):  # type: ignore[no-untyped-def]
            ids = list(s.scalars(select(Bid.id).where(Bid.listing_id == self.listing).order_by(Bid.seq)))
            if ids:
                bidding.accept_offer(s, self.listing, ids[pick % len(ids)], self.seller)
        self._do(act)

    @rule()
    def notice_ends(self) -> None:
        def act(s):  # type: ignore[no-untyped-def]
            x = s.get(Listing, self.listing)
            if x.state == "announced":
                x.opens_at = now() - timedelta(seconds=1)
        self._do(act)

    @precondition(lambda self: getattr(self, "steps", 0) >= 6)  # bidders get a few moves before the close
    @rule()
    def close(self) -> None:
        self._do(lambda s: bidding.close(s, self.listing, at=now() + timedelta(days=400)))

    @rule(who=st.sampled_from(BIDDERS), pay=st.booleans())
    def sign_or_pay(self, who: str, pay: bool) -> None:
        def act(s):  # type: ignore[no-untyped-def]
            for d in store.deals_of(s, self.listing):
                if pay:
                    deals.settle(s, d.id, self.w.principal(who), self.signer)
                else:
                    deals.sign(s, d.id, self.w.principal(who))
        self._do(act)

    @rule()
    def winner_moves_on(self) -> None:
        """The winner takes the next step: signs, or pays (the rule above mostly has the wrong person try)."""
        keys_to_user = {f"org:{self.w.orgs[o]}": u for u, _r, o in USERS if o}

        def act(s):  # type: ignore[no-untyped-def]
            for d in store.deals_of(s, self.listing):
                who = self.w.principal(keys_to_user[s.get(Registration, d.registration_id).bidder_key])
                if d.state == "contract_signed":
                    deals.settle(s, d.id, who, self.signer)
                elif d.state == "awarded":
                    deals.sign(s, d.id, who)
        self._do(act)

    @rule(step=st.sampled_from(["sign", "settle"]))
    def deadline(self, step: str) -> None:
        def act(s):  # type: ignore[no-untyped-def]
            for d in store.deals_of(s, self.listing):
                deals.default_if_due(s, d.id, step, at=now() + timedelta(days=400))
        self._do(act)

    @precondition(lambda self: hasattr(self, "listing"))
    @rule()
    def withdraw(self) -> None:
        self._do(lambda s: listings.withdraw(s, self.listing, "machine", self.seller))

    @invariant()
    def books_and_states_hold(self) -> None:
        if not hasattr(self, "listing"):
            return
        with unit_of_work(self.f) as s:  # type: ignore[arg-type]
            accounts = s.query(LedgerAccount).all()
            book = ledger_rules.Book({a.id: ledger._rule_account(a) for a in accounts}, {})
            assert ledger_rules.balanced(book)
            assert all(ledger._rule_account(a).within_limits() for a in accounts)
            escrow = next((a for a in accounts if a.code == "platform:escrow"),
                          LedgerAccount(credits_pending=0, credits_posted=0, debits_posted=0))
            settled = {t.pending_id for t in s.query(LedgerTransfer).filter(LedgerTransfer.pending_id.is_not(None))}
            open_holds = [t for t in s.query(LedgerTransfer).filter(LedgerTransfer.kind == ledger_rules.PENDING)
                          if t.id not in settled]
            assert escrow.credits_pending == sum(t.amount for t in open_holds)  # escrow holds the open deposits
            assert escrow.credits_posted - escrow.debits_posted == 0  # and passes every price on at once
            for reg in s.query(Registration).all():  # a deposit is held exactly while it may still be needed
                is_open = reg.hold_id is not None and reg.hold_id not in settled
                assert is_open == (reg.state in ("active", "won")), (reg.state, is_open)
            x = s.get(Listing, self.listing)
            assert x.state in rules.STATES
            ds = s.query(Deal).filter(Deal.listing_id == x.id).all()
            assert all(d.state in rules.DEAL_ORDER or d.state == "defaulted" for d in ds)
            if ds:
                assert x.state == rules.listing_state(d.state for d in ds)
            assert sum(d.quantity for d in ds) <= x.quantity
            if x.right_id is not None:
                locks = registry.locks_of(s, [x.right_id]).get(x.right_id, [])
                trading = x.state in rules.HOLDS_RIGHT
                assert bool(locks) == trading, (x.state, locks)


TestExchange = Exchange.TestCase
TestExchange.settings = settings(max_examples=150, stateful_step_count=35, deadline=None, derandomize=True,
                                 suppress_health_check=[HealthCheck.too_slow])


def test_the_machine_went_everywhere() -> None:
    """The random runs above reached every ending: without this, passing invariants could mean little."""
    with unit_of_work(WORLD["w"].platform.factory) as s:  # type: ignore[arg-type]
        deal_states = {d.state for d in s.query(Deal).all()}
        listing_states = {x.state for x in s.query(Listing).all()}
    assert {"certificate_issued", "defaulted"} <= deal_states, deal_states
    assert {"failed", "withdrawn"} <= listing_states, listing_states
