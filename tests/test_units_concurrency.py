"""Two people at once on PostgreSQL: two retirements of the same carbon units — one succeeds, the other is
refused and nothing is retired twice; two sales of the same discharge quota — the reserve never goes below
zero."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exchange_fixtures import World, make_world
from gep.auth import service as auth
from gep.carbon import service as carbon
from gep.carbon.models import Retirement, UnitBlock
from gep.certificates import keys
from gep.db import unit_of_work
from gep.discharge import service as discharge
from gep.errors import Conflict
from gep.kit.principal import SYSTEM, Principal


@pytest.fixture
def world(pg_url: str, tmp_path: Path) -> World:
    return make_world(pg_url, tmp_path)


def at_once(*jobs: object) -> list[object]:
    """Run the jobs on threads released by one barrier; what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, job: object) -> None:
        barrier.wait()
        try:
            results[i] = job()  # type: ignore[operator]
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_retirements_of_the_same_units_at_once_one_succeeds(world: World) -> None:
    dev = world.principal("coop")
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        p = carbon.create_project(s, "并发项目", "afforestation", "bef-provincial-2011", world.platform.region_id,
                                  [carbon.StandInput("F0", "chinese_fir")], date(2019, 1, 1), dev)
        period = carbon.report_period(s, p.id, date(2019, 1, 1), date(2020, 12, 31), [
            {"parcel_code": "F0", "baseline_start": 1, "baseline_end": 1, "project_start": 1, "project_end": 500}],
            dev)
        carbon.submit_period(s, period.id, dev)
        carbon.verify_period(s, period.id, True, 100, "ok", world.principal("officer"))
        row = carbon.issue(s, period.id, world.principal("admin"))
        account_id = carbon.holding_account(s, world.orgs["甲合作社"], None, "甲合作社").id
        project_id, first = p.id, row.start
    signer = keys.signer(keys.key_path(world.tmp / "data"))

    def retire(key: str, beneficiary: str) -> object:
        with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
            req = carbon.RetireRequest(account_id, "event", beneficiary, project_id=project_id, start=first + 10,
                                       end=first + 59)
            return carbon.retire(s, req, key, dev, signer).code

    results = at_once(lambda: retire("a", "赛事甲"), lambda: retire("b", "赛事乙"))
    done = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(done) == 1 and len(refused) == 1, results
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        retired = s.scalar(select(func.sum(UnitBlock.end - UnitBlock.start + 1)).where(
            UnitBlock.project_id == project_id, UnitBlock.state == "retired"))
        assert retired == 50
        assert s.scalar(select(func.count()).select_from(Retirement)) == 1
        assert carbon.get_project(s, project_id).retired_t == 50


def test_two_offers_of_the_same_reserve_at_once_never_overdraw_it(world: World) -> None:
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        org = auth.create_organisation(s, "生态环境局", "government", SYSTEM).id
    bureau = Principal(world.ids["admin"], "生态环境局", "test", org, frozenset({"*"}), "system", party="生态环境局")
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        discharge.set_cap(s, "100101", "cod", 2027, 1_000_000, bureau)  # 1 t

    def offer() -> object:
        with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
            return discharge.offer(s, "cod", 2027, 2027, 700, bureau, county_code="100101").id  # 0.7 t each

    results = at_once(offer, offer)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        assert discharge.balance(s, discharge.reserve_of(s, "100101").id, "cod", 2027) == 300_000
