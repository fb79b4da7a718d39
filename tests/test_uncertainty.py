"""GEP with its uncertainty, checked by hand on a tiny region.

Known answers: a value linear in one ranged parameter, drawn uniformly over [a, b] by a Latin hypercube of N
samples, has its 5 and 95 % quantiles at a + 0.05·(b − a) and a + 0.95·(b − a) to within one stratum (b − a)/N;
one parameter at a time at its ends gives exactly value(a) and value(b); parameters without a range do not move.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gep.accounting.accounts import read_accounts
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.accounting.uncertainty import UncertaintySpec
from gep.errors import InputError
from gep.testing import TinyRegion

CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
LAYERS = {"npp": np.array([[500.0, 600, 400, 0], [0, 80, 300, 0]])}
N = 64
# carbon only, priced in 2010 so price year 2010 needs no index; the NEP/NPP table is the only ranged parameter
PROFILE = """
[profile]
id = "carbon-only"
extends = "national-2022"
indicators = ["carbon_sequestration"]
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("unc")
    (folder / "carbon.toml").write_text(PROFILE, encoding="utf-8")
    root = TinyRegion(CLASSES, LAYERS, method=str(folder / "carbon.toml")).write(folder / "region")
    acc = account(load_region(root), 2019, price_year=2010, uncertainty=UncertaintySpec(samples=N, seed=3))
    assert acc.uncertainty is not None
    return acc.table, acc.metadata, acc.uncertainty


def test_only_ranged_parameters_vary(runs: tuple[pd.DataFrame, dict, pd.DataFrame]) -> None:
    """national-2022 gives carbon_sequestration.nep_npp_ratio the range ×0.5–1.5; the price (published) has none."""
    _, meta, _ = runs
    varied = [p["id"] for p in meta["uncertainty"]["parameters"]]
    assert varied == ["carbon_sequestration.nep_npp_ratio"]
    assert meta["uncertainty"]["parameters"][0]["range"] == [0.5, 1.5]
    assert meta["uncertainty"]["samples"] == N and "Latin" in meta["uncertainty"]["method"]


def test_tornado_ends_are_exact(runs: tuple[pd.DataFrame, dict, pd.DataFrame]) -> None:
    """Carbon is linear in the NEP/NPP factor: at its ends GEP is exactly 0.5 and 1.5 times the value."""
    table, meta, _ = runs
    gep = table[table["level"] == "city"]["value_yuan"].sum()
    (row,) = meta["uncertainty"]["tornado"]
    assert row["gep_at_low"] == pytest.approx(0.5 * gep, rel=1e-12)
    assert row["gep_at_high"] == pytest.approx(1.5 * gep, rel=1e-12)
    assert row["swing"] == pytest.approx(gep, rel=1e-12)


def test_quantiles_are_those_of_the_uniform_factor(runs: tuple[pd.DataFrame, dict, pd.DataFrame]) -> None:
    """5–95 % of a uniform factor on [0.5, 1.5] is 0.55–1.45 of the value, at every zone and level, within one
    Latin-hypercube stratum (1/N of the range); the median is the value itself."""
    table, _, spread = runs
    values = table.groupby(["level", "zone_code"])["value_yuan"].sum()
    gep = spread[spread["indicator"] == "gep"].set_index(["level", "zone_code"])
    assert set(gep.index) == set(values.index)
    for key, v in values.items():
        if v == 0:
            continue
        r = gep.loc[key]
        assert r["p05"] / v == pytest.approx(0.55, abs=1.0 / N)
        assert r["p95"] / v == pytest.approx(1.45, abs=1.0 / N)
        assert r["p50"] / v == pytest.approx(1.0, abs=1.0 / N)
        assert r["value_yuan"] == pytest.approx(v, rel=1e-12)
        assert r["std"] / v == pytest.approx(1 / np.sqrt(12), rel=0.05)  # sd of U(0.5, 1.5)


def test_levels_add_up_in_every_quantile_of_a_single_parameter(runs: tuple[pd.DataFrame, dict, pd.DataFrame]
                                                              ) -> None:
    """With one parameter all zones move together, so the city's p05 is the sum of the villages' p05."""
    _, _, spread = runs
    gep = spread[spread["indicator"] == "gep"]
    city = gep[gep["level"] == "city"]["p05"].sum()
    villages = gep[gep["level"] == "village"]["p05"].sum()
    assert city == pytest.approx(villages, rel=1e-9)


def test_sensitivity_gives_the_one_parameter_everything(runs: tuple[pd.DataFrame, dict, pd.DataFrame]) -> None:
    _, meta, _ = runs
    (s,) = meta["uncertainty"]["sensitivity"]
    assert s["parameter"] == "carbon_sequestration.nep_npp_ratio" and s["s1"] > 0.9


def test_written_and_read_back(runs: tuple[pd.DataFrame, dict, pd.DataFrame], tmp_path: Path) -> None:
    """uncertainty.csv goes with the accounts and comes back with them (the report reads it)."""
    table, meta, spread = runs
    from gep.accounting.accounts import Accounts

    zones = pd.DataFrame({"level": ["city"], "zone_code": ["100100"]})
    ecosystems = pd.DataFrame({"level": ["city"], "zone_code": ["100100"], "ecosystem": ["marsh"], "area_km2": [1.0]})
    Accounts(table, meta, zones, ecosystems, uncertainty=spread).write(tmp_path / "acc", formats=("parquet",))
    back = read_accounts(tmp_path / "acc")
    assert back.uncertainty is not None and len(back.uncertainty) == len(spread)


def test_two_parameters_one_per_path(tmp_path: Path) -> None:
    """A statistics-based indicator (its price ranged by an override) and a pixel-based one vary together; each
    tornado end moves only its own indicator."""
    toml = ('\n[parameters."water_supply.price_domestic"]\nvalue = 2.6\nunit = "yuan/m3"\nyear = 2010\n'
            'source = "test"\nrange = [2.0, 3.0]\nrange_reason = "test"\n')
    stats = [{"zone_code": "100100", "year": 2019, "item": "water_supply.domestic", "value": 1000, "unit": "m3",
              "source": "test"}]
    (tmp_path / "p.toml").write_text(PROFILE.replace('["carbon_sequestration"]',
                                                     '["carbon_sequestration", "water_supply"]'), encoding="utf-8")
    root = TinyRegion(CLASSES, LAYERS, statistics=stats, method=str(tmp_path / "p.toml"),
                      extra_toml=toml).write(tmp_path / "r")
    acc = account(load_region(root), 2019, price_year=2010, uncertainty=UncertaintySpec(samples=32))
    table = acc.table[acc.table["level"] == "city"]
    carbon = table[table["indicator"] == "carbon_sequestration"]["value_yuan"].sum()
    water = table[table["indicator"] == "water_supply"]["value_yuan"].sum()
    assert water == pytest.approx(2600.0)
    ends = {r["parameter"]: r for r in acc.metadata["uncertainty"]["tornado"]}
    assert ends["water_supply.price_domestic"]["gep_at_low"] == pytest.approx(carbon + 2000.0, rel=1e-12)
    assert ends["water_supply.price_domestic"]["gep_at_high"] == pytest.approx(carbon + 3000.0, rel=1e-12)
    assert ends["carbon_sequestration.nep_npp_ratio"]["gep_at_low"] == pytest.approx(0.5 * carbon + water)
    spread = acc.uncertainty.set_index(["level", "indicator"])  # type: ignore[union-attr]
    w = spread.loc[("city", "water_supply")]
    assert 2000 <= w["p05"] <= 2000 + 0.05 * 1000 + 1000 / 32 and w["p95"] >= 3000 - 0.05 * 1000 - 1000 / 32


def test_bad_sample_count_is_refused() -> None:
    with pytest.raises(InputError, match="between 16 and 4096"):
        UncertaintySpec(samples=3)


def test_report_has_the_range_and_the_tornado(tmp_path: Path) -> None:
    """`gep account --uncertainty` writes uncertainty.csv; the report built from the folder has a numbered
    section with GEP's 5–95 % range and the tornado, and the parameter table gives each status and range."""
    from typer.testing import CliRunner

    from gep.cli import app
    from gep.report.model import build_report

    (tmp_path / "carbon.toml").write_text(PROFILE, encoding="utf-8")
    root = TinyRegion(CLASSES, LAYERS, method=str(tmp_path / "carbon.toml")).write(tmp_path / "region")
    out = tmp_path / "acc"
    result = CliRunner().invoke(app, ["account", str(root), "--out", str(out), "--uncertainty", "--samples", "16",
                                      "--price-year", "2010", "--no-density"])
    assert result.exit_code == 0, result.output
    assert "GEP 5–95 %" in result.output and (out / "uncertainty.csv").exists()
    report = build_report([read_accounts(out)], "en")
    section = next(s for s in report.sections if s.id == "uncertainty")
    assert section.title.startswith(f"{report.sections.index(section) + 1}. ")
    table = next(b for b in section.blocks if getattr(b, "id", "") == "uncertainty")
    gep_row = table.rows[0]
    assert gep_row[0] == "GEP"
    assert any(getattr(b, "id", "") == "tornado" for b in section.blocks)
    params = next(b for s in report.sections for b in s.blocks if getattr(b, "id", "") == "parameters")
    row = next(r for r in params.rows if r[0].startswith("carbon_sequestration.nep_npp_ratio"))
    assert row[4] == "no source" and row[5] == "×0.5–1.5"
