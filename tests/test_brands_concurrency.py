"""Two processes append to the same batch's chain at once on PostgreSQL: every append lands, the chain stays one
line (sequence numbers 1…n, each record linked to the one before) and verifies; a sale racing another for the
last of a batch is refused rather than overselling it."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from gep.brands import service
from gep.certificates import keys
from gep.db import make_engine, session_factory, unit_of_work
from gep.errors import Conflict
from registry_fixtures import Platform, build
from test_brands import OFFICE, PASS, new_batch, one_parcel, pixel_box

APPENDS = 25


def in_processes(target: Any, args: list[tuple[Any, ...]]) -> list[Any]:
    """Run `target(*a, start, results)` for each `a` in a spawned process of its own, released together."""
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, start, results)) for a in args]
    for proc in procs:
        proc.start()
    start.set()
    out = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(60)
    return out


def append_many(url: str, key: str, batch_id: int, n: int, start: Any, results: Any) -> None:
    """In a process of its own: wait for the start signal, then append n processing steps, each its own
    transaction."""
    factory = session_factory(make_engine(url))
    signer = keys.signer(Path(key))
    start.wait()
    try:
        for i in range(n):
            with unit_of_work(factory) as s:
                service.append(s, batch_id, "processing", {"process": f"step {i}", "output": "1"}, OFFICE, signer)
    except Exception as exc:  # said, not swallowed: the test compares what each process reports
        results.put(repr(exc))
        return
    results.put(n)


def sell(url: str, key: str, batch_id: int, buyer: int, start: Any, results: Any) -> None:
    factory = session_factory(make_engine(url))
    start.wait()
    try:
        with unit_of_work(factory) as s:
            service.append(s, batch_id, "sale", {"buyer": buyer, "quantity": "70", "unit_price_yuan": "400"},
                           OFFICE, keys.signer(Path(key)))
    except Conflict:
        results.put("refused")
        return
    results.put("sold")


@pytest.fixture
def world(pg_url: str, tmp_path: Path) -> tuple[Platform, dict[str, Any], str]:
    p = build(pg_url, tmp_path, with_accounts=False)
    parcel_id, _ = one_parcel(p, pixel_box(0, 2, 0, 2), "TEA-1", holder_name="茶农甲")
    key = str(tmp_path / "key.pem")
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        grower = service.add_producer(s, "茶农甲", "grower", OFFICE)
        maker = service.add_producer(s, "某茶企", "processor", OFFICE)
        trader = service.add_producer(s, "某茶商", "trader", OFFICE)
        app = service.apply(s, maker.id, "tea", "银猴", [parcel_id], OFFICE)
        service.act(s, app.id, "inspect", OFFICE)
        service.inspect(s, app.id, PASS, OFFICE)
        service.act(s, app.id, "certify", OFFICE)
    return p, {"grower": grower.id, "trader": trader.id, "app": app.id}, key


def test_two_processes_append_to_one_chain_at_once(world: tuple[Platform, dict[str, Any], str]) -> None:
    p, w, key = world
    signer = keys.signer(Path(key))
    bid = new_batch(p, w, signer)
    assert in_processes(append_many, [(p.url, key, bid, APPENDS)] * 2) == [APPENDS, APPENDS]
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        recs = service.records(s, bid)
        assert [r.seq for r in recs] == list(range(1, 3 + 2 * APPENDS + 1))
        assert all(b.prev == a.hash for a, b in itertools.pairwise(recs))
        assert service.verify(s, service.get_batch(s, bid)) == []


def test_two_sales_of_the_last_of_a_batch_at_once_sell_it_once(world: tuple[Platform, dict[str, Any], str]) -> None:
    p, w, key = world
    bid = new_batch(p, w, keys.signer(Path(key)), quantity="100")
    assert sorted(in_processes(sell, [(p.url, key, bid, w["trader"])] * 2)) == ["refused", "sold"]
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        assert str(service.remaining(s, service.get_batch(s, bid))) == "30"
