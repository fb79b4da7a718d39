"""InVEST-compatible mode: datastacks, Carbon and Annual Water Yield against InVEST 3.20's semantics.

Hand-computed cases use the published formulas independently of the implementation (float64); the
Willamette case reproduces the totals InVEST 3.20.2 printed for NatCap's carbon datastack.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from gep.invest import REGISTRY, InvestCompatError, load_datastack, run_datastack
from gep.invest.annual_water_yield import aligned_grid
from gep.invest.datastack import normalize_model_id

CRS = "EPSG:32610"
WILLAMETTE = Path(__file__).resolve().parents[2] / "shared" / "data" / "willamette"


def write_raster(path: Path, data: np.ndarray, transform: Affine, nodata: float | None) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=CRS, transform=transform, nodata=nodata) as dst:
        dst.write(data, 1)
    return path


def write_stack(folder: Path, model: str, args: dict[str, object], key: str = "model_id") -> Path:
    path = folder / "stack.invs.json"
    path.write_text(json.dumps({"args": args, key: model, "invest_version": "3.20.2"}))
    return path


def read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


# ---------------------------------------------------------------- datastacks


def test_model_ids_normalize() -> None:
    assert normalize_model_id("natcap.invest.carbon") == "carbon"
    assert normalize_model_id("natcap.invest.annual_water_yield") == "annual_water_yield"
    assert normalize_model_id("natcap.invest.sdr.sdr") == "sdr"
    assert normalize_model_id("awy") == "annual_water_yield"


def test_relative_paths_resolve_against_the_json_folder(tmp_path: Path) -> None:
    data = tmp_path / "inputs"
    data.mkdir()
    write_raster(data / "lulc.tif", np.ones((2, 2), np.int16), Affine(30, 0, 0, 0, -30, 60), -1)
    (data / "pools.csv").write_text("lucode,c_above,c_below,c_soil,c_dead\n1,1,1,1,1\n")
    stack = write_stack(data, "natcap.invest.carbon", {
        "lulc_bas_path": "lulc.tif", "carbon_pools_path": "./pools.csv", "calc_sequestration": "false",
        "results_suffix": ""}, key="model_name")
    loaded = load_datastack(stack, REGISTRY)
    assert loaded.model_id == "carbon"
    assert loaded.args["lulc_bas_path"] == str(data / "lulc.tif")
    assert loaded.args["carbon_pools_path"] == str(data / "pools.csv")
    assert loaded.args["calc_sequestration"] is False


def test_unknown_and_unsupported_args_are_named(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, "carbon", {"lulc_bas_path": "x.tif", "lulc_cur_path": "y.tif",
                                             "carbon_pools_path": "p.csv"})
    with pytest.raises(InvestCompatError) as err:
        load_datastack(stack, REGISTRY)
    message = str(err.value)
    assert "lulc_cur_path" in message
    assert "lulc_bas_path: file not found" in message


def test_missing_required_arg_is_named(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, "annual_water_yield", {"lulc_path": ""})
    with pytest.raises(InvestCompatError, match=r"missing required arg.*seasonality_constant"):
        load_datastack(stack, REGISTRY)


def test_model_not_implemented_is_clear(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, "natcap.invest.ndr.ndr", {}, key="model_name")
    with pytest.raises(InvestCompatError, match=r"'ndr' is not supported.*not implemented"):
        load_datastack(stack, REGISTRY)


def test_unsupported_arg_of_a_spec_is_refused(tmp_path: Path) -> None:
    from dataclasses import replace

    from gep.invest.datastack import check_args

    spec = replace(REGISTRY["carbon"], unsupported={"fancy_option": "not implemented in this mode"})
    with pytest.raises(InvestCompatError, match="unsupported arg fancy_option: not implemented"):
        check_args(spec, {"lulc_bas_path": __file__, "carbon_pools_path": __file__, "fancy_option": "x"}, "t")
    check_args(spec, {"lulc_bas_path": __file__, "carbon_pools_path": __file__, "fancy_option": ""}, "t")


# ---------------------------------------------------------------- carbon


@pytest.mark.skipif(not WILLAMETTE.exists(), reason="shared Willamette sample data not present")
def test_willamette_reproduces_invest_totals(tmp_path: Path) -> None:
    outputs = run_datastack(WILLAMETTE / "carbon_willamette.invs.json", tmp_path)
    assert outputs["summary_csv"].name == "raster_values_summary_willamette.csv"
    with outputs["summary_csv"].open() as handle:
        rows = {r["Raster"]: r for r in csv.DictReader(handle)}
    assert round(float(rows["Baseline Carbon Storage"]["Total"]), 3) == 41401390.815
    assert round(float(rows["Alternate Carbon Storage"]["Total"]), 2) == 37875295.71
    assert round(float(rows["Change in Carbon Storage"]["Total"]), 3) == -3526095.105
    assert rows["Change in Carbon Storage"]["Units"] == "metric_ton"
    assert rows["Baseline Carbon Storage"]["Filename"] == "c_storage_bas_willamette.tif"
    assert (tmp_path / "c_change_bas_alt_willamette.tif").exists()


def _carbon_case(tmp_path: Path, **extra: object) -> dict[str, Path]:
    transform = Affine(100, 0, 500000, 0, -100, 4000000)  # 1 ha pixels
    write_raster(tmp_path / "bas.tif", np.array([[1, 2, 3], [3, 255, 1]], np.uint8), transform, 255)
    write_raster(tmp_path / "alt.tif", np.array([[2, 2, 1], [3, 3, 255]], np.uint8), transform, 255)
    (tmp_path / "pools.csv").write_text(
        "LUCODE,C_above,C_below,C_soil,C_dead,name\n1,10,5,20,1.5,forest\n2,2,1,10,0,crop\n3,0,0,5,0,urban\n")
    args = {"lulc_bas_path": "bas.tif", "lulc_alt_path": "alt.tif", "carbon_pools_path": "pools.csv",
            "calc_sequestration": True, "results_suffix": "t", **extra}
    return run_datastack(write_stack(tmp_path, "carbon", args), tmp_path / "ws")


def test_carbon_tiny_by_hand(tmp_path: Path) -> None:
    out = _carbon_case(tmp_path)
    bas, alt, change = read(out["c_storage_bas"]), read(out["c_storage_alt"]), read(out["c_change_bas_alt"])
    assert out["c_storage_bas"].name == "c_storage_bas_t.tif"
    np.testing.assert_array_equal(bas, np.array([[36.5, 13, 5], [5, -1, 36.5]], np.float32))
    np.testing.assert_array_equal(alt, np.array([[13, 13, 36.5], [5, 5, -1]], np.float32))
    np.testing.assert_array_equal(change, np.array([[-23.5, 0, 31.5], [0, -1, -1]], np.float32))
    with rasterio.open(out["c_storage_bas"]) as src:
        assert src.nodata == -1 and src.dtypes[0] == "float32"
    lines = out["summary_csv"].read_text().splitlines()
    assert lines[0] == "Raster,Total,Units,Filename"
    assert lines[1] == "Baseline Carbon Storage,96.0,metric_ton,c_storage_bas_t.tif"  # t/ha × 1 ha
    assert lines[2] == "Alternate Carbon Storage,72.5,metric_ton,c_storage_alt_t.tif"
    assert lines[3] == "Change in Carbon Storage,8.0,metric_ton,c_change_bas_alt_t.tif"


def test_carbon_valuation(tmp_path: Path) -> None:
    out = _carbon_case(tmp_path, do_valuation=True, lulc_bas_year=2020, lulc_alt_year=2030,
                       price_per_metric_ton_of_c=50, discount_rate=5, rate_change=1)
    ratio = 1 / (1.05 * 1.01)
    constant = 50 / 10 * sum(ratio ** t for t in range(10))
    npv = read(out["npv_alt"])
    assert npv[0, 0] == pytest.approx(-23.5 * constant, rel=1e-6)
    last = out["summary_csv"].read_text().splitlines()[-1].split(",")
    assert last[0] == "Net Present Value of Carbon Change" and last[2] == "currency"
    assert float(last[1]) == pytest.approx(8.0 * constant, rel=1e-6)


# ---------------------------------------------------------------- annual water yield

ORIGIN = (400000.0, 5000000.0)


def _awy_inputs(folder: Path, precip: np.ndarray, lulc: np.ndarray, eto: np.ndarray, soil: np.ndarray,
                pawc: np.ndarray, sheds: list[tuple[int, object]], z: float = 5.0,
                extra: dict[str, object] | None = None) -> Path:
    t = Affine(10, 0, ORIGIN[0], 0, -10, ORIGIN[1])
    write_raster(folder / "precip.tif", precip, t, -9999.0)
    write_raster(folder / "lulc.tif", lulc, t, 255)
    write_raster(folder / "eto.tif", eto, t, -9999.0)
    write_raster(folder / "soil.tif", soil, t, -9999.0)
    write_raster(folder / "pawc.tif", pawc, t, -9999.0)
    (folder / "bio.csv").write_text("lucode,lulc_veg,root_depth,Kc\n1,1,2000,0.9\n2,0,500,1.2\n3,1,300,0.7\n")
    gpd.GeoDataFrame({"ws_id": [s[0] for s in sheds]}, geometry=[s[1] for s in sheds], crs=CRS).to_file(
        folder / "sheds.gpkg")
    args = {"lulc_path": "lulc.tif", "precipitation_path": "precip.tif", "eto_path": "eto.tif",
            "depth_to_root_rest_layer_path": "soil.tif", "pawc_path": "pawc.tif", "watersheds_path": "sheds.gpkg",
            "biophysical_table_path": "bio.csv", "seasonality_constant": z, **(extra or {})}
    return write_stack(folder, "annual_water_yield", args)


def _hand_fractp(kc: float, eto: float, p: float, root: float, soil: float, pawc: float, veg: int,
                 z: float) -> float:
    """The user's-guide formulas in float64, written independently of the implementation."""
    pet = kc * eto
    if veg == 0:
        return min(pet, p) / p
    omega = min(z * min(root, soil) * pawc / p + 1.25, 5.0)
    budyko = 1 + pet / p - (1 + (pet / p) ** omega) ** (1 / omega)
    return min(pet / p, budyko)


def test_awy_pixels_by_hand(tmp_path: Path) -> None:
    f32 = np.float32
    precip = np.array([[1000, 800, 0], [300, -9999, 100]], f32)
    lulc = np.array([[1, 2, 1], [2, 1, 3]], np.uint8)
    eto = np.array([[900, 500, 900], [400, 900, 50]], f32)
    soil = np.array([[1500, 1000, 1500], [1000, 1500, 9000]], f32)
    pawc = np.array([[0.2, 0.1, 0.2], [0.1, 0.2, 0.3]], f32)
    shed = box(ORIGIN[0], ORIGIN[1] - 20, ORIGIN[0] + 30, ORIGIN[1])
    stack = _awy_inputs(tmp_path, precip, lulc, eto, soil, pawc, [(7, shed)], z=5.0)
    out = run_datastack(stack, tmp_path / "ws")
    assert out["wyield"] == tmp_path / "ws" / "output" / "per_pixel" / "wyield.tif"
    fractp, aet, wyield = read(out["fractp"]), read(out["aet"]), read(out["wyield"])
    kc = {1: 0.9, 2: 1.2, 3: 0.7}
    root = {1: 2000.0, 2: 1.0, 3: 300.0}
    veg = {1: 1, 2: 0, 3: 1}
    expected = {}
    for (r, c) in [(0, 0), (0, 1), (1, 0), (1, 2)]:
        code = int(lulc[r, c])
        expected[(r, c)] = _hand_fractp(kc[code], float(eto[r, c]), float(precip[r, c]), root[code],
                                        float(soil[r, c]), float(pawc[r, c]), veg[code], 5.0)
        assert fractp[r, c] == pytest.approx(expected[(r, c)], rel=1e-6)
        assert aet[r, c] == pytest.approx(expected[(r, c)] * precip[r, c], rel=1e-6)
        assert wyield[r, c] == pytest.approx((1 - expected[(r, c)]) * precip[r, c], rel=1e-5)
    # the non-vegetated pixel with PET = 1.2·500 < P = 800 evaporates PET; with PET = 480 > P = 300 all of P
    assert fractp[0, 1] == pytest.approx(600 / 800, rel=1e-6)
    assert fractp[1, 0] == pytest.approx(1.0)
    # ω = 5·min(300, 9000)·0.3/100 + 1.25 = 5.75 is capped at 5: the uncapped ω would give another AET/P
    uncapped = 5 * 300 * 0.3 / 100 + 1.25
    x = 0.7 * 50 / 100
    assert uncapped > 5
    assert fractp[1, 2] == pytest.approx(1 + x - (1 + x ** 5) ** (1 / 5), rel=1e-6)
    assert abs(fractp[1, 2] - (1 + x - (1 + x ** uncapped) ** (1 / uncapped))) > 1e-4
    # P == 0 and nodata P give nodata in every output
    for rc in [(0, 2), (1, 1)]:
        assert fractp[rc] == -1 and aet[rc] == -1 and wyield[rc] == -1
    with rasterio.open(out["fractp"]) as src:
        assert src.nodata == -1 and src.dtypes[0] == "float32"

    with out["watershed_results_wyield_csv"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["ws_id", "precip_mn", "PET_mn", "AET_mn", "wyield_mn", "wyield_vol"]
    row = rows[0]
    assert row["ws_id"] == "7"
    valid_p = [1000, 800, 0, 300, 100]  # P == 0 is a valid precipitation value; only nodata is left out
    assert float(row["precip_mn"]) == pytest.approx(np.mean(valid_p), rel=1e-9)
    pets = [0.9 * 900, 1.2 * 500, 0.9 * 900, 1.2 * 400, 0.9 * 900, 0.7 * 50]
    assert float(row["PET_mn"]) == pytest.approx(np.mean(pets), rel=1e-6)
    ys = [(1 - expected[k]) * precip[k] for k in expected]
    assert float(row["wyield_mn"]) == pytest.approx(np.mean(ys), rel=1e-6)
    area = 30 * 20
    assert float(row["wyield_vol"]) == pytest.approx(float(row["wyield_mn"]) * area / 1000, rel=1e-9)


def test_awy_demand_and_valuation(tmp_path: Path) -> None:
    ones = np.ones((2, 2), np.float32)
    (tmp_path / "demand.csv").write_text("lucode,demand\n1,10\n2,0\n3,5\n")
    (tmp_path / "val.csv").write_text(
        "ws_id,efficiency,fraction,height,kw_price,cost,time_span,discount\n1,0.8,0.6,25,0.07,0,100,5\n")
    stack = _awy_inputs(tmp_path, ones * 1000, np.array([[1, 1], [3, 2]], np.uint8), ones * 500, ones * 1000,
                        ones * 0.1, [(1, box(ORIGIN[0], ORIGIN[1] - 20, ORIGIN[0] + 20, ORIGIN[1]))],
                        extra={"demand_table_path": "demand.csv", "valuation_table_path": "val.csv",
                               "sub_watersheds_path": "subs.gpkg"})
    sub = box(ORIGIN[0], ORIGIN[1] - 10, ORIGIN[0] + 20, ORIGIN[1])
    gpd.GeoDataFrame({"subws_id": [3]}, geometry=[sub], crs=CRS).to_file(tmp_path / "subs.gpkg")
    out = run_datastack(stack, tmp_path / "ws")
    sub_rows = out["subwatershed_results_wyield_csv"].read_text().splitlines()
    assert sub_rows[0].startswith("subws_id,precip_mn,") and sub_rows[1].startswith('"3",')
    assert "hp_val" not in sub_rows[0]  # valuation is for watersheds only
    with out["watershed_results_wyield_csv"].open() as handle:
        row = next(csv.DictReader(handle))
    assert float(row["consum_vol"]) == 25 and float(row["consum_mn"]) == 6.25
    rsupply = float(row["wyield_vol"]) - 25
    assert float(row["rsupply_vl"]) == pytest.approx(rsupply, abs=1e-9)
    energy = 0.8 * 0.6 * 25 * rsupply * 0.00272
    dsum = sum((1 / 1.05) ** t for t in range(100))
    assert float(row["hp_energy"]) == pytest.approx(energy, rel=1e-9)
    assert float(row["hp_val"]) == pytest.approx(0.07 * energy * dsum, rel=1e-9)


def test_awy_alignment_to_intersection_and_watershed_bbox(tmp_path: Path) -> None:
    """Different extents + a smaller watershed: the grid is InVEST's snapped intersection."""
    x0, y0 = ORIGIN
    lulc_t = Affine(10, 0, x0, 0, -10, y0)  # LULC 10×10 px: x0..x0+100, y0-100..y0
    write_raster(tmp_path / "lulc.tif", np.ones((10, 10), np.uint8), lulc_t, 255)
    for name, t, shape in [("precip", Affine(5, 0, x0 + 3, 0, -5, y0 - 2), (30, 30)),   # finer, shifted
                           ("eto", Affine(10, 0, x0 - 50, 0, -10, y0 + 50), (20, 20)),
                           ("soil", lulc_t, (10, 10)), ("pawc", lulc_t, (10, 10))]:
        write_raster(tmp_path / f"{name}.tif", np.full(shape, 500, np.float32), t, -9999.0)
    (tmp_path / "bio.csv").write_text("lucode,lulc_veg,root_depth,kc\n1,1,1000,1\n")
    shed = box(x0 + 12.5, y0 - 79.0, x0 + 77.0, y0 - 12.0)  # bbox smaller than every raster
    gpd.GeoDataFrame({"ws_id": [1]}, geometry=[shed], crs=CRS).to_file(tmp_path / "sheds.gpkg")
    args = {"lulc_path": "lulc.tif", "precipitation_path": "precip.tif", "eto_path": "eto.tif",
            "depth_to_root_rest_layer_path": "soil.tif", "pawc_path": "pawc.tif", "watersheds_path": "sheds.gpkg",
            "biophysical_table_path": "bio.csv", "seasonality_constant": 5}
    stack = write_stack(tmp_path, "annual_water_yield", args)
    # intersection: x [x0+12.5, x0+77], y [y0-79, y0-12]. Lower-left snapped to the LULC grid by truncating
    # the pixel count toward zero: minx = x0 + int(12.5/10)·10 = x0+10; miny = (y0-100) + int(21/-10)·(-10)
    # = y0-80. Size = ceil(67/10) = 7 and ceil(67/10) = 7; the grid is anchored at the snapped lower-left.
    grid = aligned_grid(load_datastack(stack, REGISTRY).args)
    assert (grid.width, grid.height) == (7, 7)
    assert grid.transform == Affine(10, 0, x0 + 10, 0, -10, y0 - 80 + 70)
    out = run_datastack(stack, tmp_path / "ws")
    with rasterio.open(out["wyield"]) as src:
        assert src.transform == grid.transform and (src.width, src.height) == (7, 7)
        assert not np.any(src.read(1) == -1)


def test_awy_unknown_lulc_code_is_an_error(tmp_path: Path) -> None:
    ones = np.ones((1, 2), np.float32)
    stack = _awy_inputs(tmp_path, ones * 1000, np.array([[1, 9]], np.uint8), ones * 500, ones, ones * 0.1,
                        [(1, box(ORIGIN[0], ORIGIN[1] - 10, ORIGIN[0] + 20, ORIGIN[1]))])
    with pytest.raises(InvestCompatError, match=r"not represented.*\[9\]"):
        run_datastack(stack, tmp_path / "ws")


def test_cli_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gep.invest.cli import invest_app

    _carbon_case(tmp_path)
    stack = tmp_path / "stack.invs.json"
    result = CliRunner().invoke(invest_app, ["run", str(stack), "--workspace", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "raster_values_summary_t.csv").exists()
    bad = write_stack(tmp_path, "ndr", {})
    result = CliRunner().invoke(invest_app, ["run", str(bad), "--workspace", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert math.isfinite(0.0)


# ---------------------------------------------------------------- against InVEST itself (when installed)

INVEST_PYTHON = Path(__file__).resolve().parents[1] / ".invest-venv" / "bin" / "python"
RUN_INVEST = """
import importlib, sys
from osgeo import gdal
gdal.UseExceptions()
from natcap.invest import datastack
stack = datastack.extract_parameter_set(sys.argv[1])
args = dict(stack.args, workspace_dir=sys.argv[2])
name = {"carbon": "natcap.invest.carbon", "annual_water_yield": "natcap.invest.annual_water_yield"}[stack.model_id]
importlib.import_module(name).execute(args)
"""


def _invest_available() -> bool:
    import subprocess

    if not INVEST_PYTHON.exists():
        return False
    return subprocess.run([str(INVEST_PYTHON), "-c", "import natcap.invest"], capture_output=True).returncode == 0


def _assert_same_raster(mine: Path, theirs: Path, rtol: float) -> None:
    with rasterio.open(mine) as a, rasterio.open(theirs) as b:
        assert a.transform == b.transform and a.shape == b.shape and a.nodata == b.nodata
        x, y = a.read(1).astype(np.float64), b.read(1).astype(np.float64)
    np.testing.assert_array_equal(x == a.nodata, y == b.nodata)
    valid = y != b.nodata
    np.testing.assert_allclose(x[valid], y[valid], rtol=rtol, atol=0)


@pytest.mark.skipif(not _invest_available(), reason="InVEST is not installed in .invest-venv")
def test_matches_invest(tmp_path: Path) -> None:
    """A misaligned, partly-nodata dataset: per-pixel outputs within 1e-5, tables within 1e-6 of InVEST."""
    import subprocess

    rng = np.random.default_rng(3)
    x0, y0 = ORIGIN
    lulc = rng.choice([1, 2, 3], size=(40, 50)).astype(np.int16)
    lulc[0, :4] = -1
    write_raster(tmp_path / "lulc.tif", lulc, Affine(30, 0, x0, 0, -30, y0), -1)
    precip = rng.uniform(100, 2000, size=(16, 18)).astype(np.float32)
    precip[3:5, 3:5], precip[8, 8] = 0, -9999
    write_raster(tmp_path / "precip.tif", precip, Affine(100, 0, x0 - 133.7, 0, -100, y0 + 51.2), -9999.0)
    eto = rng.uniform(300, 1500, size=(30, 40)).astype(np.float32)
    write_raster(tmp_path / "eto.tif", eto, Affine(40, 0, x0 + 9, 0, -40, y0 - 4), -1.0)
    write_raster(tmp_path / "soil.tif", rng.integers(100, 3000, size=(40, 50)).astype(np.int16),
                 Affine(30, 0, x0, 0, -30, y0), -9999)
    write_raster(tmp_path / "pawc.tif", rng.uniform(0.01, 0.4, size=(50, 60)),
                 Affine(25, 0, x0 - 20, 0, -25, y0 + 20), None)
    (tmp_path / "bio.csv").write_text("lucode,lulc_veg,root_depth,kc\n1,1,2500,0.95\n2,0,1,0.3\n3,1,700,0.65\n")
    sheds = [box(x0 + 95, y0 - 900, x0 + 800, y0 - 40), box(x0 + 600, y0 - 1150, x0 + 1350, y0 - 500),
             box(x0 + 1000.5, y0 - 1004, x0 + 1010, y0 - 1001)]  # overlapping; one covering no pixel centre
    gpd.GeoDataFrame({"ws_id": [1, 2, 3], "name": ["a", "b", "c"]}, geometry=sheds, crs=CRS).to_file(
        tmp_path / "sheds.gpkg")
    awy = write_stack(tmp_path, "annual_water_yield", {
        "lulc_path": "lulc.tif", "precipitation_path": "precip.tif", "eto_path": "eto.tif",
        "depth_to_root_rest_layer_path": "soil.tif", "pawc_path": "pawc.tif", "watersheds_path": "sheds.gpkg",
        "biophysical_table_path": "bio.csv", "seasonality_constant": 7.5, "results_suffix": "s"})
    subprocess.run([str(INVEST_PYTHON), "-c", RUN_INVEST, str(awy), str(tmp_path / "invest")], check=True,
                   capture_output=True)
    mine = run_datastack(awy, tmp_path / "mine")
    for key in ("fractp", "aet", "wyield"):
        _assert_same_raster(mine[key], tmp_path / "invest" / "output" / "per_pixel" / f"{key}_s.tif", 1e-5)
    theirs = (tmp_path / "invest" / "output" / "watershed_results_wyield_s.csv").read_text().splitlines()
    ours = mine["watershed_results_wyield_csv"].read_text().splitlines()
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:], strict=True):
        for u, v in zip(a.split(","), b.split(","), strict=True):
            if u == v:
                continue
            assert float(u) == pytest.approx(float(v), rel=1e-6)
