"""The generated province the scale benchmark runs on (benchmarks/synthetic_region.py --province): the sizes the
issue asks for, soil retention's layers, written window by window, and an accounting that runs on it."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pytest
import rasterio

from gep.accounting.region import load_region

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import synthetic_region


@pytest.mark.slow
def test_a_province_has_90_counties_1300_townships_25000_villages_and_soil_layers(tmp_path: Path) -> None:
    root = synthetic_region.make_synthetic_region(tmp_path / "p", 300, 280, province=True)
    zones = gpd.read_file(root / "zones.gpkg")
    assert zones["county_code"].nunique() == 90
    assert 1_200 <= zones["township_code"].nunique() <= 1_400
    assert 24_000 <= len(zones) <= 27_000
    assert zones["village_code"].is_unique
    for name in ("rainfall_erosivity_2019", "soil_erodibility", "dem"):
        with rasterio.open(root / "rasters" / f"{name}.tif") as src:
            band = src.read(1)
            assert (src.width, src.height) == (300, 280)
            assert band.min() > 0
    region = load_region(root)
    assert {"rainfall_erosivity", "soil_erodibility"} <= set(region.layers)
    assert "synthetic = true" in (root / "region.toml").read_text(encoding="utf-8")


def test_the_lishui_size_package_is_unchanged_by_the_province_option(tmp_path: Path) -> None:
    """The city benchmark's figures stay comparable: same zones, same layers, no soil layers."""
    root = synthetic_region.make_synthetic_region(tmp_path / "c", 120, 100)
    zones = gpd.read_file(root / "zones.gpkg")
    assert zones["county_code"].nunique() == 9
    assert zones["township_code"].nunique() == 170
    assert not (root / "rasters" / "soil_erodibility.tif").exists()
