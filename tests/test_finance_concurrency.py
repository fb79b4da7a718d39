"""Two people at once on PostgreSQL: two banks approving two loans that pledge the same right — one pledge
wins, the other is refused; the same repayment sent twice at once (a double click on two devices) pays once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from exchange_fixtures import World, make_world
from gep.auth import service as auth
from gep.credit import service as credit
from gep.db import unit_of_work
from gep.errors import Conflict
from gep.finance import service
from gep.finance.models import Instalment
from gep.kit.principal import SYSTEM, Principal
from gep.ledger import service as ledger
from gep.registry import service as registry
from test_units_concurrency import at_once


@pytest.fixture
def world(pg_url: str, tmp_path: Path) -> World:
    w = make_world(pg_url, tmp_path)
    with unit_of_work(w.platform.factory) as s:  # type: ignore[arg-type]
        for name in ("甲银行", "乙银行"):
            w.orgs[name] = auth.create_organisation(s, name, "bank", SYSTEM).id
        holder = registry.get_right(s, w.rights["张三"]).holder_id
        sid = credit.subject(s, "individual", f"holder:{holder}", "张三", user_id=w.ids["seller"],
                             holder_id=holder).id
        for code, qty in (("P06", ""), ("P04", "national")):
            e = credit.record(s, credit.NewEvent(sid, code, credit.today(), qty, "证书"), SYSTEM, authorised=True)
            credit.review(s, e.id, True, "", SYSTEM, authorised=True)
        ledger.payment_in(s, ledger.funds_of(s, None, w.ids["seller"]), 1_000_000, "funds", SYSTEM, key="c-funds")
    return w


def banker(w: World, name: str) -> Principal:
    return Principal(None, name, "bank_officer", w.orgs[name], frozenset({service.LEND}), "system", party=name)


def test_two_banks_pledging_the_same_right_at_once_one_wins(world: World) -> None:
    right = world.rights["张三"]
    seller = world.principal("seller").with_permissions(frozenset({service.BORROW}))
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        ids = [service.apply(s, "liangshan", world.orgs[b], 100_000, 6, [right], "", seller, f"c{b}").id
               for b in ("甲银行", "乙银行")]

    def approve(loan_id: int, bank: str) -> object:
        with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
            return service.approve(s, loan_id, banker(world, bank)).state

    results = at_once(lambda: approve(ids[0], "甲银行"), lambda: approve(ids[1], "乙银行"))
    assert sum(r == "approved" for r in results) == 1, results
    assert any(isinstance(r, Conflict) for r in results), results
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        locks = registry.locks_of(s, [right])[right]
        assert [k.kind for k in locks] == ["pledge"]


def test_the_same_repayment_twice_at_once_pays_once(world: World) -> None:
    seller = world.principal("seller").with_permissions(frozenset({service.BORROW}))
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        loan = service.apply(s, "liangshan", world.orgs["甲银行"], 100_000, 6, [], "", seller, "r-loan")
        service.approve(s, loan.id, banker(world, "甲银行"))
        service.disburse(s, loan.id, banker(world, "甲银行"))
        lid = loan.id

    def repay() -> object:
        with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
            return service.repay(s, lid, seller, "same-click").n

    results = at_once(repay, repay)
    assert results == [1, 1], results
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        paid = s.scalar(select(func.count()).select_from(Instalment).where(Instalment.loan_id == lid,
                                                                           Instalment.state == "paid"))
        assert paid == 1
