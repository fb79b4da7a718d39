"""Two people at once on PostgreSQL: the same sheet computed twice at once is stored once; the same value
submitted twice at once is stored once (and so never counts as a correction); the same reward round approved
twice at once pays once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from gep.assessment import rewards, service
from gep.assessment.models import RewardRound, ScoreSheet, Submission
from gep.db import unit_of_work
from gep.ledger.models import LedgerTransfer
from test_assessment import COUNTY, K1, K2, OFFICE, World, make_world, rows
from test_units_concurrency import at_once


@pytest.fixture
def world(pg_url: str, tmp_path: Path) -> World:
    return make_world(pg_url, tmp_path)


def test_computing_twice_at_once_stores_one_sheet(world: World) -> None:
    def compute() -> object:
        with unit_of_work(world.factory) as s:
            return service.compute(s, COUNTY, world.region_id, 2020, OFFICE).id

    a, b = at_once(compute, compute)
    assert a == b
    with unit_of_work(world.factory) as s:
        assert s.scalar(select(func.count()).select_from(ScoreSheet)) == 1


def test_the_same_value_sent_twice_at_once_is_stored_once(world: World) -> None:
    data = rows("D1.2", "%", {K1: "6.1", K2: "4.2"})

    def send() -> object:
        with unit_of_work(world.factory) as s:
            r = service.submit(s, COUNTY, 2020, world.region_id, data, OFFICE)
            return (r.stored, r.unchanged)

    assert sorted(at_once(send, send)) == [(0, 2), (2, 0)]  # type: ignore[type-var]
    with unit_of_work(world.factory) as s:
        assert s.scalar(select(func.count()).select_from(Submission).where(Submission.indicator == "D1.2")) == 2


def test_approving_a_round_twice_at_once_pays_once(world: World) -> None:
    with unit_of_work(world.factory) as s:
        round_id = rewards.compute_round(s, "gep-increment-2019", world.region_id, 2020, OFFICE).id

    def approve() -> object:
        with unit_of_work(world.factory) as s:
            return rewards.approve(s, round_id, OFFICE)[1]

    assert sorted(map(str, at_once(approve, approve))) == ["False", "True"]
    with unit_of_work(world.factory) as s:
        assert s.scalar(select(func.count()).select_from(RewardRound)) == 1
        assert s.scalar(select(func.count()).select_from(LedgerTransfer)) == 2  # two townships grew
