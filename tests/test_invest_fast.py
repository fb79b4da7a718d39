"""The compiled fast paths of the InVEST mode equal the numpy/GDAL steps they replace, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from gep.invest._align import Grid, read_to_grid, warp_to_grid
from gep.invest._awy_fast import awy_pixels
from gep.invest._fast import nodata_mask, reclassify_fast
from gep.invest._raster import Band, equals_nodata, reclassify
from gep.invest.annual_water_yield import _awy_pixels_numpy
from gep.invest.errors import InvestCompatError

CRS_UTM = CRS.from_epsg(32650)


def _near(value: float, steps: int = 6) -> list[np.float32]:
    """float32 values around value: itself, its neighbours, and the edges of isclose's tolerance."""
    with np.errstate(over="ignore"):
        return _near_values(value, steps)


def _near_values(value: float, steps: int) -> list[np.float32]:
    out = [np.float32(value)]
    for direction in (np.inf, -np.inf):
        x = np.float32(value)
        for _ in range(steps):
            x = np.nextafter(x, np.float32(direction))
            out.append(x)
    tol = 1e-8 + 1e-5 * abs(value)
    for edge in (value + tol, value - tol):
        x = np.float32(edge)
        out += [x, np.nextafter(x, np.float32(np.inf)), np.nextafter(x, np.float32(-np.inf))]
    return out


@pytest.mark.parametrize("nodata", [-1.0, 0, 0.0, 255.0, -9999.0, 0.1, 1e-30, -3.4028234663852886e38, float("nan"),
                                    float("inf"), None])
def test_nodata_mask_is_numpy_isclose(nodata: float | None) -> None:
    values = _near(0.0 if nodata is None or not np.isfinite(nodata) else nodata)
    values += [np.float32(v) for v in (np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -1.0)]
    array = np.array(values, dtype=np.float32).reshape(1, -1)
    assert np.array_equal(nodata_mask(array, nodata), equals_nodata(array, nodata))


def _band(data: np.ndarray, nodata: float | None) -> Band:
    return Band(data, nodata, Affine(30, 0, 0, 0, -30, 0), CRS_UTM)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32"])
def test_reclassify_fast_equals_reclassify(dtype: str) -> None:
    rng = np.random.default_rng(1)
    data = rng.choice(np.array([1, 2, 7, 9], dtype=dtype), size=(40, 30))
    data[0, :5] = 9 if dtype == "uint8" else -1 if dtype.startswith("int") else 9
    nodata = float(data[0, 0])
    table = {1: 0.5, 2: 1e-3, 7: -1.0, 9: 2.0, 100: 3.0}
    assert np.array_equal(reclassify_fast(_band(data, nodata), table, -1.0, "T"),
                          reclassify(_band(data, nodata), table, -1.0, "T"))
    with pytest.raises(InvestCompatError) as fast_err:
        reclassify_fast(_band(data, None), {1: 0.5}, -1.0, "T")
    with pytest.raises(InvestCompatError) as slow_err:
        reclassify(_band(data, None), {1: 0.5}, -1.0, "T")
    assert str(fast_err.value) == str(slow_err.value)


def _write(path: Path, data: np.ndarray, nodata: float | None) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, nodata=nodata, transform=Affine(30, 0, 1000, 0, -30, 5000),
                       crs=CRS_UTM) as dst:
        dst.write(data, 1)
    return path


@pytest.mark.parametrize(("dtype", "nodata"), [("float32", -1.0), ("float32", 0.0), ("float32", None),
                                               ("float32", float("nan")), ("float64", -1.0), ("uint8", 255.0),
                                               ("int16", None)])
def test_read_to_grid_equals_warp(tmp_path: Path, dtype: str, nodata: float | None) -> None:
    """Including pixels GDAL's warper counts as nodata (within 2 float ULPs) and windows past the edge."""
    if np.issubdtype(np.dtype(dtype), np.floating):
        base = 0.0 if nodata is None or np.isnan(nodata) else nodata
        values = np.array([*_near(base), np.nan, np.inf, -0.0, 1.5], dtype=dtype)
    else:
        values = np.arange(0, 256, 7).astype(dtype)
    path = _write(tmp_path / "r.tif", np.resize(values, (12, 10)), nodata)
    for col, row, width, height in [(0, 0, 10, 12), (2, 3, 5, 4), (-2, -1, 14, 15), (8, 10, 5, 5)]:
        grid = Grid(Affine(30, 0, 1000 + 30 * col, 0, -30, 5000 - 30 * row), width, height, CRS_UTM)
        fast, fast_nd = read_to_grid(path, grid)
        slow, slow_nd = warp_to_grid(path, grid)
        assert fast.dtype == slow.dtype and (fast_nd == slow_nd or (np.isnan(fast_nd) and np.isnan(slow_nd)))
        assert np.array_equal(fast.view(np.uint8), slow.view(np.uint8))


def test_awy_pixels_equal_the_numpy_path() -> None:
    rng = np.random.default_rng(7)
    shape = (60, 50)
    lulc = rng.choice(np.array([1, 2, 3, 255], dtype=np.uint8), size=shape, p=[0.4, 0.3, 0.25, 0.05])
    arrays = {key: rng.uniform(lo, hi, shape).astype(np.float32)
              for key, lo, hi in (("eto", 0, 1500), ("precip", 0, 2500), ("soil", 0, 4000), ("pawc", 0, 0.5))}
    for key, array in arrays.items():  # nodata, near-nodata and zero precipitation pixels
        array[rng.random(shape) < 0.05] = -1.0
        array[rng.random(shape) < 0.02] = np.float32(-1.0000001)
        if key == "precip":
            array[rng.random(shape) < 0.03] = 0.0
    inputs = {key: (array, -1.0) for key, array in arrays.items()}
    band = _band(lulc, 255.0)
    tables = ({1: 1.0, 2: 0.65, 3: 0.3}, {1: 3000.0, 2: 1500.0, 3: 1.0}, {1: 1, 2: 1, 3: 0})
    fast = awy_pixels(band, *tables, inputs, 5.0, -1.0)
    slow = _awy_pixels_numpy(band, *tables, inputs, 5.0)
    assert fast is not None
    for key in ("fractp", "aet", "wyield", "pet"):
        assert np.array_equal(getattr(fast, key).view(np.uint32), getattr(slow, key).view(np.uint32)), key
