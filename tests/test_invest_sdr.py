"""InVEST-compatible SDR (gep.invest.sdr) on small hand-checkable grids — no InVEST needed.

The cross-check against InVEST itself is crosscheck/test_invest_sdr.py; here: the per-pixel formulas on a plane
(where W̄, S̄, D_up, D_dn have closed forms), the sediment mass balance, args checking and the output files.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from unittest import mock

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from gep.accounting import terrain
from gep.invest import InvestCompatError, run_datastack
from gep.invest import sdr as sdr_module
from gep.invest._align import Grid
from gep.invest._raster import write_float32_many
from gep.invest._sdr_io import write_raster
from gep.invest.sdr import Params, ic_factor, sdr_factor

CRS = "EPSG:32650"
PX = 30.0
X0, Y0 = 500000.0, 3600000.0
TRANSFORM = Affine(PX, 0.0, X0, 0.0, -PX, Y0)
C, P = 0.2, 0.5  # one land-use class: usle_c, usle_p
R, K = 4000.0, 0.03
TFA = 5
ARGS = {"threshold_flow_accumulation": TFA, "k_param": 2, "ic_0_param": 0.5, "sdr_max": 0.8, "l_max": 122,
        "results_suffix": "", "n_workers": -1}


def _write(path: Path, data: np.ndarray, nodata: float | None) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=CRS, transform=TRANSFORM, nodata=nodata) as dst:
        dst.write(data, 1)
    return path.name


def _read(path: Path) -> np.ma.MaskedArray:
    with rasterio.open(path) as src:
        return src.read(1, masked=True)


def _case(folder: Path, dem: np.ndarray, algo: str = "D8", drainage: np.ndarray | None = None,
          **extra: object) -> Path:
    """Write a datastack over dem (one LULC class, uniform R and K, one watershed covering the grid)."""
    rows, cols = dem.shape
    args: dict[str, object] = dict(ARGS, flow_dir_algorithm=algo)
    args["dem_path"] = _write(folder / "dem.tif", dem.astype(np.float32), -9999.0)
    args["lulc_path"] = _write(folder / "lulc.tif", np.full(dem.shape, 3, dtype=np.uint8), 255)
    args["erosivity_path"] = _write(folder / "r.tif", np.full(dem.shape, R, dtype=np.float32), -1.0)
    args["erodibility_path"] = _write(folder / "k.tif", np.full(dem.shape, K, dtype=np.float32), -1.0)
    args["drainage_path"] = "" if drainage is None else _write(folder / "drain.tif", drainage, 255)
    (folder / "bio.csv").write_text(f"lucode,description,usle_c,usle_p\n3,crop,{C},{P}\n")
    args["biophysical_table_path"] = "bio.csv"
    ws = gpd.GeoDataFrame({"ws_id": [7]}, geometry=[box(X0, Y0 - rows * PX, X0 + cols * PX, Y0)], crs=CRS)
    ws.to_file(folder / "ws.shp")
    args["watersheds_path"] = "ws.shp"
    args.update(extra)
    stack = folder / "sdr.invs.json"
    stack.write_text(json.dumps({"args": args, "model_id": "sdr", "invest_version": "3.20.2"}))
    return stack


def _plane(rows: int, cols: int, drop: float) -> np.ndarray:
    """A plane falling `drop` metres per pixel towards the east: D8 flows straight east, FA = column + 1."""
    return np.tile(100.0 - drop * np.arange(cols), (rows, 1))


def _sdr(ic: float) -> float:
    return 0.8 / (1 + math.exp((0.5 - ic) / 2))


def test_plane_by_hand(tmp_path: Path) -> None:
    """On an east-facing plane every quantity has a closed form; check them pixel by pixel."""
    rows, cols, drop = 5, 9, 3.0  # 10 % slope
    run_datastack(_case(tmp_path, _plane(rows, cols, drop)), tmp_path / "out")
    out, inter = tmp_path / "out", tmp_path / "out" / "intermediate_outputs"
    fa = _read(inter / "flow_accumulation.tif")
    np.testing.assert_array_equal(fa, np.tile(np.arange(1, cols + 1, dtype=float), (rows, 1)))
    stream = _read(out / "stream.tif")
    np.testing.assert_array_equal(stream, (fa > TFA).astype(np.uint8))  # D8: FA > TFA
    ls, usle, rkls = _read(inter / "ls.tif"), _read(out / "usle.tif"), _read(out / "rkls.tif")
    land = stream == 0
    np.testing.assert_array_equal(usle.mask, ~land)  # nodata on streams
    np.testing.assert_allclose(rkls[land], ls[land] * R * K, rtol=1e-6)
    np.testing.assert_allclose(usle[land], ls[land] * R * K * C * P, rtol=1e-6)
    np.testing.assert_allclose(_read(out / "avoided_erosion.tif")[land], ls[land] * R * K * (1 - C * P), rtol=1e-5)

    # W and S are uniform, so W̄ = W, S̄ = S; D_dn counts the land pixels down to the first stream pixel.
    s = drop / PX  # 0.1 m/m, inside [0.005, 1]
    first_stream = TFA  # column index where FA = TFA + 1
    sdr = _read(inter / "sdr_factor.tif")
    for col in range(first_stream):
        d_up = C * s * math.sqrt((col + 1) * PX * PX)
        d_dn = (first_stream - col) / (C * s)
        assert sdr[2, col] == pytest.approx(_sdr(math.log10(d_up / d_dn)), rel=1e-6), col
        assert _read(out / "sed_export.tif")[2, col] == pytest.approx(usle[2, col] * sdr[2, col], rel=1e-6)
    np.testing.assert_array_equal(sdr[:, first_stream:], 1.0)  # SDR = 1 on streams


def test_deposition_recursion_on_a_d8_chain(tmp_path: Path) -> None:
    """D8 chain: t_i = dr_i·f_{i−1}, f_i = (1 − dr_i)·f_{i−1} + E'_i, dr_i = (SDR_{i+1} − SDR_i)/(1 − SDR_i)."""
    rows, cols = 5, 9
    run_datastack(_case(tmp_path, _plane(rows, cols, 3.0)), tmp_path / "out")
    out = tmp_path / "out"
    sdr = _read(out / "intermediate_outputs" / "sdr_factor.tif")[2].astype(float)
    usle = _read(out / "usle.tif")[2].astype(float)
    dep = _read(out / "sed_deposition.tif")[2]
    flux = 0.0
    for col in range(cols):
        if col < TFA:
            e_prime = usle[col] * (1 - sdr[col])
            dr = max((max(sdr[col + 1], sdr[col]) - sdr[col]) / (1 - sdr[col]), 0.0)
        else:
            e_prime, dr = 0.0, 1.0  # streams: SDR = 1 keeps everything that arrives
        expected_t = dr * flux
        flux = (1 - dr) * flux + e_prime
        assert dep[col] == pytest.approx(expected_t, rel=1e-5, abs=1e-9), col


@pytest.mark.parametrize("algo", ["D8", "MFD"])
def test_sediment_mass_balance(tmp_path: Path, algo: str) -> None:
    """Everything eroded on land either reaches a stream (export) or is deposited (land or stream pixels).

    Per pixel f_i + t_i = inflow_i + E'_i and USLE_i = export_i + E'_i; streams keep all inflow (dr = 1, f = 0),
    so when every land pixel drains to a stream: Σ usle = Σ sed_export + Σ sed_deposition.
    """
    rng = np.random.default_rng(3)
    rows, cols = 24, 30
    dem = _plane(rows, cols, 1.5) + rng.uniform(0, 0.4, (rows, cols))  # east neighbour always lower
    run_datastack(_case(tmp_path, dem, algo, threshold_flow_accumulation=20), tmp_path / "out")
    out = tmp_path / "out"
    usle, export, dep = (_read(out / f"{n}.tif") for n in ("usle", "sed_export", "sed_deposition"))
    assert not dep.mask.any()
    assert np.array_equal(export.mask, usle.mask)  # every land pixel drains to a stream
    total_usle = float(usle.sum(dtype=np.float64))
    balance = float(export.sum(dtype=np.float64)) + float(dep.sum(dtype=np.float64))
    assert balance == pytest.approx(total_usle, rel=1e-5)
    assert 0 < float(dep.sum()) < total_usle
    rows_out = list(csv.DictReader((out / "watershed_results_sdr.csv").open()))
    ha = PX * PX / 10000
    assert float(rows_out[0]["usle_tot"]) == pytest.approx(total_usle * ha, rel=1e-6)
    assert float(rows_out[0]["sed_export"]) + float(rows_out[0]["sed_dep"]) == pytest.approx(total_usle * ha,
                                                                                             rel=1e-5)


def test_sdr_and_ic_formulas() -> None:
    """IC = log10(D_up/D_dn), SDR = SDR_max/(1 + exp((IC0 − IC)/k)); streams 1; D_dn = 0 or NaN → nodata."""
    d_up = np.array([12.0, 3.0, 5.0, np.nan])
    d_dn = np.array([40.0, 0.0, np.nan, 2.0])
    ic = ic_factor(d_up, d_dn)
    assert ic[0] == pytest.approx(math.log10(12 / 40), rel=1e-6)
    assert np.isnan(ic[1:]).all()
    p = Params(tfa=1000, k=2, ic0=0.5, sdr_max=0.8, l_max=122, mfd=True)
    sdr = sdr_factor(ic, np.array([0, 1, 0, 0], dtype=np.uint8), p)
    assert sdr.dtype == np.float32
    assert sdr[0] == pytest.approx(_sdr(math.log10(12 / 40)), rel=1e-6)
    assert sdr[1] == 1.0 and sdr[2] == -1 and sdr[3] == -1


def _field(rng: np.random.Generator, shape: tuple[int, int], holes: float, zeros: float = 0.0) -> np.ndarray:
    """Positive float64 values with NaN holes and exact zeros, as D_up / D_dn / accumulations carry them."""
    out = rng.uniform(0.01, 1e4, shape)
    out[rng.random(shape) < zeros] = 0.0
    out[rng.random(shape) < holes] = np.nan
    return out


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 23), cols=st.integers(1, 19), block=st.integers(1, 50), seed=st.integers(0, 2**32 - 1))
def test_block_by_block_steps_equal_whole_raster_steps(rows: int, cols: int, block: int, seed: int) -> None:
    """D_up, IC, SDR and LS go block by block (to bound their temporaries): any block size gives the whole-raster
    result bit for bit, including blocks that split rows and a last partial block."""
    rng = np.random.default_rng(seed)
    shape = (rows, cols)
    fa = rng.integers(1, 500, shape).astype(np.float64)
    fa[rng.random(shape) < 0.1] = np.nan
    w_acc, s_acc = _field(rng, shape, 0.1), _field(rng, shape, 0.1)
    d_dn = _field(rng, shape, 0.1, zeros=0.1)
    streams = rng.integers(0, 2, shape).astype(np.uint8)
    slope = rng.uniform(0, 80, shape).astype(np.float32)
    slope[rng.random(shape) < 0.1] = np.nan
    p = Params(tfa=10, k=2, ic0=0.5, sdr_max=0.8, l_max=122, mfd=True)

    def steps(block_pixels: int) -> list[np.ndarray]:
        with mock.patch.object(sdr_module, "BLOCK_PIXELS", block_pixels), \
                mock.patch.object(terrain, "LS_CHUNK_PIXELS", block_pixels):
            d_up = sdr_module._d_up(fa, w_acc.copy(), s_acc.copy(), PX)
            ic = ic_factor(d_up, d_dn)
            return [d_up, ic, sdr_factor(ic, streams, p), terrain.ls_factor(slope, fa, PX, 122.0, threads=2)]

    for blocked, whole in zip(steps(block), steps(rows * cols), strict=True):
        assert blocked.dtype == whole.dtype
        assert np.array_equal(blocked, whole, equal_nan=True)


def test_rasters_are_written_block_row_by_block_row_exactly(tmp_path: Path) -> None:
    """The writers go one block row at a time (GDAL held a whole copy of an array written at once): a raster
    whose height is not a multiple of the block reads back equal, in the file's dtype."""
    rng = np.random.default_rng(7)
    grid = Grid(TRANSFORM, 300, 530, rasterio.crs.CRS.from_string(CRS))
    data = rng.normal(size=(530, 300))
    with rasterio.open(write_raster(tmp_path / "f64.tif", data, -1.0, grid)) as src:
        assert src.dtypes[0] == "float64" and src.block_shapes[0] == (256, 256)
        assert np.array_equal(src.read(1), data)
    [f32] = write_float32_many([(tmp_path / "f32.tif", data)], -1.0, grid.transform, grid.crs)
    with rasterio.open(f32) as src:
        assert src.dtypes[0] == "float32"
        assert np.array_equal(src.read(1), data.astype(np.float32))


def test_outputs_have_invest_names_dtypes_and_nodata(tmp_path: Path) -> None:
    written = run_datastack(_case(tmp_path, _plane(5, 9, 3.0), "MFD", results_suffix="x"), tmp_path / "out")
    out = tmp_path / "out"
    expected = {
        "usle_x.tif": ("float32", float(np.finfo(np.float32).max)),
        "rkls_x.tif": ("float32", -1.0),
        "sed_export_x.tif": ("float32", float(np.finfo(np.float32).max)),
        "avoided_erosion_x.tif": ("float32", float(np.finfo(np.float32).max)),
        "avoided_export_x.tif": ("float32", float(np.finfo(np.float32).max)),
        "sed_deposition_x.tif": ("float32", -1.0),
        "stream_x.tif": ("uint8", 255.0),
        "intermediate_outputs/ls_x.tif": ("float64", float(np.finfo(np.float64).max)),
        "intermediate_outputs/flow_accumulation_x.tif": ("float64", -1.23789789e29),
        "intermediate_outputs/pit_filled_dem_x.tif": ("float32", float(np.finfo(np.float32).max)),
        "intermediate_outputs/sdr_factor_x.tif": ("float32", -1.0),
    }
    for name, (dtype, nodata) in expected.items():
        with rasterio.open(out / name) as src:
            assert (src.dtypes[0], src.nodata) == (dtype, nodata), name
            assert src.transform == TRANSFORM
    assert set(written.values()) >= {out / n for n in expected}
    header = (out / "watershed_results_sdr_x.csv").read_text().splitlines()[0]
    assert header == "ws_id,usle_tot,sed_export,sed_dep,avoid_exp,avoid_eros"
    assert not list(out.glob(".*"))  # no temp files left behind


def test_drainage_pixels_become_streams(tmp_path: Path) -> None:
    drainage = np.zeros((5, 9), dtype=np.uint8)
    drainage[2, 1] = 1
    run_datastack(_case(tmp_path, _plane(5, 9, 3.0), drainage=drainage), tmp_path / "out")
    out = tmp_path / "out"
    assert _read(out / "usle.tif").mask[2, 1]  # a stream pixel now
    assert _read(out / "stream.tif")[2, 1] == 0  # stream.tif keeps the extracted streams only
    assert _read(out / "intermediate_outputs" / "sdr_factor.tif")[2, 1] == 1.0
    assert _read(out / "sed_export.tif")[2, 0] > 0  # now one step from a "stream"


def test_mask_outside_watershed_and_nodata(tmp_path: Path) -> None:
    """Pixel centres outside the polygon and input nodata are masked before routing (InVEST's mask.tif)."""
    dem = _plane(6, 10, 3.0)
    dem[1, 4] = -9999.0
    stack = _case(tmp_path, dem)
    ws = gpd.GeoDataFrame({"ws_id": [1]}, geometry=[box(X0, Y0 - 6 * PX, X0 + 8.4 * PX, Y0)], crs=CRS)
    ws.to_file(tmp_path / "ws.shp")
    run_datastack(stack, tmp_path / "out")
    filled = _read(tmp_path / "out" / "intermediate_outputs" / "pit_filled_dem.tif")
    assert filled.shape == (6, 9)  # grid snapped outward to the polygon's bounding box
    assert filled.mask[1, 4] and filled.mask[:, 8].all()  # nodata hole; column whose centre is outside
    assert filled.mask[:, :8].sum() == 1


def test_args_are_checked(tmp_path: Path) -> None:
    stack = _case(tmp_path, _plane(5, 9, 3.0), bogus_arg=1)
    with pytest.raises(InvestCompatError, match="bogus_arg"):
        run_datastack(stack, tmp_path / "out")
    for key, value, message in (("flow_dir_algorithm", "Dinf", "flow_dir_algorithm"), ("sdr_max", 1.5, "sdr_max"),
                                ("l_max", 0, "l_max"), ("k_param", "", "k_param")):
        with pytest.raises(InvestCompatError, match=message):
            run_datastack(_case(tmp_path, _plane(5, 9, 3.0), **{key: value}), tmp_path / "out")


def test_raster_without_nodata_is_refused(tmp_path: Path) -> None:
    stack = _case(tmp_path, _plane(5, 9, 3.0))
    _write(tmp_path / "r.tif", np.full((5, 9), R, dtype=np.float32), None)
    with pytest.raises(InvestCompatError, match="erosivity_path"):
        run_datastack(stack, tmp_path / "out")


def test_unknown_lulc_code_is_an_error(tmp_path: Path) -> None:
    stack = _case(tmp_path, _plane(5, 9, 3.0))
    (tmp_path / "bio.csv").write_text("lucode,description,usle_c,usle_p\n4,urban,0.1,1\n")
    with pytest.raises(InvestCompatError, match=r"\[3\]"):
        run_datastack(stack, tmp_path / "out")
