"""The 甘孜州 (Garzê) 2010 GEP table (METHODS.md §3.1) reproduced through gep's own valuation code.

Source: 白玛卓嘎 et al. 2017, 生态学报 37(19): 6302-6312, Table 3. Every row is valued with `valuate`, the
function the engine uses, from the paper's quantity and the unit price in tests/data/garze-2010.toml. The
tolerance of a row comes from the printed precision: a quantity printed as 1.36 亿m³ is only known to
±0.005 亿m³, so its value is known to ±0.005e8 m³ × price, and the paper's value is itself rounded to half a
unit of its last printed digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from gep.accounting.indicators.base import OutputSpec, SubQuantity
from gep.accounting.methods import MethodProfile, load_profile
from gep.accounting.valuation import valuate
from gep.errors import MethodError

PROFILE = Path(__file__).parent / "data" / "garze-2010.toml"
YI = 1e8  # 亿
WAN = 1e4  # 万

# 防风固沙: the paper prices the sand-fixation *area*, 固沙量 / (砂砾堆积密度 1.28 t/m³ × 覆沙厚度 0.1 m)
SAND_DENSITY = 1.28  # t/m3
SAND_DEPTH = 0.1  # m


@dataclass(frozen=True)
class Row:
    name: str  # 指标 (the Chinese row name)
    category: str  # 产品提供 / 调节服务 / 文化服务
    service: str  # 服务
    unit: str  # unit of the quantity after conversion (the price's denominator)
    quantity: str | None  # as printed; None for rows given only as a value
    to_base: float  # printed quantity unit -> `unit`
    price: str | None  # parameter id in garze-2010.toml
    value: str  # 价值, 亿元, as printed

    def base_quantity(self) -> float:
        """Quantity in `unit`; a value row's quantity is its value in yuan."""
        return float(self.value) * YI if self.quantity is None else float(self.quantity) * self.to_base

    def quantity_tolerance(self, price: float) -> float:
        """Yuan that the rounding of the printed quantity leaves open (0 for value rows)."""
        return 0.0 if self.quantity is None else half_unit(self.quantity) * self.to_base * price


def half_unit(printed: str) -> float:
    """Half a unit of the last printed digit: '1.36' -> 0.005, '1137' -> 0.5."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10.0 ** -decimals


M, R, C = "产品提供", "调节服务", "文化服务"
ROWS = [
    Row("农业产品", M, "农业产品", "yuan", None, 1.0, None, "12.2875"),
    Row("林业产品", M, "林业产品", "yuan", None, 1.0, None, "2.3777"),
    Row("畜牧业产品", M, "畜牧业产品", "yuan", None, 1.0, None, "22.0760"),
    Row("渔业产品", M, "渔业产品", "yuan", None, 1.0, None, "0.0356"),
    Row("生活用水量", M, "水资源", "m3", "1.36", YI, "garze.water_domestic", "3.5400"),
    Row("工业用水量", M, "水资源", "m3", "150.17", YI, "garze.water_industrial", "540.6113"),
    Row("农业用水量", M, "水资源", "m3", "17.31", YI, "garze.water_agricultural", "1.2117"),
    Row("水力发电量", M, "水电", "kWh", "95.30", YI, "garze.hydropower", "50.5090"),
    Row("水源涵养量", R, "水源涵养", "m3", "321.49", YI, "garze.reservoir_cost", "2269.7074"),
    Row("减少泥沙淤积", R, "土壤保持", "m3", "10.03", YI, "garze.dredging", "156.2555"),
    Row("减少N面源污染", R, "土壤保持", "t", "1437.94", WAN, "garze.nitrogen", "125.8199"),
    Row("减少P面源污染", R, "土壤保持", "t", "419.72", WAN, "garze.phosphorus", "117.5226"),
    Row("防风固沙量", R, "防风固沙", "m2", "779.42", WAN / (SAND_DENSITY * SAND_DEPTH), "garze.sand_fixation",
        "2.2835"),
    Row("湖泊调蓄量", R, "洪水调蓄", "m3", "2.43", YI, "garze.reservoir_cost", "17.1430"),
    Row("水库调蓄量", R, "洪水调蓄", "m3", "0.01", YI, "garze.reservoir_cost", "0.0684"),
    Row("沼泽调蓄量", R, "洪水调蓄", "m3", "6.00", YI, "garze.reservoir_cost", "42.3436"),
    Row("净化SO2量", R, "大气净化", "t", "1137", 1.0, "garze.so2", "0.0136"),
    Row("净化氮氧化物量", R, "大气净化", "t", "2772", 1.0, "garze.nox", "0.0175"),
    Row("净化工业粉尘量", R, "大气净化", "t", "941", 1.0, "garze.dust", "0.0014"),
    Row("净化COD量", R, "水质净化", "t", "5424", 1.0, "garze.cod", "0.0380"),
    Row("净化氨氮量", R, "水质净化", "t", "625", 1.0, "garze.nh3n", "0.0055"),
    Row("固碳量", R, "固碳释氧", "t", "0.31", YI, "garze.carbon", "117.3548"),
    Row("释氧量", R, "固碳释氧", "t", "2.51", YI, "garze.oxygen", "1821.9182"),
    Row("植被蒸腾降温增湿", R, "气候调节", "kWh", "2799.10", YI, "garze.electricity", "1483.5208"),
    Row("水面蒸发降温增湿", R, "气候调节", "kWh", "1272.35", YI, "garze.electricity", "674.3433"),
    Row("森林病虫害控制面积", R, "病虫害控制", "ha", "158", WAN, "garze.pest_forest", "5.9250"),
    Row("草地病虫害控制面积", R, "病虫害控制", "ha", "711.13", WAN, "garze.pest_grassland", "8.0003"),
    # 景观游憩: the paper gives 358.68 万人次 but no unit price (travel cost method), so the value enters as is
    Row("景观游憩", C, "景观游憩", "yuan", None, 1.0, None, "70.6669"),
]

# Totals as printed in the table: by category, GEP, and the services the table sums ("合计").
TOTALS = {
    M: "632.64", R: "6842.28", "GEP": "7545.59",
    "水资源": "545.36", "土壤保持": "399.60", "洪水调蓄": "59.56", "大气净化": "0.03", "水质净化": "0.04",
    "固碳释氧": "1939.27", "气候调节": "2157.86", "病虫害控制": "13.93",
}


@pytest.fixture(scope="module")
def profile() -> MethodProfile:
    return load_profile(str(PROFILE))


def sub_quantity(row: Row) -> SubQuantity:
    out = OutputSpec(f"garze.{row.name}", row.name, row.name, row.unit, row.price)
    return SubQuantity(out, pd.Series([row.base_quantity()], index=pd.Index(["甘孜州"], name="zone_code")))


def value_of(row: Row, profile: MethodProfile, price_year: int = 2010) -> float:
    values, _ = valuate(sub_quantity(row), profile, year=2010, price_year=price_year)
    assert list(values.index) == ["甘孜州"]
    return float(values.iloc[0])


def price_of(row: Row, profile: MethodProfile) -> float:
    return 0.0 if row.price is None else profile.param(row.price).scalar()


def test_profile_holds_every_price_of_the_table(profile: MethodProfile) -> None:
    """The test profile loads and has each priced row's parameter, quoted in 2010 with a source."""
    assert profile.id == "garze-2010"
    assert profile.indicators == ()
    for row in ROWS:
        if row.price is not None:
            p = profile.param(row.price)
            assert p.year == 2010 and p.source and p.verified is True
            assert p.unit == f"yuan/{row.unit}"


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_row(row: Row, profile: MethodProfile) -> None:
    """quantity × price through `valuate` matches the paper's value within the printed precision."""
    paper = float(row.value) * YI
    got = value_of(row, profile)
    if row.quantity is None:
        assert got == paper  # an output value passes through untouched when price year = year
    else:
        tol = row.quantity_tolerance(price_of(row, profile)) + half_unit(row.value) * YI
        assert abs(got - paper) <= tol, f"{row.name}: {got / YI:.4f} 亿元 vs paper {row.value} (±{tol / YI:.4f})"


@pytest.mark.parametrize("row", [r for r in ROWS if r.price], ids=[r.name for r in ROWS if r.price])
def test_row_reports_its_price(row: Row, profile: MethodProfile) -> None:
    """`valuate` reports the price it applied: the profile's value, unit, source and parameter id."""
    _, price = valuate(sub_quantity(row), profile, year=2010, price_year=2010)
    param = profile.param(row.price or "")
    assert price.value == param.scalar()
    assert (price.unit, price.source, price.parameter, price.verified) == (param.unit, param.source, param.id, True)


def test_sand_fixation_area() -> None:
    """779.42 万t of sand over 1.28 t/m³ × 0.1 m is the paper's 固沙面积 of 60.89 km²."""
    area_m2 = 779.42 * WAN / (SAND_DENSITY * SAND_DEPTH)
    assert round(area_m2 / 1e6, 2) == 60.89


@pytest.mark.parametrize("total", list(TOTALS), ids=list(TOTALS))
def test_totals(total: str, profile: MethodProfile) -> None:
    """Sums of the computed rows match the paper's subtotals within the accumulated rounding."""
    rows = [r for r in ROWS if total == "GEP" or total in (r.category, r.service)]
    assert rows
    got = sum(value_of(r, profile) for r in rows)
    tol = sum(r.quantity_tolerance(price_of(r, profile)) for r in rows)
    tol += sum(half_unit(r.value) * YI for r in rows if r.quantity is None)  # value rows are printed rounded
    tol += half_unit(TOTALS[total]) * YI
    paper = float(TOTALS[total]) * YI
    assert abs(got - paper) <= tol, f"{total}: {got / YI:.4f} 亿元 vs paper {TOTALS[total]} (±{tol / YI:.4f})"


def test_price_moves_by_index_ratio(profile: MethodProfile) -> None:
    """A 2010 price valued at 2019 prices is multiplied by index(2019) / index(2010) = 124.94 / 100."""
    row = next(r for r in ROWS if r.name == "水源涵养量")
    values, price = valuate(sub_quantity(row), profile, year=2010, price_year=2019)
    assert price.value == pytest.approx(7.06 * 1.2494, rel=1e-12)
    assert float(values.iloc[0]) == pytest.approx(321.49 * YI * 7.06 * 1.2494, rel=1e-12)


def test_output_value_moves_by_index_ratio(profile: MethodProfile) -> None:
    """An output value in 2010 yuan, valued at 2019 prices, is inflated by the same ratio."""
    row = next(r for r in ROWS if r.name == "农业产品")
    assert value_of(row, profile, price_year=2019) == pytest.approx(12.2875 * YI * 1.2494, rel=1e-12)


def test_price_year_outside_index_is_an_error(profile: MethodProfile) -> None:
    """A price year the index does not cover is refused, naming the price and the missing year."""
    row = next(r for r in ROWS if r.name == "水源涵养量")
    with pytest.raises(MethodError, match=r"garze\.reservoir_cost.*2015"):
        valuate(sub_quantity(row), profile, year=2010, price_year=2015)


def test_shipped_national_prices_are_the_garze_prices(profile: MethodProfile) -> None:
    """national-2022 cites the Garzê table for these prices; they must be the same numbers, quoted in 2010."""
    national = load_profile("national-2022")
    pairs = {
        "water_supply.price_domestic": "garze.water_domestic",
        "water_supply.price_industrial": "garze.water_industrial",
        "water_supply.price_agricultural": "garze.water_agricultural",
        "hydropower.price": "garze.hydropower",
        "water_conservation.reservoir_cost": "garze.reservoir_cost",
        "flood_regulation.reservoir_cost": "garze.reservoir_cost",
        "air_purification.price_so2": "garze.so2",
        "air_purification.price_nox": "garze.nox",
        "air_purification.price_dust": "garze.dust",
        "water_purification.price_cod": "garze.cod",
        "water_purification.price_nh3n": "garze.nh3n",
        "carbon_sequestration.price": "garze.carbon",
        "climate_regulation.electricity_price": "garze.electricity",
    }
    for shipped, garze in pairs.items():
        p, g = national.param(shipped), profile.param(garze)
        assert (p.scalar(), p.unit, p.year) == (g.scalar(), g.unit, g.year), shipped
