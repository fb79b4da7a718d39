"""Many bidders at the same moment on PostgreSQL: bids are totally ordered, none below the price before it plus
the increment is accepted, none accepted is lost; closing by several workers at once awards once; the losers'
deposits are released and the ledger balances. Also: bidding while the worker closes, and two payments of one
trade at once."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import PASSWORD
from exchange_fixtures import World, make_world
from gep.app import build_platform
from gep.auth import service as auth
from gep.certificates import keys
from gep.db import unit_of_work
from gep.errors import GepError
from gep.exchange import bidding, deals, listings, store
from gep.exchange.models import Bid, Deal, Listing, Registration
from gep.kit.audit import now
from gep.kit.principal import SYSTEM, Principal
from gep.ledger import rules as ledger_rules
from gep.ledger import service as ledger
from gep.ledger.models import LedgerAccount

CLIENTS = 20
INCREMENT = 1_000


@pytest.fixture
def world(pg_url: str, tmp_path: Path) -> World:
    return make_world(pg_url, tmp_path)


def bidders(w: World, n: int) -> list[Principal]:
    out = []
    with unit_of_work(w.platform.factory) as s:  # type: ignore[arg-type]
        roles = build_platform().roles
        for i in range(n):
            org = auth.create_organisation(s, f"竞买企业{i:02d}", "enterprise", SYSTEM)
            user = auth.create_user(s, f"bidder{i:02d}", PASSWORD, "enterprise_user", SYSTEM, organisation_id=org.id,
                                    roles=roles)
            p = Principal(user.id, user.username, "enterprise_user", org.id, frozenset({"*"}), "system",
                          party=org.name)
            ledger.payment_in(s, ledger.funds_of_caller(s, p), 10_000_000, "funds", SYSTEM, key=f"pg-funds-{i}")
            out.append(p)
    return out


def open_auction(w: World, people: list[Principal]) -> int:
    coop, officer = w.principal("coop"), w.principal("officer")
    with unit_of_work(w.platform.factory) as s:  # type: ignore[arg-type]
        x = listings.create(s, listings.Offer("sand_gravel", "并发竞价", "ascending", start_price_fen=100_000,
                                              increment_fen=INCREMENT, extension_window_s=0), coop)
        listings.submit(s, x.id, coop)
        listings.review(s, x.id, True, "", officer)
        listings.announce(s, x.id, officer)
        x.opens_at, x.closes_at = now() - timedelta(seconds=1), now() + timedelta(hours=1)
        lid = x.id
    for p in people:
        with unit_of_work(w.platform.factory) as s:  # type: ignore[arg-type]
            bidding.register(s, lid, p)
    return lid


def test_many_bidders_at_once_are_totally_ordered_and_one_wins(world: World) -> None:
    people = bidders(world, CLIENTS)
    lid = open_auction(world, people)
    f = world.platform.factory
    accepted: list[tuple[str, int, int]] = []  # (who, seq, price) as the clients were told
    refused: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(p: Principal) -> None:
        barrier.wait()
        for attempt in range(6):
            with unit_of_work(f) as s:  # type: ignore[arg-type]
                current = s.get(Listing, lid).current_price_fen  # what the page showed a moment ago
            price = (current or 100_000 - INCREMENT) + INCREMENT
            try:
                with unit_of_work(f) as s:  # type: ignore[arg-type]
                    bid, _ = bidding.place_bid(s, lid, price, 1, p, key=f"{p.username}-{attempt}")
                    seq = bid.seq
                with lock:
                    accepted.append((p.username, seq, price))
            except GepError as exc:
                with lock:
                    refused.append(str(exc))

    threads = [threading.Thread(target=client, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with unit_of_work(f) as s:  # type: ignore[arg-type]
        rows = list(s.scalars(select(Bid).where(Bid.listing_id == lid).order_by(Bid.seq)))
        regs = {r.id: r for r in s.scalars(select(Registration).where(Registration.listing_id == lid))}
    assert len(accepted) >= 2 and refused  # real contention: some bids lost the race and were refused
    assert [b.seq for b in rows] == list(range(1, len(rows) + 1))  # one total order, no gaps
    assert sorted((seq, price) for _, seq, price in accepted) == [(b.seq, b.price_fen) for b in rows]  # none lost
    for a, b in itertools.pairwise(rows):
        assert b.price_fen >= a.price_fen + INCREMENT and a.registration_id != b.registration_id
    assert all("at least" in r or "highest bid already" in r for r in refused), set(refused)
    # several workers close at once: one award
    outcomes: list[str] = []
    closers = threading.Barrier(4)

    def closer() -> None:
        closers.wait()
        try:
            with unit_of_work(f) as s:  # type: ignore[arg-type]
                outcomes.append(bidding.close(s, lid, SYSTEM, at=now() + timedelta(hours=2)))
        except GepError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=closer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["awarded", "not bidding", "not bidding", "not bidding"], outcomes
    with unit_of_work(f) as s:  # type: ignore[arg-type]
        [deal] = s.scalars(select(Deal).where(Deal.listing_id == lid)).all()
        assert deal.total_fen == rows[-1].price_fen and deal.registration_id == rows[-1].registration_id
        winner = s.get(Registration, deal.registration_id)
        losers = [r for r in s.scalars(select(Registration).where(Registration.listing_id == lid)) if r.id != winner.id]
        assert winner.state == "won" and all(r.state == "released" for r in losers)
        assert all(not ledger.hold_open(s, r.hold_id) for r in losers) and ledger.hold_open(s, winner.hold_id)
        accounts = s.scalars(select(LedgerAccount)).all()
        escrow = next(a for a in accounts if a.code == "platform:escrow")
        assert escrow.credits_pending == s.get(Listing, lid).deposit_fen  # only the winner's deposit is held
        assert ledger_rules.balanced(ledger_rules.Book({a.id: ledger._rule_account(a) for a in accounts}, {}))
    assert len(regs) == CLIENTS


def test_bids_racing_the_close_are_either_in_before_it_or_refused(world: World) -> None:
    people = bidders(world, 8)
    lid = open_auction(world, people)
    f = world.platform.factory
    told: list[tuple[str, int]] = []
    barrier = threading.Barrier(9)

    def bidder(i: int, p: Principal) -> None:
        barrier.wait()
        try:
            with unit_of_work(f) as s:  # type: ignore[arg-type]
                bid, _ = bidding.place_bid(s, lid, 100_000 + i * INCREMENT * 10, 1, p, key=f"race-{i}")
                told.append(("bid", bid.seq))
        except GepError as exc:
            told.append((str(exc), 0))

    def closer() -> None:
        barrier.wait()
        with unit_of_work(f) as s:  # type: ignore[arg-type]
            s.get(Listing, lid).closes_at = now()
        with unit_of_work(f) as s:  # type: ignore[arg-type]
            told.append((bidding.close(s, lid, SYSTEM), -1))

    threads = [threading.Thread(target=bidder, args=(i, p)) for i, p in enumerate(people)]
    threads.append(threading.Thread(target=closer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with unit_of_work(f) as s:  # type: ignore[arg-type]
        x = s.get(Listing, lid)
        rows = list(s.scalars(select(Bid).where(Bid.listing_id == lid).order_by(Bid.seq)))
        ds = list(s.scalars(select(Deal).where(Deal.listing_id == lid)))
        assert x.state in ("awarded", "failed", "bidding")
        accepted = sorted(seq for what, seq in told if what == "bid")
        assert accepted == [b.seq for b in rows]  # every bid a client was told about is on the record
        if x.state == "awarded":
            assert len(ds) == 1 and ds[0].total_fen == rows[-1].price_fen
            assert all(b.placed_at <= x.closed_at for b in rows)  # nothing accepted after the close


def test_two_payments_of_one_trade_at_once_pay_once(world: World) -> None:
    people = bidders(world, 1)
    lid = open_auction(world, people)
    f = world.platform.factory
    signer = keys.signer(keys.key_path(world.tmp / "data"))
    with unit_of_work(f) as s:  # type: ignore[arg-type]
        bidding.place_bid(s, lid, 150_000, 1, people[0], key="pay-race")
    with unit_of_work(f) as s:  # type: ignore[arg-type]
        bidding.close(s, lid, SYSTEM, at=now() + timedelta(hours=2))
    with unit_of_work(f) as s:  # type: ignore[arg-type]
        deal_id = store.deals_of(s, lid)[0].id
        deals.sign(s, deal_id, people[0])
        before = ledger.account_view(ledger.funds_of_caller(s, people[0]))["balance_fen"]
    results: list[str] = []
    barrier = threading.Barrier(4)

    def pay() -> None:
        barrier.wait()
        try:
            with unit_of_work(f) as s:  # type: ignore[arg-type]
                deals.settle(s, deal_id, people[0], signer)
            results.append("paid")
        except GepError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("paid") == 1, results
    with unit_of_work(f) as s:  # type: ignore[arg-type]
        after = ledger.account_view(ledger.funds_of_caller(s, people[0]))["balance_fen"]
        assert before - after == 150_000 and s.get(Deal, deal_id).state == "certificate_issued"
