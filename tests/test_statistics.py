"""Statistics: top-down allocation to villages, unit conversion, and row-level problems in the tables.

The zones are a hand-made hierarchy: city C; counties K1, K2; townships T11, T12, T21, T22; villages
V111 … V222 (two per township), so every allocated figure can be worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from gep.accounting.catalogue import UnitError, convert_factor
from gep.accounting.statistics import Statistics, allocate
from gep.accounting.zones import Zones
from gep.errors import InputError, Problem

VILLAGES = [f"V{k}{t}{v}" for k in (1, 2) for t in (1, 2) for v in (1, 2)]
# proxy (e.g. farmland area) per village; V121 has none
PROXY = pd.Series({"V111": 1.0, "V112": 3.0, "V121": 0.0, "V122": 4.0,
                   "V211": 2.0, "V212": 2.0, "V221": 1.0, "V222": 1.0})


@pytest.fixture(scope="module")
def zones() -> Zones:
    rows = []
    for i, code in enumerate(VILLAGES):
        k, t = code[1], code[2]
        rows.append({"city_code": "C", "city_name": "测试市", "county_code": f"K{k}", "county_name": f"县{k}",
                     "township_code": f"T{k}{t}", "township_name": f"乡{k}{t}", "village_code": code,
                     "village_name": f"村{code}", "geometry": box(i * 100.0, 0.0, (i + 1) * 100.0, 100.0)})
    return Zones(gpd.GeoDataFrame(rows, crs="EPSG:32650"), ("city", "county", "township", "village"))


def expect(**values: float) -> dict[str, float]:
    """Every village, 0 unless given."""
    return {code: values.get(code, 0.0) for code in VILLAGES}


def approx_dict(got: pd.Series, want: dict[str, float]) -> None:
    assert list(got.index) == VILLAGES
    assert got.to_dict() == pytest.approx(want, abs=1e-9)


# ---- allocate ---------------------------------------------------------------------------------------


def test_county_figure_spread_by_proxy(zones: Zones) -> None:
    """100 for K1 goes to its villages in proportion 1:3:0:4; K2's villages get nothing."""
    got = allocate({"K1": 100.0}, zones, PROXY, "agriculture.output_value")
    approx_dict(got, expect(V111=12.5, V112=37.5, V121=0.0, V122=50.0))


def test_township_figure_kept_and_remainder_by_proxy(zones: Zones) -> None:
    """K1 = 100 with T11 = 30 given: T11 keeps 30 (spread 1:3), the other 70 goes to T12 (0:4)."""
    got = allocate({"K1": 100.0, "T11": 30.0}, zones, PROXY, "agriculture.output_value")
    approx_dict(got, expect(V111=7.5, V112=22.5, V121=0.0, V122=70.0))


def test_zero_proxy_falls_back_to_equal_shares(zones: Zones) -> None:
    """With no proxy anywhere in K2, its 90 is shared equally by its four (equal-sized) villages."""
    got = allocate({"K2": 90.0}, zones, PROXY * 0.0, "fishery.output_value")
    approx_dict(got, expect(V211=22.5, V212=22.5, V221=22.5, V222=22.5))


def test_missing_proxy_counts_as_zero(zones: Zones) -> None:
    """Villages absent from the proxy get no share of a figure the others' proxy can carry."""
    got = allocate({"T12": 8.0}, zones, pd.Series({"V122": 5.0}), "forestry.output_value")
    approx_dict(got, expect(V122=8.0))


def test_children_exceeding_parent_raise(zones: Zones) -> None:
    """Townships summing to more than their county is an input error naming the item and the townships."""
    with pytest.raises(InputError, match=r"animal_husbandry\.output_value.*T11, T12"):
        allocate({"K1": 10.0, "T11": 8.0, "T12": 5.0}, zones, PROXY, "animal_husbandry.output_value")


def test_children_equal_to_parent_are_accepted(zones: Zones) -> None:
    """Children that use up exactly their parent's figure are not an error (no remainder to spread)."""
    got = allocate({"K1": 10.0, "T11": 4.0, "T12": 6.0}, zones, PROXY, "x")
    approx_dict(got, expect(V111=1.0, V112=3.0, V122=6.0))


def test_city_figure_only(zones: Zones) -> None:
    """A city-level figure is spread over all eight villages by proxy (total proxy 14)."""
    got = allocate({"C": 140.0}, zones, PROXY, "tourism.visitors")
    approx_dict(got, expect(V111=10.0, V112=30.0, V122=40.0, V211=20.0, V212=20.0, V221=10.0, V222=10.0))
    assert got.sum() == pytest.approx(140.0)


def test_figures_only_below_the_top(zones: Zones) -> None:
    """Township figures without a county or city figure stay in their township."""
    got = allocate({"T11": 4.0, "T22": 6.0}, zones, PROXY, "x")
    approx_dict(got, expect(V111=1.0, V112=3.0, V221=3.0, V222=3.0))


def test_grandchild_figure_wins(zones: Zones) -> None:
    """K1 = 100 with V111 = 10 given (T11 not given): V111 keeps 10, the other 90 goes 3:0:4 to V112, V121, V122."""
    got = allocate({"K1": 100.0, "V111": 10.0}, zones, PROXY, "x")
    approx_dict(got, expect(V111=10.0, V112=90.0 * 3 / 7, V122=90.0 * 4 / 7))


def test_township_figure_under_city_figure_wins(zones: Zones) -> None:
    """C = 100 with T11 = 30: T11's villages get 30 (1:3), the 70 left goes by proxy to the other six villages."""
    got = allocate({"C": 100.0, "T11": 30.0}, zones, PROXY, "x")
    approx_dict(got, expect(V111=7.5, V112=22.5, V122=70 * 4 / 10, V211=70 * 2 / 10, V212=70 * 2 / 10,
                            V221=70 * 1 / 10, V222=70 * 1 / 10))


# ---- units ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "canonical", "factor"), [
    ("万元", "yuan", 1e4),
    ("亿元", "yuan", 1e8),
    ("亿m3", "m3", 1e8),
    ("万m³", "m3", 1e4),
    ("万人次", "person-time", 1e4),
    ("亩", "m2", 1e4 / 15),
    ("ha", "m2", 1e4),
    ("kg", "t", 1e-3),
    ("万吨", "t", 1e4),
    ("亿kWh", "kWh", 1e8),
    ("元/kg", "yuan/t", 1e3),
])
def test_convert_factor(unit: str, canonical: str, factor: float) -> None:
    """Published units convert to the canonical unit by the known factor (case and spaces ignored)."""
    assert convert_factor(unit, canonical) == pytest.approx(factor, rel=1e-15)
    assert convert_factor(f" {unit.upper()} ", canonical) == pytest.approx(factor, rel=1e-15)


def test_convert_factor_wrong_dimension() -> None:
    """A mass unit where a volume is expected is a UnitError naming both."""
    with pytest.raises(UnitError, match=r"'万t'.*'m3'"):
        convert_factor("万t", "m3")


def test_convert_factor_unknown_unit() -> None:
    """A unit gep does not know is a UnitError too."""
    with pytest.raises(UnitError, match="furlong"):
        convert_factor("furlong", "m")


# ---- Statistics.load --------------------------------------------------------------------------------

HEADER = "zone_code,year,item,value,unit,source\n"
GOOD = "K1,2019,agriculture.output_value,12,万元,统计年鉴\n"


def load(tmp_path: Path, zones: Zones, body: str) -> tuple[Statistics, list[Problem]]:
    path = tmp_path / "stats.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return Statistics.load([path], zones, tmp_path)


def test_load_converts_units(tmp_path: Path, zones: Zones) -> None:
    """Valid rows load with values in the item's canonical unit and the zone's level."""
    stats, problems = load(tmp_path, zones, GOOD + "T21,2019,water_supply.domestic,1.36,亿m3,公报\n"
                                                  "C,2019,tourism.visitors,\"1,234.5\",万人次,公报\n")
    assert problems == []
    f = stats.frame.set_index("zone_code")
    assert f.loc["K1", "value"] == pytest.approx(12e4) and f.loc["K1", "unit"] == "yuan"
    assert f.loc["K1", "level"] == "county" and f.loc["K1", "source"] == "统计年鉴"
    assert f.loc["T21", "value"] == pytest.approx(1.36e8) and f.loc["T21", "level"] == "township"
    assert f.loc["C", "value"] == pytest.approx(1234.5e4) and f.loc["C", "unit"] == "person-time"


@pytest.mark.parametrize(("row", "column", "words"), [
    ("K1,2019,agriculture.outputvalue,12,万元,x\n", "item", "unknown item"),
    ("K9,2019,agriculture.output_value,12,万元,x\n", "zone_code", "K9"),
    ("K2,2019,agriculture.output_value,-3,万元,x\n", "value", "negative"),
    ("K2,2019,agriculture.output_value,12,万t,x\n", "unit", "万t"),
    ("K2,2019,agriculture.output_value,twelve,万元,x\n", "value", "twelve"),
    ("K2,2019,agriculture.output_value,,万元,x\n", "value", "not a number"),
    ("K2,last,agriculture.output_value,12,万元,x\n", "year", "last"),
], ids=["unknown item", "unknown zone", "negative value", "bad unit", "non-numeric", "empty value", "bad year"])
def test_load_problem_names_file_row_and_column(tmp_path: Path, zones: Zones, row: str, column: str,
                                                 words: str) -> None:
    """A bad second data row gives one problem at 'stats.csv, row 3' naming the column; the bad row is dropped."""
    stats, problems = load(tmp_path, zones, GOOD + row)
    assert len(problems) == 1, problems
    text = str(problems[0])
    assert "stats.csv, row 3" in text
    assert f"column {column}" in text
    assert words in text
    assert list(stats.frame["zone_code"]) == ["K1"]


def test_load_duplicate_figure(tmp_path: Path, zones: Zones) -> None:
    """The same zone, year and item twice is a problem at the second row, pointing back to the first."""
    _, problems = load(tmp_path, zones, GOOD + "T11,2019,tourism.visitors,3,万人次,x\n"
                                            "K1,2019,agriculture.output_value,0.0012,亿元,y\n")
    assert len(problems) == 1, problems
    text = str(problems[0])
    assert text.startswith("stats.csv, row 4: duplicate")
    assert "also stats.csv, row 2" in text
    assert "K1" in text and "2019" in text and "agriculture.output_value" in text


def test_load_same_figure_other_year_is_no_duplicate(tmp_path: Path, zones: Zones) -> None:
    """The same zone and item in two years are two figures, not a duplicate."""
    stats, problems = load(tmp_path, zones, GOOD + GOOD.replace("2019", "2020"))
    assert problems == []
    assert sorted(stats.frame["year"]) == [2019, 2020]


def test_load_missing_column(tmp_path: Path, zones: Zones) -> None:
    """A table without a unit column is one problem naming the file and the missing column."""
    path = tmp_path / "sub" / "bad.csv"
    path.parent.mkdir()
    path.write_text("zone_code,year,item,value\nK1,2019,gdp,1\n", encoding="utf-8")
    _, problems = Statistics.load([path], zones, tmp_path)
    assert len(problems) == 1
    assert str(problems[0]).startswith(str(Path("sub") / "bad.csv") + ": missing column(s) unit")


def test_statistics_allocate_reports_levels(tmp_path: Path, zones: Zones) -> None:
    """Statistics.allocate spreads the loaded figures and names the levels they came from."""
    stats, problems = load(tmp_path, zones, "K1,2019,forestry.output_value,100,元,x\n"
                                            "T11,2019,forestry.output_value,30,元,x\n")
    assert problems == []
    got, levels = stats.allocate("forestry.output_value", zones, PROXY)
    assert levels == "county+township"
    approx_dict(got, expect(V111=7.5, V112=22.5, V122=70.0))


def test_children_short_of_their_parent_with_no_zone_left_is_an_error(zones: Zones) -> None:
    """K1 = 100 but its two townships say 30 + 50: the 20 missing has nowhere to go."""
    with pytest.raises(InputError, match="fall short of the figure of K1"):
        allocate({"K1": 100.0, "T11": 30.0, "T12": 50.0}, zones, PROXY, "x")


def test_grandchild_exceeding_grandparent_is_an_error(zones: Zones) -> None:
    with pytest.raises(InputError, match="exceed the figure of K1"):
        allocate({"K1": 10.0, "V111": 12.0}, zones, PROXY, "x")
