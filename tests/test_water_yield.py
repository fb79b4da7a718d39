"""Water conservation by annual water yield (Budyko, Fu–Zhang), offered as a method variant in a profile."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gep.accounting.indicators.water_yield import fu_zhang_aet_fraction
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.testing import TinyRegion


def test_fu_zhang_by_hand() -> None:
    # forest pixel: P 2000, PET = 1.0 × 1000, AWC = min(5000, 800) × 0.2 = 160, Z 5 → ω = 5·160/2000 + 1.25 = 1.65
    omega = 5 * 160 / 2000 + 1.25
    expected = 1 + 0.5 - (1 + 0.5**omega) ** (1 / omega)
    got = fu_zhang_aet_fraction(np.array([2000.0]), np.array([1000.0]), np.array([160.0]), 5.0, np.array([1.0]))
    assert got[0] == pytest.approx(expected, rel=1e-12)
    # ω is capped at 5; non-vegetated pixels evaporate min(PET, P); P = 0 is undefined
    capped = fu_zhang_aet_fraction(np.array([100.0]), np.array([50.0]), np.array([1e6]), 5.0, np.array([1.0]))
    assert capped[0] == pytest.approx(min(0.5, 1 + 0.5 - (1 + 0.5**5) ** 0.2))
    water = fu_zhang_aet_fraction(np.array([800.0, 0.0]), np.array([1000.0, 10.0]), np.array([0.0, 0.0]), 5.0,
                                  np.array([0.0, 0.0]))
    assert water[0] == 1.0 and math.isnan(water[1])


def test_budyko_variant_in_the_accounts(tmp_path: Path) -> None:
    classes = np.array([[11, 61], [42, 31]])  # evergreen broadleaf, urban, lake, tussock
    layers = {"precipitation": np.full((2, 2), 2000.0), "reference_et": np.full((2, 2), 1000.0),
              "soil_depth": np.full((2, 2), 800.0), "pawc": np.full((2, 2), 0.2)}
    root = TinyRegion(classes, layers, method="zhejiang-2020-budyko", villages=None).write(tmp_path)
    accounts = account(load_region(root), 2019, price_year=2010)
    t = accounts.table
    row = t[(t.level == "city") & (t.indicator == "water_conservation")]
    assert list(row["sub_indicator"]) == ["water_yield"]

    def yield_mm(kc: float, root_depth: float, veg: bool) -> float:
        aet = fu_zhang_aet_fraction(np.array([2000.0]), np.array([kc * 1000.0]),
                                    np.array([min(root_depth, 800.0) * 0.2]), 5.0, np.array([1.0 if veg else 0.0]))
        return float((1 - aet[0]) * 2000.0)

    expected = sum(yield_mm(*args) for args in ((1.0, 5000, True), (0.3, 1.0, False), (1.0, 1.0, False),
                                                (0.8, 1500, True))) * 1e-3 * 1e4
    assert row["quantity"].iloc[0] == pytest.approx(expected, rel=1e-9)
    assert row["value_yuan"].iloc[0] == pytest.approx(expected * 7.06, rel=1e-9)
