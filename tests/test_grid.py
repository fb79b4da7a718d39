"""The grid: snapping, reading on-grid rasters without warping, and one read per chunk per input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import CRS

import gep.accounting.grid as grid_mod
from gep.accounting.grid import Grid, LayerSource, continuous_layer, is_equal_area
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.testing import ALBERS, TinyRegion

CLASSES = np.array([[11, 12, 41, 42, 11, 12], [43, 61, 31, 44, 51, 52], [11, 11, 12, 13, 21, 54]])


def test_grid_snaps_outward_to_whole_pixels() -> None:
    g = Grid.covering((1030.0, 2010.0, 1290.0, 2290.0), CRS.from_user_input(ALBERS), 100.0)
    assert g.bounds == (1000.0, 2000.0, 1300.0, 2300.0)
    assert g.shape == (3, 3)
    exact = Grid.covering((1000.0, 2000.0, 1300.0, 2300.0), CRS.from_user_input(ALBERS), 100.0)
    assert exact.shape == (3, 3)  # an extent on pixel edges gets no extra row or column


def test_equal_area_check() -> None:
    assert is_equal_area(CRS.from_user_input(ALBERS))
    assert is_equal_area(CRS.from_epsg(6933))  # WGS 84 / NSIDC EASE-Grid 2.0 Global (cylindrical equal area)
    assert not is_equal_area(CRS.from_epsg(32650))  # UTM: conformal, not equal-area
    assert not is_equal_area(CRS.from_epsg(4326))


def _region(tmp_path: Path) -> Path:
    layers = {"precipitation": np.arange(18, dtype=float).reshape(3, 6) * 100 + 1000,
              "evapotranspiration": np.full((3, 6), 600.0), "npp": np.full((3, 6), 500.0),
              "storm_precipitation": np.full((3, 6), 300.0)}
    return TinyRegion(CLASSES, layers).write(tmp_path)


def test_on_grid_rasters_are_read_without_warping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _region(tmp_path)
    region = load_region(root)

    def no_warp(*args: object, **kwargs: object) -> None:
        raise AssertionError("an on-grid raster went through a warped VRT")

    monkeypatch.setattr(grid_mod, "WarpedVRT", no_warp)
    values = region.layer("precipitation", 2019).compute()
    with rasterio.open(root / "rasters" / "precipitation_2019.tif") as src:
        assert region.grid.matches(src)
        np.testing.assert_array_equal(values, src.read(1).astype(float))


def test_categorical_layers_are_resampled_by_nearest(tmp_path: Path) -> None:
    """Halving the pixel size must repeat class codes, never average them into other classes."""
    root = _region(tmp_path)
    src_path = root / "rasters" / "ecosystem.tif"
    region = load_region(root)
    fine = Grid(region.grid.crs, region.grid.transform @ region.grid.transform.scale(0.5), 12, 6, 4)
    lut = np.arange(100, dtype=np.int16)
    classes = grid_mod.categorical_layer(LayerSource(src_path, 1, True), fine, lut, 99).compute()
    np.testing.assert_array_equal(classes, np.repeat(np.repeat(CLASSES, 2, axis=0), 2, axis=1))
    cont = continuous_layer(LayerSource(root / "rasters" / "precipitation_2019.tif", 1, False), fine).compute()
    assert np.nanmin(cont) >= 1000 and np.nanmax(cont) <= 2700  # bilinear stays within the data's range


def test_each_chunk_of_each_input_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _region(tmp_path)
    reads: Counter[tuple[str, tuple[int, int]]] = Counter()
    original = grid_mod._read_window

    def counting(source: LayerSource, grid: Grid, window: object) -> object:
        reads[(source.path.name, (int(window.row_off), int(window.col_off)))] += 1  # type: ignore[attr-defined]
        return original(source, grid, window)  # type: ignore[arg-type]

    monkeypatch.setattr(grid_mod, "_read_window", counting)
    region = load_region(root)
    account(region, 2019)
    chunks = 2 * 3  # 3 × 6 pixels in chunks of 2 × 2
    files = {"ecosystem.tif", "precipitation_2019.tif", "evapotranspiration_2019.tif", "npp_2019.tif",
             "storm_precipitation_2019.tif"}
    assert {name for name, _ in reads} == files
    assert len(reads) == chunks * len(files)
    assert set(reads.values()) == {1}, reads


def test_region_as_an_xarray_dataset(tmp_path: Path) -> None:
    root = _region(tmp_path)
    region = load_region(root)
    ds = region.dataset(2019)
    assert set(ds.data_vars) >= {"precipitation", "evapotranspiration", "npp", "ecosystem"}
    assert ds.sizes == {"y": 3, "x": 6}
    assert float(ds.x[0]) == region.grid.transform.c + 50.0  # pixel centres
    np.testing.assert_array_equal(ds["precipitation"].values, np.arange(18).reshape(3, 6) * 100 + 1000)
    assert ds["precipitation"].attrs["units"] == "mm"
