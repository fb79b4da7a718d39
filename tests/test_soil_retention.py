"""Soil retention: the RUSLE factors by hand, and the indicator on a tiny region with a known LS."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gep.accounting.indicators import _rusle, soil_retention
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.testing import TinyRegion


def test_k_epic_zhang_by_hand() -> None:
    sand, silt, clay, om = 40.0, 35.0, 25.0, 2.0
    k1 = 0.2 + 0.3 * math.exp(-0.0256 * sand * (1 - silt / 100))
    k2 = (silt / (clay + silt)) ** 0.3
    k3 = 1 - 0.25 * om / (om + math.exp(3.72 - 2.95 * om))
    sn = 1 - sand / 100
    k4 = 1 - 0.7 * sn / (sn + math.exp(-5.51 + 22.9 * sn))
    expected = (-0.01383 + 0.51575 * k1 * k2 * k3 * k4) * 0.1317
    got = _rusle.k_epic_zhang(np.array([sand]), np.array([silt]), np.array([clay]), np.array([om]))
    assert got[0] == pytest.approx(expected, rel=1e-12)
    assert 0.005 < expected < 0.05  # t·ha·h/(ha·MJ·mm): the usual range for these soils


def test_erosivity_daily_by_hand() -> None:
    # days 10 (cold, 30 mm), 100 (warm, 11 mm: not erosive), 150 (warm, 50 mm), 300 (cold, 12 mm)
    daily = np.zeros((365, 1))
    for day, rain in ((10, 30.0), (100, 11.0), (150, 50.0), (300, 12.0)):
        daily[day - 1, 0] = rain
    r = _rusle.erosivity_daily(daily, np.arange(1, 366), 12.0, 0.3937, 0.3101, 1.7265, 65, 277)
    expected = 0.3101 * 30**1.7265 + 0.3937 * 50**1.7265 + 0.3101 * 12**1.7265
    assert r[0] == pytest.approx(expected, rel=1e-12)


def test_cover_classes_and_dry_farmland() -> None:
    assert list(_rusle.cover_class(np.array([0.05, 0.1, 0.29, 0.5, 0.75, 0.95]))) == [1, 2, 2, 4, 5, 6]
    assert _rusle.c_dry_farmland(np.array([0.5]))[0] == pytest.approx(0.221 - 0.595 * math.log10(0.5))


def test_indicator_with_a_known_ls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """R·K·LS·(1 − C·P) per hectare; water is not counted; values: λ·Q/ρ·15.58 + Q·0.37 %·875 + Q·0.108 %·2800."""
    classes = np.array([[11, 52], [42, 61]])  # forest, dry farmland, lake, urban
    layers = {"dem": np.array([[100.0, 90.0], [80.0, 70.0]]),
              "vegetation_cover": np.array([[0.95, 0.5], [0.0, 0.1]]),
              "rainfall_erosivity": np.full((2, 2), 5000.0),
              "soil_erodibility": np.full((2, 2), 0.03125)}  # K exact in float32
    root = TinyRegion(classes, layers).write(tmp_path)
    monkeypatch.setattr(soil_retention, "ls_on_chunk", lambda slope, flow, cell, l_max: np.full(slope.shape, 2.0))
    soil_retention._ROUTED_CACHE.clear()
    table = account(load_region(root), 2019, price_year=2010).table
    soil_retention._ROUTED_CACHE.clear()
    rows = table[(table.level == "city") & (table.indicator == "soil_retention")].set_index("sub_indicator")
    rk_ls = 5000 * 0.03125 * 2.0  # t/ha
    c_dry = 0.221 - 0.595 * math.log10(0.5)
    q = rk_ls * ((1 - 0.001) + (1 - c_dry) + (1 - 0.01))  # forest class 6, dry farmland, urban; lake excluded
    assert rows.loc["retained", "quantity"] == pytest.approx(q, rel=1e-9)
    assert rows.loc["retained", "value_yuan"] == 0.0
    assert rows.loc["sediment", "quantity"] == pytest.approx(q * 0.24 / 0.93, rel=1e-9)
    assert rows.loc["sediment", "value_yuan"] == pytest.approx(q * 0.24 / 0.93 * 15.58, rel=1e-9)
    assert rows.loc["nitrogen", "value_yuan"] == pytest.approx(q * 0.0037 * 875, rel=1e-9)
    assert rows.loc["phosphorus", "value_yuan"] == pytest.approx(q * 0.00108 * 2800, rel=1e-9)


def test_ls_from_dem_on_a_plane() -> None:
    """A plane tilted 10 % in x: LS grows down the slope (more upslope area) and is capped by l_max."""
    dem = np.tile(np.arange(20, 0, -1, dtype=float) * 10.0, (5, 1))  # 10 m drop per 100 m pixel
    ls = soil_retention.ls_from_dem(dem, 100.0, 122.0)
    assert np.all(np.isfinite(ls))
    middle = ls[2, 1:-1]
    assert np.all(np.diff(middle) >= -1e-12)
    assert ls.max() <= 122.0 * (16.8 * math.sin(math.atan(0.1)) - 0.5) + 1e-9
