"""Each regulating indicator on a 2 × 4 raster of 1-ha pixels whose quantities and values are worked by hand.

Layout (codes of gep.testing.DEFAULT_CLASSES); village 1 is columns 0–1, village 2 columns 2–3:

    row 0:  evergreen broadleaf | evergreen needleleaf | marsh   | lake
    row 1:  reservoir           | urban                | tussock | river

Prices are taken at price year 2010, the year most prices are quoted in; prices quoted in other years are
moved by the profile's index (2008 = 97.49, 2011 = 105.40, 2010 = 100).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.testing import TinyRegion

V1, V2 = "100101001001", "100101001002"
HA = 1e4  # m² per pixel
CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
LAYERS = {
    "precipitation": np.full((2, 4), 2000.0),
    "evapotranspiration": np.array([[600.0, 700, 800, 900], [900, 300, 500, 900]]),
    "storm_precipitation": np.full((2, 4), 300.0),
    "npp": np.array([[500.0, 600, 400, 0], [0, 80, 300, 0]]),
}
STATS = [
    {"zone_code": "100101", "year": 2019, "item": "flood_regulation.reservoir_capacity", "value": 100,
     "unit": "万m3", "source": "test"},
    {"zone_code": "100101", "year": 2019, "item": "air_purification.emission.so2", "value": 0.1, "unit": "t",
     "source": "test"},
    {"zone_code": "100101", "year": 2019, "item": "air_purification.emission.nox", "value": 5, "unit": "t",
     "source": "test"},
    {"zone_code": "100101", "year": 2019, "item": "water_purification.emission.cod", "value": 10, "unit": "t",
     "source": "test"},
]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    root = TinyRegion(CLASSES, LAYERS, statistics=STATS).write(tmp_path_factory.mktemp("hand"))
    return account(load_region(root), 2019, price_year=2010).table


def rows(table: pd.DataFrame, indicator: str, sub: str, level: str = "village") -> pd.DataFrame:
    sel = table[(table.indicator == indicator) & (table.sub_indicator == sub) & (table.level == level)]
    return sel.set_index("zone_code")


def check(table: pd.DataFrame, indicator: str, sub: str, by_village: dict[str, float], price: float) -> None:
    r = rows(table, indicator, sub)
    for code, q in by_village.items():
        assert r.loc[code, "quantity"] == pytest.approx(q, rel=1e-9, abs=1e-9), (indicator, sub, code)
        assert r.loc[code, "value_yuan"] == pytest.approx(q * price, rel=1e-9, abs=1e-9), (indicator, sub, code)
    city = rows(table, indicator, sub, "city")
    assert city["quantity"].sum() == pytest.approx(sum(by_village.values()), rel=1e-9)


def test_water_conservation(table: pd.DataFrame) -> None:
    # (P − P·α − ET) mm × 1 ha × 10⁻³; only ecosystems with a runoff coefficient count (not water, not urban)
    # α from 龚诗涵 et al. 2017, Table 2: evergreen broadleaf 4.65 %, evergreen needleleaf 4.52 %
    broadleaf = (2000 - 2000 * 0.0465 - 600) * HA * 1e-3  # 13 070 m³
    needleleaf = (2000 - 2000 * 0.0452 - 700) * HA * 1e-3  # 12 096 m³
    marsh = (2000 - 0 - 800) * HA * 1e-3  # 12 000 m³
    tussock = (2000 - 2000 * 0.0937 - 500) * HA * 1e-3  # 13 126 m³
    assert broadleaf + needleleaf == pytest.approx(25_166)
    check(table, "water_conservation", "water_conservation", {V1: broadleaf + needleleaf, V2: marsh + tussock}, 7.06)


def test_flood_regulation(table: pd.DataFrame) -> None:
    # vegetation: storm rain minus storm runoff (forest α 0.2, grassland 0.4)
    check(table, "flood_regulation", "vegetation", {V1: 2 * 300 * 0.8 * 10, V2: 300 * 0.6 * 10}, 7.06)
    # marsh: 0.3 m over 1 ha
    check(table, "flood_regulation", "marsh", {V1: 0.0, V2: 3000.0}, 7.06)
    # reservoirs: 35 % of 100 万m³, all to the village holding the reservoir pixel
    check(table, "flood_regulation", "reservoir", {V1: 350_000.0, V2: 0.0}, 7.06)
    # lakes: e^6.636 · A^0.678 · T 万m³ with A = 0.01 km² (the county's one lake pixel)
    lake = math.exp(6.636) * 0.01**0.678 * 1 * 1e4
    check(table, "flood_regulation", "lake", {V1: 0.0, V2: lake}, 7.06)


def test_air_purification_is_capped_by_emissions(table: pd.DataFrame) -> None:
    # SO₂ capacity 0.08865 + 0.2156 t exceeds the 0.1 t emitted: the emission is the quantity
    check(table, "air_purification", "so2", {V1: 0.1, V2: 0.0}, 1200)
    # NOₓ capacity 2 × 0.006 t is below the 5 t emitted: the capacity is the quantity
    check(table, "air_purification", "nox", {V1: 0.012, V2: 0.0}, 630)
    # dust has no emission figure: skipped, never zero
    assert rows(table, "air_purification", "dust").empty


def test_water_purification_spreads_by_capacity(table: pd.DataFrame) -> None:
    # four water pixels × 4 t/ha COD capacity = 16 t > 10 t emitted; village 1 holds 1 of the 4 pixels
    check(table, "water_purification", "cod", {V1: 2.5, V2: 7.5}, 700)


def test_carbon_and_oxygen(table: pd.DataFrame) -> None:
    # NEP = NPP × ratio (forest 0.4, marsh 0.3, grassland 0.2, urban not listed → 0), g C/m² × 1 ha → t C
    c_v1 = (500 * 0.4 + 600 * 0.4) * HA * 1e-6  # 4.4 t C
    c_v2 = (400 * 0.3 + 300 * 0.2) * HA * 1e-6  # 1.8 t C
    check(table, "carbon_sequestration", "co2", {V1: c_v1 * 44 / 12, V2: c_v2 * 44 / 12}, 380)
    o2_price = 1000 * 100 / 105.40  # quoted in 2011
    check(table, "oxygen_release", "o2", {V1: c_v1 * 32 / 12, V2: c_v2 * 32 / 12}, o2_price)


def test_climate_regulation(table: pd.DataFrame) -> None:
    def transpiration(et_mm: float) -> float:  # EPP = ET/365 × q (kJ m⁻² d⁻¹); × area × d / (3600 × EER)
        return et_mm / 1000 * 1000 / 365 * 2450 * HA * 80 / (3600 * 3.0)

    def evaporation(et_mm: float) -> float:  # (E·ρ·q/3600 + E·γ) × d/365
        e = et_mm / 1000 * HA
        return (e * 1000 * 2450 / 3600 + e * 120) * 80 / 365

    check(table, "climate_regulation", "vegetation_transpiration",
          {V1: transpiration(600) + transpiration(700), V2: transpiration(500)}, 0.53)
    check(table, "climate_regulation", "water_evaporation",
          {V1: evaporation(900), V2: evaporation(900) + evaporation(900)}, 0.53)
    assert transpiration(600) == pytest.approx(600 / 365 * 2450 * 1e4 * 80 / 10800)


def test_negative_ions(table: pd.DataFrame) -> None:
    # 5.256e15 × (Q − 600) × 1 ha × 10 m / 10 min; broadleaf 617, needleleaf 1800 ions/cm³; in 10¹⁸ ions
    ions = 5.256e15 * ((617 - 600) + (1800 - 600)) * 1 * 10 / 10 / 1e18
    check(table, "negative_ions", "ions", {V1: ions, V2: 0.0}, 5.8185 * 100 / 97.49)


def test_negative_water_balance_counts_zero(tmp_path: Path) -> None:
    layers = {"precipitation": np.full((2, 4), 500.0), "evapotranspiration": np.full((2, 4), 900.0)}
    root = TinyRegion(CLASSES, layers).write(tmp_path)
    t = account(load_region(root), 2019, price_year=2010).table
    assert rows(t, "water_conservation", "water_conservation", "city")["quantity"].iloc[0] == 0.0


def test_missing_optional_inputs_are_skipped_with_a_reason(tmp_path: Path) -> None:
    root = TinyRegion(CLASSES, {"precipitation": LAYERS["precipitation"]}).write(tmp_path)
    accounts = account(load_region(root), 2019)
    skipped = {s["indicator"]: s["reason"] for s in accounts.metadata["skipped"]}
    assert "npp" in skipped["carbon_sequestration"] and "npp" in skipped["oxygen_release"]
    assert "evapotranspiration" in skipped["water_conservation"]
    assert "tourism.visitors" in skipped["tourism"]
    assert not set(skipped) & set(accounts.table["indicator"])
