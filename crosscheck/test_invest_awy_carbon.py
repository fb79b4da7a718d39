"""gep's InVEST-compatible Annual Water Yield and Carbon against InVEST 3.20 on generated datasets:
every output pixel within 1e-5 relative, same nodata, and the totals."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import rasterio

from crosscheck.datasets import make_dataset
from crosscheck.run_invest import invest_available, run_invest
from gep.invest import run_datastack

pytestmark = pytest.mark.skipif(not invest_available(), reason="InVEST is not installed (scripts/install-invest.sh)")


@pytest.fixture(scope="module", params=[(300, False), (300, True)], ids=["300", "300-nodata-holes"])
def dataset(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    n, holes = request.param
    dest = tmp_path_factory.mktemp(f"ds{n}{'h' if holes else ''}")
    make_dataset(dest, n, seed=7, nodata_holes=holes)
    return dest


def _compare(ours: Path, theirs: Path) -> None:
    with rasterio.open(ours) as a, rasterio.open(theirs) as b:
        assert (a.width, a.height, a.transform) == (b.width, b.height, b.transform), ours.name
        x, y = a.read(1, masked=True), b.read(1, masked=True)
    np.testing.assert_array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y), err_msg=ours.name)
    valid = ~np.ma.getmaskarray(y)
    np.testing.assert_allclose(x.data[valid], y.data[valid], rtol=1e-5, atol=1e-9, err_msg=ours.name)


def test_annual_water_yield(dataset: Path, tmp_path: Path) -> None:
    invest = Path(run_invest(dataset / "awy.invs.json")["workspace"])
    run_datastack(dataset / "awy.invs.json", tmp_path)
    for name in ("wyield.tif", "aet.tif", "fractp.tif"):
        _compare(tmp_path / "output" / "per_pixel" / name, invest / "output" / "per_pixel" / name)
    ours = list(csv.DictReader((tmp_path / "output" / "watershed_results_wyield.csv").open()))
    theirs = list(csv.DictReader((invest / "output" / "watershed_results_wyield.csv").open()))
    assert [r["ws_id"] for r in ours] == [r["ws_id"] for r in theirs]
    for a, b in zip(ours, theirs, strict=True):
        for col in ("precip_mn", "PET_mn", "AET_mn", "wyield_mn", "wyield_vol"):
            assert float(a[col]) == pytest.approx(float(b[col]), rel=1e-5), col


def test_carbon(dataset: Path, tmp_path: Path) -> None:
    invest = Path(run_invest(dataset / "carbon.invs.json")["workspace"])
    run_datastack(dataset / "carbon.invs.json", tmp_path)
    for name in ("c_storage_bas.tif", "c_storage_alt.tif", "c_change_bas_alt.tif"):
        _compare(tmp_path / name, invest / name)
    ours = {r["Raster"]: float(r["Total"]) for r in csv.DictReader((tmp_path / "raster_values_summary.csv").open())}
    theirs = {r["Raster"]: float(r["Total"])
              for r in csv.DictReader((invest / "raster_values_summary.csv").open())}
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert ours[k] == pytest.approx(theirs[k], rel=1e-9), k
