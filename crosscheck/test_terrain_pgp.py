"""Cross-check gep.accounting.terrain against pygeoprocessing 2.4.x / InVEST 3.20 per pixel.

Synthetic DEMs (smooth random relief + carved pits + exactly-flat plateaus + a nodata hole)
are written as tiled 256x256 GeoTIFFs (EPSG:32650, 30 m); pygeoprocessing's routing runs on
them in the InVEST venv (subprocess), and every output is compared with our kernels:
directions and streams exactly, accumulation / distance / slope / LS to 1e-6 relative.
Skipped when the InVEST venv is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gep.accounting import terrain as t

REPO = Path(__file__).resolve().parents[1]
INVEST_PY = Path(os.environ.get("INVEST_VENV", REPO / ".invest-venv")) / "bin" / "python"
CELL = 30.0
THRESHOLD = 200.0
L_MAX = 122.0

pytestmark = pytest.mark.skipif(not INVEST_PY.exists(), reason="InVEST venv missing")

CHILD = textwrap.dedent(
    """
    import json, sys, numpy as np, pygeoprocessing, pygeoprocessing.routing as r
    from osgeo import gdal
    from natcap.invest.sdr import sdr
    d, threshold, l_max = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    p = lambda n: f"{d}/{n}.tif"
    r.fill_pits((p("dem"), 1), p("filled"), working_dir=d)
    r.flow_dir_d8((p("filled"), 1), p("d8"), working_dir=d)
    r.flow_dir_mfd((p("filled"), 1), p("mfd"), working_dir=d)
    r.flow_accumulation_d8((p("d8"), 1), p("fa_d8"))
    r.flow_accumulation_mfd((p("mfd"), 1), p("fa_mfd"))
    r.flow_accumulation_d8((p("d8"), 1), p("fa_d8_w"), weight_raster_path_band=(p("weight"), 1))
    r.flow_accumulation_mfd((p("mfd"), 1), p("fa_mfd_w"), weight_raster_path_band=(p("weight"), 1))
    r.extract_streams_d8((p("fa_d8"), 1), threshold, p("st_d8"))
    r.extract_streams_mfd((p("fa_mfd"), 1), (p("mfd"), 1), threshold, p("st_mfd"),
                          trace_threshold_proportion=0.7)
    r.distance_to_channel_d8((p("d8"), 1), (p("st_d8"), 1), p("dist_d8"))
    r.distance_to_channel_mfd((p("mfd"), 1), (p("st_mfd"), 1), p("dist_mfd"))
    r.distance_to_channel_d8((p("d8"), 1), (p("st_d8"), 1), p("dist_d8_w"),
                             weight_raster_path_band=(p("weight"), 1))
    r.distance_to_channel_mfd((p("mfd"), 1), (p("st_mfd"), 1), p("dist_mfd_w"),
                              weight_raster_path_band=(p("weight"), 1))
    pygeoprocessing.calculate_slope((p("filled"), 1), p("slope"))
    sdr._calculate_ls_factor(p("fa_mfd"), p("slope"), l_max, p("ls_mfd"))
    sdr._calculate_ls_factor(p("fa_d8"), p("slope"), l_max, p("ls_d8"))
    nodata = {}
    for name in ["filled", "d8", "mfd", "fa_d8", "fa_mfd", "fa_d8_w", "fa_mfd_w", "st_d8", "st_mfd",
                 "dist_d8", "dist_mfd", "dist_d8_w", "dist_mfd_w", "slope", "ls_mfd", "ls_d8"]:
        ds = gdal.Open(p(name))
        band = ds.GetRasterBand(1)
        np.save(f"{d}/{name}.npy", band.ReadAsArray())
        nodata[name] = band.GetNoDataValue()
    json.dump(nodata, open(f"{d}/nodata.json", "w"))
    """
)


def _smooth_field(n: int, rng: np.random.Generator, scale: float) -> np.ndarray:
    noise = rng.normal(size=(n, n))
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.fftfreq(n)[None, :]
    spectrum = np.fft.fft2(noise) * np.exp(-((fx**2 + fy**2) * (n / scale) ** 2))
    field = np.real(np.fft.ifft2(spectrum))
    return field / field.std()


def _make_dem(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n] / n
    dem = 300 + 60 * _smooth_field(n, rng, 12) + 8 * _smooth_field(n, rng, 60) + 40 * (xx + yy)
    for _ in range(max(3, n // 60)):  # carved pits
        cy, cx = rng.integers(10, n - 10, size=2)
        rad = rng.integers(3, 9)
        bowl = np.exp(-((np.mgrid[0:n, 0:n][0] - cy) ** 2 + (np.mgrid[0:n, 0:n][1] - cx) ** 2) / rad**2)
        dem -= 15 * bowl
    for _ in range(max(2, n // 150)):  # exactly flat plateaus
        y0, x0 = rng.integers(5, n - 40, size=2)
        h, w = rng.integers(8, 35, size=2)
        dem[y0 : y0 + h, x0 : x0 + w] = np.round(dem[y0 : y0 + h, x0 : x0 + w].mean(), 1)
    dem = np.round(dem, 2)  # ties between neighbours
    dem[n // 3 : n // 3 + 6, n // 2 : n // 2 + 9] = -9999.0  # nodata hole
    return dem.astype(np.float32)


def _write(path: Path, arr: np.ndarray, nodata: float) -> None:
    import rasterio
    from rasterio.transform import from_origin

    n_rows, n_cols = arr.shape
    with rasterio.open(
        path, "w", driver="GTiff", width=n_cols, height=n_rows, count=1, dtype=arr.dtype,
        crs="EPSG:32650", transform=from_origin(500000, 3500000 + n_rows * CELL, CELL, CELL),
        nodata=nodata, tiled=True, blockxsize=256, blockysize=256, compress="lzw",
    ) as dst:
        dst.write(arr, 1)


def _load(d: Path, name: str, nodata: dict[str, float | None]) -> np.ndarray:
    arr = np.load(d / f"{name}.npy")
    nd = nodata[name]
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float64)
        if nd is not None:
            arr[t.nodata_mask(arr, nd)] = np.nan
    return arr


def _close(ours: np.ndarray, ref: np.ndarray, what: str, rtol: float = 1e-6) -> None:
    assert np.array_equal(np.isnan(ours), np.isnan(ref)), f"{what}: nodata pattern differs " + str(
        int((np.isnan(ours) != np.isnan(ref)).sum())
    )
    ok = ~np.isnan(ref)
    bad = ~np.isclose(ours[ok], ref[ok], rtol=rtol, atol=1e-9)
    assert not bad.any(), f"{what}: {int(bad.sum())} pixels differ, max rel " + str(
        float(np.max(np.abs(ours[ok] - ref[ok]) / np.maximum(np.abs(ref[ok]), 1e-12)))
    )


@pytest.mark.parametrize("n,seed", [(300, 1), (300, 2), (1000, 3)])
def test_terrain_matches_pygeoprocessing(tmp_path: Path, n: int, seed: int) -> None:
    dem = _make_dem(n, seed)
    rng = np.random.default_rng(seed + 100)
    weight = rng.uniform(0.001, 1.0, size=dem.shape).astype(np.float32)
    weight[rng.random(dem.shape) < 0.01] = -1.0  # weight nodata
    _write(tmp_path / "dem.tif", dem, -9999.0)
    _write(tmp_path / "weight.tif", weight, -1.0)
    subprocess.run(
        [str(INVEST_PY), "-c", CHILD, str(tmp_path), str(THRESHOLD), str(L_MAX)],
        check=True, capture_output=True, text=True, timeout=1800,
    )
    nodata = json.loads((tmp_path / "nodata.json").read_text())

    mask = t.nodata_mask(dem, -9999.0)
    w = weight.astype(np.float64)
    w[t.nodata_mask(w, -1.0)] = np.nan

    filled = t.fill_pits(dem.astype(np.float64), mask)
    ref_filled = _load(tmp_path, "filled", nodata)
    assert np.array_equal(np.where(mask, np.nan, filled), ref_filled, equal_nan=True), "filled DEM differs"

    d8 = t.flow_dir_d8(filled, mask)
    mfd = t.flow_dir_mfd(filled, mask)
    ref_d8 = _load(tmp_path, "d8", nodata)
    ref_mfd = _load(tmp_path, "mfd", nodata)
    assert np.array_equal(d8, ref_d8), f"D8 differs at {int((d8 != ref_d8).sum())} pixels"
    assert np.array_equal(mfd, ref_mfd), f"MFD differs at {int((mfd != ref_mfd).sum())} pixels"

    fa_d8 = t.flow_accumulation_d8(d8)
    fa_mfd = t.flow_accumulation_mfd(mfd)
    _close(fa_d8, _load(tmp_path, "fa_d8", nodata), "fa_d8")
    _close(fa_mfd, _load(tmp_path, "fa_mfd", nodata), "fa_mfd")
    _close(t.flow_accumulation_d8(d8, w), _load(tmp_path, "fa_d8_w", nodata), "fa_d8_w")
    _close(t.flow_accumulation_mfd(mfd, w), _load(tmp_path, "fa_mfd_w", nodata), "fa_mfd_w")

    st_d8 = t.extract_streams_d8(fa_d8, THRESHOLD)
    st_mfd = t.extract_streams_mfd(fa_mfd, mfd, THRESHOLD, 0.7)
    assert np.array_equal(st_d8, _load(tmp_path, "st_d8", nodata)), "D8 streams differ"
    ref_st_mfd = _load(tmp_path, "st_mfd", nodata)
    assert np.array_equal(st_mfd, ref_st_mfd), f"MFD streams differ at {int((st_mfd != ref_st_mfd).sum())}"

    _close(t.distance_to_channel_d8(d8, st_d8), _load(tmp_path, "dist_d8", nodata), "dist_d8")
    _close(t.distance_to_channel_mfd(mfd, st_mfd), _load(tmp_path, "dist_mfd", nodata), "dist_mfd")
    _close(t.distance_to_channel_d8(d8, st_d8, w), _load(tmp_path, "dist_d8_w", nodata), "dist_d8_w")
    _close(t.distance_to_channel_mfd(mfd, st_mfd, w), _load(tmp_path, "dist_mfd_w", nodata), "dist_mfd_w")

    slope = t.slope_percent(filled, mask, (CELL, -CELL))
    ref_slope = _load(tmp_path, "slope", nodata)
    _close(slope.astype(np.float64), ref_slope, "slope")

    _close(t.ls_factor(slope, fa_mfd, CELL, L_MAX), _load(tmp_path, "ls_mfd", nodata), "ls_mfd")
    _close(t.ls_factor(slope, fa_d8, CELL, L_MAX), _load(tmp_path, "ls_d8", nodata), "ls_d8")
