"""The built-in demo, run through the CLI as a user would: accounts at four levels that add up exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import Demo
from gep.accounting.accounts import read_accounts

pytestmark = pytest.mark.slow  # the demo build takes about 30 s


@pytest.fixture(scope="module")
def table(demo_accounts_only: Demo) -> pd.DataFrame:
    return read_accounts(demo_accounts_only.accounts).table


def test_four_levels_with_the_real_units(table: pd.DataFrame) -> None:
    counts = table.groupby("level")["zone_code"].nunique()
    assert counts["city"] == 1 and counts["county"] == 9 and counts["township"] == 173
    assert counts["village"] > 1500
    assert set(table[table.level == "county"]["zone_name"]) >= {"莲都区", "龙泉市", "景宁畲族自治县"}


@pytest.mark.parametrize("lower", ["county", "township", "village"])
def test_every_level_sums_to_the_city(table: pd.DataFrame, lower: str) -> None:
    keys = ["indicator", "sub_indicator"]
    city = table[table.level == "city"].set_index(keys)[["quantity", "value_yuan"]].sort_index()
    summed = table[table.level == lower].groupby(keys)[["quantity", "value_yuan"]].sum().sort_index()
    pd.testing.assert_frame_equal(city, summed, rtol=1e-9, check_exact=False)


def test_each_zone_is_the_sum_of_its_children(table: pd.DataFrame) -> None:
    keys = ["parent_code", "indicator", "sub_indicator"]
    for parent, child in (("county", "township"), ("township", "village")):
        up = table[table.level == parent].set_index(["zone_code", "indicator", "sub_indicator"])["value_yuan"]
        down = table[table.level == child].groupby(keys)["value_yuan"].sum()
        down.index.names = up.index.names
        pd.testing.assert_series_equal(up.sort_index(), down.reindex(up.index).sort_index(), rtol=1e-9,
                                       check_names=False)


def test_zone_areas_sum_to_the_city(demo_accounts_only: Demo) -> None:
    zones = pd.read_csv(demo_accounts_only.accounts / "zones.csv", dtype={"zone_code": str})
    city = zones[zones.level == "city"]["area_km2"].iloc[0]
    for level in ("county", "township", "village"):
        assert zones[zones.level == level]["area_km2"].sum() == pytest.approx(city, rel=1e-12)
    # pixel-centre areas agree with the polygons (17 259 km² on the WGS84 ellipsoid) to within a pixel row
    assert city == pytest.approx(17_259.1, rel=0.01)


def test_outputs_metadata_and_comparison(demo_accounts_only: Demo) -> None:
    out = demo_accounts_only.accounts
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["method"]["id"] == "zhejiang-2020"
    assert meta["inputs"]["layer:dem"]["synthetic"] is False
    assert meta["inputs"]["layer:ecosystem"]["synthetic"] is True
    assert any("geographic CRS" in n for n in meta["notes"])  # the real DEM ships in EPSG:4326
    comparison = json.loads((demo_accounts_only.workdir / "accounts" / "comparison.json").read_text(encoding="utf-8"))
    assert comparison["published"]["gep_yi"] == 5024.47
    assert comparison["regulating_share_pct"]["published"] == pytest.approx(72.83, abs=0.01)
    assert comparison["demo"]["gep_yi"] > 0
    xlsx = pd.read_excel(out / "accounts.xlsx", sheet_name="核算结果", nrows=5)
    assert {"区划代码", "核算指标", "功能量", "价值量(元)"} <= set(xlsx.columns)


def test_constant_prices_scale_priced_rows_by_the_index(demo_accounts_only: Demo, tmp_path: Path) -> None:
    from gep.accounting.region import load_region
    from gep.accounting.run import account

    region = load_region(demo_accounts_only.region)
    at_2019 = account(region, 2019).table
    at_2010 = account(region, 2019, price_year=2010).table
    keys = ["level", "zone_code", "indicator", "sub_indicator"]
    both = at_2019.merge(at_2010, on=keys, suffixes=("_19", "_10"))
    pd.testing.assert_series_equal(both["quantity_19"], both["quantity_10"], check_names=False)
    wc = both[both.indicator == "water_conservation"]
    assert (wc["value_yuan_10"] / wc["value_yuan_19"]).dropna().to_numpy() == pytest.approx(100 / 124.94)
    ov = both[(both.indicator == "agriculture") & (both.value_yuan_19 > 0)]
    assert (ov["value_yuan_10"] / ov["value_yuan_19"]).to_numpy() == pytest.approx(100 / 124.94)
