"""A monitoring station at a cross-county section feeds watershed compensation: once a month holds three quarters
of its hours, its monthly means arrive (by event) as the section's observations; a later import moves them while
the year is open; a closed year is never changed; a second delivery changes nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from gep.compensation import handlers as compensation_handlers
from gep.compensation import service as compensation
from gep.compensation.models import Observation
from gep.db import unit_of_work
from gep.kit.events import Event, OutboxEvent
from gep.monitoring import rules, service
from registry_fixtures import Platform, build
from test_compensation import OFFICE, basin_with, rows_for
from test_monitoring import CENTRE


@pytest.fixture(scope="module")
def platform(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    p = build(empty_db, tmp_path_factory.mktemp("feed"), with_accounts=False)
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        compensation.install_schemes(s)
    basin_with(p, "fb", [("S1", "A", "B", "II", "oujiang-r3-2024"), ("S2", "A", "B", "II", "oujiang-r3-2024")])
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        service.add_station(s, "W7", "交接断面自动站", "water_section", 119.6, 28.0, CENTRE, section_code="S1")
        service.add_station(s, "W8", "另一个断面站", "water_section", 119.7, 28.0, CENTRE, section_code="S2")
    return p


def month(station: str, parameter: str, value: float, start: str, hours: int) -> pd.DataFrame:
    t = pd.date_range(start, periods=hours, freq="h")
    return pd.DataFrame({"station": station, "time": t.strftime("%Y-%m-%d %H:%M"), "parameter": parameter,
                         "value": [str(value)] * hours, "unit": "mg/L"})


def deliver(p: Platform) -> int:
    """Hand every month_measured event not yet seen to compensation's handler, as the worker would (twice)."""
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        rows = list(s.scalars(select(OutboxEvent).where(OutboxEvent.type == service.MONTH_MEASURED,
                                                        OutboxEvent.fanned_out.is_(False))))
        for e in rows:
            event = Event(e.id, e.type, e.payload, None, e.created_at)
            compensation_handlers.month_measured(s, event)
            compensation_handlers.month_measured(s, event)  # at least once: a second delivery changes nothing
            e.fanned_out = True
        return len(rows)


def observations(p: Platform, section: str, year: int, month_: int) -> dict[str, str]:
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        sid = s.scalar(select(compensation.Section.id).where(compensation.Section.code == section))
        return {o.parameter: o.value for o in s.scalars(select(Observation).where(
            Observation.section_id == sid, Observation.year == year, Observation.month == month_))}


def test_a_months_means_become_the_sections_observations(platform: Platform) -> None:
    jan = pd.concat([month("W7", "codmn", 2.0, "2023-01-01 00:00", 744), month("W7", "nh3n", 0.25, "2023-01-01", 744),
                     month("W7", "tp", 0.05, "2023-01-01", 500)])  # TP: two thirds of the month, not enough
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.import_readings(s, jan, CENTRE, "jan.csv")
    assert deliver(platform) == 1
    assert observations(platform, "S1", 2023, 1) == {"codmn": "2.0000", "nh3n": "0.2500"}
    rest = month("W7", "tp", 0.08, "2023-01-21 20:00", 244)  # the rest of January: TP now has every hour
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.import_readings(s, rest, CENTRE, "jan-rest.csv")
    assert deliver(platform) == 1
    tp = (Decimal("0.05") * 500 + Decimal("0.08") * 244) / 744
    assert observations(platform, "S1", 2023, 1) == {"codmn": "2.0000", "nh3n": "0.2500",
                                                      "tp": str(tp.quantize(Decimal("0.0001")))}


def test_an_open_year_moves_and_a_closed_year_stays(platform: Platform) -> None:
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        fed = compensation.feed_month(s, "S2", 2025, 3, {"codmn": "2.5", "flow": "120"}, "test")
        assert (fed.stored, fed.updated) == (["codmn", "flow"], [])
        fed = compensation.feed_month(s, "S2", 2025, 3, {"codmn": "2.7"}, "test")
        assert (fed.updated, fed.unchanged) == (["codmn"], [])
        assert compensation.feed_month(s, "S2", 2025, 3, {"codmn": "2.7", "efficiency": "30", "tp": "-1"},
                                       "test").refused == ["efficiency", "tp"]  # yearly; impossible
        assert compensation.feed_month(s, "NOPE", 2025, 3, {"codmn": "2"}, "test").stored == []
    assert observations(platform, "S2", 2025, 3) == {"codmn": "2.7", "flow": "120"}
    ids = basin_with(platform, "fc", [("S3", "A", "B", "II", "oujiang-r3-2024")])
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        compensation.import_observations(s, rows_for("S3", 2024, "1.0"), OFFICE)
        compensation.close(s, ids["S3"], 2024, OFFICE)
    before = observations(platform, "S3", 2024, 1)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        assert compensation.feed_month(s, "S3", 2024, 1, {"codmn": "9.9"}, "test").refused == ["codmn"]
    assert observations(platform, "S3", 2024, 1) == before and before["codmn"] == "2.00"


def test_the_feed_is_configured(tmp_path: Path) -> None:
    cfg = rules.config()
    assert cfg.feed_coverage == 0.75 and cfg.feed["discharge"] == "flow"
    start, end = rules.month_bounds(2024, 2)
    assert (start.isoformat(), end.isoformat()) == ("2024-01-31T16:00:00+00:00", "2024-02-29T16:00:00+00:00")
