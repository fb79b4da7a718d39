"""Two people at once on PostgreSQL: the same year's settlement closed twice at the same moment posts once; the
same file of observations imported twice at once stores every value once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from gep.compensation import service
from gep.compensation.models import Observation, Settlement
from gep.db import unit_of_work
from gep.ledger.models import LedgerTransfer
from registry_fixtures import Platform, build
from test_compensation import OFFICE, basin_with, rows_for
from test_units_concurrency import at_once


@pytest.fixture
def platform(pg_url: str, tmp_path: Path) -> Platform:
    p = build(pg_url, tmp_path, with_accounts=False)
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        service.install_schemes(s)
    return p


def test_closing_the_same_year_twice_at_once_posts_once(platform: Platform) -> None:
    ids = basin_with(platform, "c1", [("K1", "A", "B", "II", "oujiang-r3-2024")])
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.import_observations(s, rows_for("K1", 2024, "0.8"), OFFICE)

    def close() -> object:
        with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
            return service.close(s, ids["K1"], 2024, OFFICE)[1]

    results = at_once(close, close)
    assert sorted(map(str, results)) == ["False", "True"], results
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        assert s.scalar(select(func.count()).select_from(Settlement)) == 1
        # two stakes and one payout to the upstream county
        assert s.scalar(select(func.count()).select_from(LedgerTransfer)) == 3


def test_the_same_file_imported_twice_at_once_stores_each_value_once(platform: Platform) -> None:
    basin_with(platform, "c2", [("K2", "A", "B", "II", "oujiang-r3-2024")])
    rows = rows_for("K2", 2025, "1.0")

    def load() -> object:
        with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
            r = service.import_observations(s, rows, OFFICE)
            return (r.stored, r.skipped)

    results = at_once(load, load)
    assert sorted(results) == [(0, 61), (61, 0)], results  # type: ignore[type-var]
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        assert s.scalar(select(func.count()).select_from(Observation)) == 61
