"""The 甘孜州 (Garzê) 2010 GEP table reproduced row by row as a researcher would: a profile of their own
(tests/data/garze-user/garze-2010.toml) and the table's figures as statistics (statistics.csv), through
`gep account`'s engine, with no Python and no workaround.

The quantities the paper gives replace what gep would compute (`quantity.<indicator>.<sub>`), the rows the
catalogue lacks (sand fixation, pest control, recreation) are value items, and every price comes from the
profile. Tolerances come from the printed precision, as in tests/test_garze.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.testing import TinyRegion, Village
from test_garze import ROWS, TOTALS, YI, half_unit, price_of

DATA = Path(__file__).parent / "data" / "garze-user"
CITY = "513300"  # 甘孜藏族自治州
# the table's row -> (indicator, sub-indicator) in the accounts
WHERE = {
    "农业产品": ("agriculture", "output_value"), "林业产品": ("forestry", "output_value"),
    "畜牧业产品": ("animal_husbandry", "output_value"), "渔业产品": ("fishery", "output_value"),
    "生活用水量": ("water_supply", "domestic"), "工业用水量": ("water_supply", "industrial"),
    "农业用水量": ("water_supply", "agricultural"), "水力发电量": ("hydropower", "generation"),
    "水源涵养量": ("water_conservation", "water_conservation"), "减少泥沙淤积": ("soil_retention", "sediment"),
    "减少N面源污染": ("soil_retention", "nitrogen"), "减少P面源污染": ("soil_retention", "phosphorus"),
    "防风固沙量": ("sand_fixation", "sand_fixation"), "湖泊调蓄量": ("flood_regulation", "lake"),
    "水库调蓄量": ("flood_regulation", "reservoir"), "沼泽调蓄量": ("flood_regulation", "marsh"),
    "净化SO2量": ("air_purification", "so2"), "净化氮氧化物量": ("air_purification", "nox"),
    "净化工业粉尘量": ("air_purification", "dust"), "净化COD量": ("water_purification", "cod"),
    "净化氨氮量": ("water_purification", "nh3n"), "固碳量": ("carbon_sequestration", "co2"),
    "释氧量": ("oxygen_release", "o2"), "植被蒸腾降温增湿": ("climate_regulation", "vegetation_transpiration"),
    "水面蒸发降温增湿": ("climate_regulation", "water_evaporation"),
    "森林病虫害控制面积": ("pest_control_forest", "pest_control_forest"),
    "草地病虫害控制面积": ("pest_control_grassland", "pest_control_grassland"),
    "景观游憩": ("recreation", "recreation"),
}
CATEGORY = {"产品提供": "material", "调节服务": "regulating", "文化服务": "cultural"}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("garze")
    stats = pd.read_csv(DATA / "statistics.csv", dtype=str).replace({"zone_code": {"G": CITY}})
    villages = [Village("513301001001", (0, 1), (0, 2), "513301001", "513301", CITY, "康定")]
    root = TinyRegion(np.array([[11, 31]]), {}, villages=villages, statistics=stats.to_dict("records"), year=2010,
                      method=str(DATA / "garze-2010.toml")).write(folder / "region")
    acc = account(load_region(root), 2010, price_year=2010)
    return acc.table[acc.table["level"] == "city"].set_index(["indicator", "sub_indicator"])


def test_every_row_has_its_own_line(city: pd.DataFrame) -> None:
    assert set(WHERE.values()) <= set(city.index)
    extra = set(city.index) - set(WHERE.values())
    assert not extra, f"rows the paper does not have: {extra}"


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_row(row: object, city: pd.DataFrame) -> None:
    from test_garze import Row

    assert isinstance(row, Row)
    got = float(city.loc[WHERE[row.name], "value_yuan"])
    paper = float(row.value) * YI
    tol = row.quantity_tolerance(price_of(row, _garze_prices())) + half_unit(row.value) * YI
    assert abs(got - paper) <= tol, f"{row.name}: {got / YI:.4f} 亿元 vs paper {row.value} (±{tol / YI:.4f})"
    assert CATEGORY[row.category] == city.loc[WHERE[row.name], "category"]


def test_categories_and_gep(city: pd.DataFrame) -> None:
    """The category totals and GEP as printed, within the rows' summed rounding."""
    for cat, key in (("产品提供", "material"), ("调节服务", "regulating")):
        rows = [r for r in ROWS if r.category == cat]
        tol = sum(r.quantity_tolerance(price_of(r, _garze_prices())) + half_unit(r.value) * YI for r in rows)
        got = city[city["category"] == key]["value_yuan"].sum()
        assert abs(got - float(TOTALS[cat]) * YI) <= tol + half_unit(TOTALS[cat]) * YI, cat
    tol = sum(r.quantity_tolerance(price_of(r, _garze_prices())) + half_unit(r.value) * YI for r in ROWS)
    assert abs(city["value_yuan"].sum() - float(TOTALS["GEP"]) * YI) <= tol + half_unit(TOTALS["GEP"]) * YI


def test_given_quantities_are_recorded(city: pd.DataFrame) -> None:
    """A quantity from the statistics says so in the accounts."""
    assert city.loc[("flood_regulation", "lake"), "source_level"].endswith("given at city")
    assert city.loc[("carbon_sequestration", "co2"), "source_level"] == "given at city"  # no NPP at all


def _garze_prices():  # type: ignore[no-untyped-def]
    from gep.accounting.methods import load_profile

    return load_profile(str(Path(__file__).parent / "data" / "garze-2010.toml"))
