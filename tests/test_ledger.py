"""The ledger: hand-computed holds, partial captures and reversals; property tests (hypothesis) that any sequence
of transfers keeps every batch balanced and every balance within its limits, in the rules and in the database;
and on PostgreSQL, many clients spending one account at once never take it below zero, and a hold is settled
once when a capture and a release race."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import or_
from sqlalchemy.orm import Session, sessionmaker

from gep.db import make_engine, session_factory, unit_of_work
from gep.errors import InputError
from gep.kit.principal import SYSTEM
from gep.ledger import rules, service
from gep.ledger.models import LedgerAccount, LedgerTransfer
from gep.migrations import upgrade

# -- the rules, by hand -----------------------------------------------------------------------------------------


def book(*accounts: rules.Account) -> rules.Book:
    return rules.Book({a.id: a for a in accounts}, {})


BANK, ALICE, ESCROW, SELLER = (rules.Account(1, "asset"), rules.Account(2, "liability", no_overdraft=True),
                               rules.Account(3, "liability", no_overdraft=True),
                               rules.Account(4, "liability", no_overdraft=True))


def test_a_deposit_is_held_then_partly_taken_and_the_rest_released() -> None:
    b = rules.apply(book(BANK, ALICE, ESCROW, SELLER), rules.Transfer(1, 1, 2, 100_000))  # 1,000 yuan paid in
    assert (b.accounts[2].balance, b.accounts[1].balance, b.accounts[2].available) == (100_000, 100_000, 100_000)
    b = rules.apply(b, rules.Transfer(2, 2, 3, 30_000, rules.PENDING))  # a 300 yuan deposit held
    assert (b.accounts[2].balance, b.accounts[2].available, b.accounts[3].credits_pending) == (100_000, 70_000, 30_000)
    with pytest.raises(rules.LedgerError, match=r"does not hold enough: 700\.00 yuan available, 800\.00 yuan asked"):
        rules.apply(b, rules.Transfer(3, 2, 4, 80_000))  # the held money cannot be spent as well
    b = rules.apply(b, rules.Transfer(4, 0, 0, 20_000, rules.POST, pending_id=2))  # 200 taken, 100 released
    assert (b.accounts[2].balance, b.accounts[2].available, b.accounts[3].balance) == (80_000, 80_000, 20_000)
    assert b.holds == {} and rules.balanced(b)
    with pytest.raises(rules.LedgerError, match="settled already"):
        rules.apply(b, rules.Transfer(5, 0, 0, 0, rules.VOID, pending_id=2))


def test_a_refused_transfer_changes_nothing() -> None:
    b = rules.apply(book(BANK, ALICE, ESCROW), rules.Transfer(1, 1, 2, 500))
    for bad in (rules.Transfer(2, 2, 3, 501), rules.Transfer(2, 2, 2, 1), rules.Transfer(2, 2, 3, 0),
                rules.Transfer(2, 2, 3, -5), rules.Transfer(2, 2, 99, 1), rules.Transfer(2, 0, 0, 1, rules.POST, 77)):
        with pytest.raises(rules.LedgerError):
            rules.apply(b, bad)
    assert b.accounts[2].balance == 500


@pytest.mark.parametrize(("value", "fen"), [("0.01", 1), ("12", 1200), ("1234567.89", 123456789),
                                           (Decimal("5.5"), 550)])
def test_yuan_to_fen(value: object, fen: int) -> None:
    assert rules.to_fen(value) == fen and rules.to_yuan(fen) == Decimal(fen) / 100


@pytest.mark.parametrize("bad", ["0.001", "abc", "NaN", "Infinity", "1e-3", ""])
def test_not_yuan(bad: str) -> None:
    with pytest.raises(InputError):
        rules.to_fen(bad)


# -- the rules, as properties -------------------------------------------------------------------------------------

class LedgerRules(RuleBasedStateMachine):
    """Random transfers, holds, captures and releases between a bank, three participants and an escrow: the book
    always balances, no limited account goes past its limit, and a refused transfer leaves the book as it was."""

    @initialize()
    def start(self) -> None:
        self.book = book(BANK, rules.Account(2, "liability", no_overdraft=True),
                         rules.Account(3, "liability", no_overdraft=True),
                         rules.Account(4, "liability", no_overdraft=True), rules.Account(5, "liability",
                                                                                            no_overdraft=True),
                         rules.Account(6, "revenue", no_overdraft=True))
        self.next_id = 1
        self.refused = 0

    def _try(self, t: rules.Transfer) -> None:
        before = self.book
        try:
            self.book = rules.apply(self.book, t)
        except (rules.LedgerError, InputError):
            assert self.book is before
            self.refused += 1
        self.next_id += 1

    @rule(to=st.integers(2, 5), amount=st.integers(1, 10**6))
    def pay_in(self, to: int, amount: int) -> None:
        self._try(rules.Transfer(self.next_id, 1, to, amount))

    @rule(a=st.integers(1, 6), b=st.integers(1, 6), amount=st.integers(-5, 10**6))
    def move(self, a: int, b: int, amount: int) -> None:
        self._try(rules.Transfer(self.next_id, a, b, amount))

    @rule(a=st.integers(2, 4), amount=st.integers(1, 10**6))
    def hold(self, a: int, amount: int) -> None:
        self._try(rules.Transfer(self.next_id, a, 5, amount, rules.PENDING))

    @rule(pick=st.integers(0, 50), capture=st.booleans(), share=st.floats(0, 1.2))
    def settle(self, pick: int, capture: bool, share: float) -> None:
        ids = sorted(self.book.holds) or [10**9]
        hold_id = ids[pick % len(ids)]
        held = self.book.holds.get(hold_id)
        amount = int((held.amount if held else 1) * share)
        self._try(rules.Transfer(self.next_id, 0, 0, amount, rules.POST if capture else rules.VOID, hold_id))

    @invariant()
    def balanced_and_within_limits(self) -> None:
        assert rules.balanced(self.book)
        assert all(a.within_limits() for a in self.book.accounts.values())
        assert sum(h.amount for h in self.book.holds.values()) == sum(a.debits_pending for a in
                                                                       self.book.accounts.values())


TestLedgerRules = LedgerRules.TestCase
TestLedgerRules.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


# -- the service, against the database ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def factory(empty_db: str) -> Iterator[sessionmaker[Session]]:
    upgrade(empty_db)
    engine = make_engine(empty_db)
    yield session_factory(engine)
    engine.dispose()


def _accounts(f: sessionmaker[Session], tag: str, n: int = 3) -> list[int]:
    with unit_of_work(f) as s:
        return [service.open_account(s, f"test:{tag}:{i}", f"{tag} {i}", "liability", "funds", no_overdraft=True).id
                for i in range(n)]


def test_a_batch_is_all_or_nothing_and_a_retry_moves_nothing(factory: sessionmaker[Session]) -> None:
    a, b, c = _accounts(factory, "batch")
    with unit_of_work(factory) as s:
        service.payment_in(s, s.get(LedgerAccount, a), 10_000, "in", SYSTEM, key="batch-in")
    with pytest.raises(rules.LedgerError), unit_of_work(factory) as s:
        service.post(s, [service.Move(a, b, 6_000, "price"), service.Move(a, c, 6_000, "price")], key="batch-1")
    with unit_of_work(factory) as s:
        assert [s.get(LedgerAccount, x).credits_posted - s.get(LedgerAccount, x).debits_posted for x in (a, b, c)] \
            == [10_000, 0, 0]  # the first move did not happen either
        done = service.post(s, [service.Move(a, b, 6_000, "price"), service.Move(a, c, 4_000, "fee")], key="batch-2")
        assert not done.replayed
    with unit_of_work(factory) as s:
        again = service.post(s, [service.Move(a, b, 6_000, "price"), service.Move(a, c, 4_000, "fee")], key="batch-2")
        assert again.replayed and [t.id for t in again.transfers] == [t.id for t in done.transfers]
        assert s.get(LedgerAccount, b).credits_posted == 6_000


def test_a_correction_is_a_reversal_once(factory: sessionmaker[Session]) -> None:
    a, _, _ = _accounts(factory, "rev")
    with unit_of_work(factory) as s:
        t = service.payment_in(s, s.get(LedgerAccount, a), 5_000, "wrong account", SYSTEM, key="rev-in")
    with unit_of_work(factory) as s:
        r1 = service.reverse(s, t.id, "paid to the wrong account", SYSTEM)
    with unit_of_work(factory) as s:
        r2 = service.reverse(s, t.id, "again", SYSTEM)
        assert r1.id == r2.id
        acc = s.get(LedgerAccount, a)
        assert acc.credits_posted - acc.debits_posted == 0 and s.get(LedgerTransfer, t.id).amount == 5_000
        lines = service.statement(s, acc)
        assert [(x["code"], x["balance_fen"]) for x in lines] == [("reversal", 0), ("payment_in", 5_000)]
        with pytest.raises(rules.LedgerError):
            service.reverse(s, r1.id, "reverse the reversal", SYSTEM)


OPS = st.lists(st.tuples(st.sampled_from(["pay_in", "move", "hold", "capture", "release", "pay_out"]),
                         st.integers(0, 2), st.integers(0, 2), st.integers(1, 50_000)), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_any_sequence_keeps_the_stored_books_balanced(factory: sessionmaker[Session], ops: list) -> None:
    """The stored balances always equal a replay of the stored transfers, balance, and stay within limits."""
    tag = f"prop{uuid.uuid4().hex[:10]}"
    ids = _accounts(factory, tag)
    holds: list[int] = []
    for i, (op, x, y, amount) in enumerate(ops):
        try:
            with unit_of_work(factory) as s:
                acc = [s.get(LedgerAccount, k) for k in ids]
                if op == "pay_in":
                    service.payment_in(s, acc[x], amount, "in", SYSTEM, key=f"{tag}:{i}")
                elif op == "pay_out":
                    service.payment_out(s, acc[x], amount, "out", SYSTEM, key=f"{tag}:{i}")
                elif op == "move":
                    service.post(s, [service.Move(ids[x], ids[y], amount, "price")], key=f"{tag}:{i}")
                elif op == "hold":
                    holds.append(service.hold(s, acc[x], acc[y], amount, "deposit", key=f"{tag}:{i}").id)
                elif holds:
                    h = holds[x % len(holds)]
                    service.settle_hold(s, h, capture=op == "capture", key=f"{tag}:{i}",
                                        amount=None if op == "release" else max(1, amount % 1000))
        except (rules.LedgerError, InputError):
            pass
    with unit_of_work(factory) as s:
        transfers = s.query(LedgerTransfer).filter(or_(LedgerTransfer.debit_account_id.in_(ids),
                                                       LedgerTransfer.credit_account_id.in_(ids))).all()
        settled = {t.pending_id for t in transfers if t.pending_id is not None}
        for k in ids:
            a = s.get(LedgerAccount, k)
            posted = [t for t in transfers if t.kind in (rules.PLAIN, rules.POST)]
            open_holds = [t for t in transfers if t.kind == rules.PENDING and t.id not in settled]
            # the stored balances are exactly the replay of the stored transfers …
            assert a.debits_posted == sum(t.amount for t in posted if t.debit_account_id == k)
            assert a.credits_posted == sum(t.amount for t in posted if t.credit_account_id == k)
            assert a.debits_pending == sum(t.amount for t in open_holds if t.debit_account_id == k)
            # … and a participant's funds never go below zero, holds included
            assert a.debits_posted + a.debits_pending <= a.credits_posted


def test_the_balance_sheet_balances(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as s:
        sheet = service.balance_sheet(s, SYSTEM)
        assert sheet["balanced"] and sheet["debits_fen"] == sheet["credits_fen"]
        assert sheet["pending_debits_fen"] == sheet["pending_credits_fen"]


# -- PostgreSQL: many at once ---------------------------------------------------------------------------------------

def test_many_clients_spending_one_account_at_once_never_overdraw_it(pg_url: str) -> None:
    upgrade(pg_url)
    f = session_factory(make_engine(pg_url))
    with unit_of_work(f) as s:
        payer = service.open_account(s, "test:payer", "payer", "liability", "funds", no_overdraft=True)
        payees = [service.open_account(s, f"test:payee{i}", f"payee {i}", "liability", "funds",
                                       no_overdraft=True).id for i in range(4)]
        service.payment_in(s, payer, 100_000, "in", SYSTEM, key="pg-in")
        payer_id = payer.id
    results: list[str] = []
    barrier = threading.Barrier(24)

    def spend(i: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(f) as s:
                service.post(s, [service.Move(payer_id, payees[i % 4], 7_000, "price")], key=f"pg-spend-{i}")
            results.append("ok")
        except rules.LedgerError:
            results.append("refused")

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with unit_of_work(f) as s:
        payer_row = s.get(LedgerAccount, payer_id)
        received = sum(s.get(LedgerAccount, p).credits_posted for p in payees)
        # 100,000 fen buys 14 payments of 7,000 (98,000): exactly 14 succeed, whatever the order
        assert results.count("ok") == 14 and received == 98_000
        assert payer_row.credits_posted - payer_row.debits_posted == 2_000
        assert service.balance_sheet(s, SYSTEM)["balanced"]


def test_a_capture_and_a_release_racing_settle_a_hold_once(pg_url: str) -> None:
    upgrade(pg_url)
    f = session_factory(make_engine(pg_url))
    with unit_of_work(f) as s:
        bidder = service.open_account(s, "test:bidder", "bidder", "liability", "funds", no_overdraft=True)
        escrow = service.platform_account(s, "escrow")
        service.payment_in(s, bidder, 50_000, "in", SYSTEM, key="race-in")
        hold_id = service.hold(s, bidder, escrow, 20_000, "deposit", key="race-hold").id
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def settle(i: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(f) as s:
                service.settle_hold(s, hold_id, capture=i % 2 == 0, key=f"race-{i}")
            outcomes.append("capture" if i % 2 == 0 else "release")
        except rules.LedgerError:
            outcomes.append("refused")

    threads = [threading.Thread(target=settle, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([o for o in outcomes if o != "refused"]) == 1, outcomes
    with unit_of_work(f) as s:
        b = s.get(LedgerAccount, bidder.id)
        assert b.debits_pending == 0 and s.get(LedgerAccount, escrow.id).credits_pending == 0
        taken = 20_000 if "capture" in outcomes else 0
        assert b.credits_posted - b.debits_posted == 50_000 - taken
