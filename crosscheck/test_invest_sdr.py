"""gep's InVEST-compatible SDR against InVEST 3.20 itself on generated datasets (MFD and D8, with and without
nodata holes): usle, LS and flow accumulation per pixel within 1e-4 relative with the same nodata masks, the
other main rasters likewise, and the watershed totals within 1e-3."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio

from crosscheck.datasets import make_dataset
from crosscheck.run_invest import invest_available, run_invest
from gep.invest import run_datastack

pytestmark = pytest.mark.skipif(not invest_available(), reason="InVEST is not installed (scripts/install-invest.sh)")

PIXEL_RTOL = 1e-4
TOTAL_RTOL = 1e-3
PER_PIXEL = ("usle.tif", "intermediate_outputs/ls.tif", "intermediate_outputs/flow_accumulation.tif",
             "rkls.tif", "sed_export.tif", "sed_deposition.tif", "avoided_erosion.tif", "avoided_export.tif",
             "stream.tif", "intermediate_outputs/pit_filled_dem.tif", "intermediate_outputs/sdr_factor.tif")
TOTALS = ("usle_tot", "sed_export", "sed_dep", "avoid_exp", "avoid_eros")


@pytest.fixture(scope="module", params=[(300, False), (300, True), (1000, False), (1000, True)],
                ids=["300", "300-nodata-holes", "1000", "1000-nodata-holes"])
def dataset(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    n, holes = request.param
    dest = tmp_path_factory.mktemp(f"sdr{n}{'h' if holes else ''}")
    make_dataset(dest, n, seed=11, nodata_holes=holes)
    return dest


def _compare(ours: Path, theirs: Path) -> None:
    """Same grid, dtype and nodata value; same nodata pixels; values within PIXEL_RTOL."""
    with rasterio.open(ours) as a, rasterio.open(theirs) as b:
        assert (a.width, a.height, a.transform) == (b.width, b.height, b.transform), ours.name
        assert (a.dtypes, a.nodata) == (b.dtypes, b.nodata), ours.name
        x, y = a.read(1, masked=True), b.read(1, masked=True)
    np.testing.assert_array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y), err_msg=ours.name)
    valid = ~np.ma.getmaskarray(y)
    assert valid.any(), ours.name
    np.testing.assert_allclose(x.data[valid], y.data[valid], rtol=PIXEL_RTOL, atol=1e-12, err_msg=ours.name)


@pytest.mark.parametrize("algo", ["mfd", "d8"])
def test_sdr_matches_invest(dataset: Path, algo: str, tmp_path: Path) -> None:
    stack = dataset / f"sdr_{algo}.invs.json"
    invest = Path(run_invest(stack)["workspace"])
    run_datastack(stack, tmp_path)
    for name in PER_PIXEL:
        _compare(tmp_path / name, invest / name)
    ours = list(csv.DictReader((tmp_path / "watershed_results_sdr.csv").open()))
    theirs = gpd.read_file(invest / "watershed_results_sdr.shp")
    assert list(ours[0]) == [*[c for c in theirs.columns if c != "geometry"]]
    assert [int(r["ws_id"]) for r in ours] == [int(v) for v in theirs["ws_id"]]
    for row, (_, expected) in zip(ours, theirs.iterrows(), strict=True):
        for field in TOTALS:
            assert float(row[field]) == pytest.approx(float(expected[field]), rel=TOTAL_RTOL), field


@pytest.mark.parametrize("algo", ["mfd", "d8"])
def test_sdr_drainage_matches_invest(tmp_path_factory: pytest.TempPathFactory, algo: str, tmp_path: Path) -> None:
    """drainage_path: its 1-pixels join the streams (and its nodata joins the mask), as in InVEST."""
    dest = tmp_path_factory.mktemp("sdrdrain")
    make_dataset(dest, 300, seed=5, nodata_holes=True)
    with rasterio.open(dest / "lulc.tif") as src:
        profile = src.profile
        drainage = np.zeros((src.height, src.width), dtype=np.uint8)
    drainage[100:102, 40:200] = 1  # an artificial ditch
    drainage[150:160, 150:160] = 255  # a nodata block: masked like any other input nodata
    with rasterio.open(dest / "drainage.tif", "w", **profile) as dst:
        dst.write(drainage, 1)
    stack = json.loads((dest / f"sdr_{algo}.invs.json").read_text())
    stack["args"]["drainage_path"] = "drainage.tif"
    path = dest / f"sdr_{algo}_drainage.invs.json"
    path.write_text(json.dumps(stack))
    invest = Path(run_invest(path)["workspace"])
    run_datastack(path, tmp_path)
    for name in PER_PIXEL:
        _compare(tmp_path / name, invest / name)
    ours = list(csv.DictReader((tmp_path / "watershed_results_sdr.csv").open()))
    theirs = gpd.read_file(invest / "watershed_results_sdr.shp")
    for row, (_, expected) in zip(ours, theirs.iterrows(), strict=True):
        for field in TOTALS:
            assert float(row[field]) == pytest.approx(float(expected[field]), rel=TOTAL_RTOL), field
