"""Every validation of a region package: the error names the problem, and nothing reaches the output folder.

Each case breaks one thing in an otherwise valid tiny package and runs `gep account` as a user would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from typer.testing import CliRunner

from gep.accounting.region import load_region
from gep.cli import app
from gep.errors import RegionError
from gep.testing import ALBERS, TinyRegion, Village, write_raster

CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
LAYERS = {"precipitation": np.full((2, 4), 2000.0), "evapotranspiration": np.full((2, 4), 700.0)}
OK_STAT = {"zone_code": "100101", "year": 2019, "item": "agriculture.output_value", "value": 500, "unit": "万元",
           "source": "test"}


def tiny(**kw: object) -> TinyRegion:
    args: dict[str, object] = {"classes": CLASSES.copy(), "layers": dict(LAYERS), "statistics": [OK_STAT]}
    args.update(kw)
    return TinyRegion(**args)  # type: ignore[arg-type]


def run_account(root: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["account", str(root), "--year", "2019", "--out", str(out)])
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def no_crs_raster(root: Path) -> None:
    write_raster(root / "rasters" / "precipitation_2019.tif", np.full((2, 4), 2000, np.float32),
                 tiny().transform, None, -9999.0)


def no_crs_zones(root: Path) -> None:
    frame = gpd.read_file(root / "zones.gpkg")
    frame = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(frame.geometry), crs=None)
    (root / "zones.gpkg").unlink()
    frame.to_file(root / "zones.gpkg", layer="villages")


def shifted_raster(root: Path) -> None:
    write_raster(root / "rasters" / "evapotranspiration_2019.tif", np.full((2, 4), 700, np.float32),
                 tiny().transform @ tiny().transform.translation(10, 0), ALBERS, -9999.0)


def nodata_raster(root: Path) -> None:
    write_raster(root / "rasters" / "evapotranspiration_2019.tif", np.full((2, 4), -9999, np.float32),
                 tiny().transform, ALBERS, -9999.0)


def edit_toml(old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        text = (root / "region.toml").read_text(encoding="utf-8")
        assert old in text
        (root / "region.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return edit


CASES: dict[str, tuple[dict[str, object], Callable[[Path], None] | None, list[str]]] = {
    "raster without CRS": ({}, no_crs_raster, ["rasters/precipitation_2019.tif, band 1", "has no CRS"]),
    "zones without CRS": ({}, no_crs_zones, ["zones.gpkg", "has no CRS"]),
    "raster not covering the zones": ({}, shifted_raster,
                                      ["rasters/evapotranspiration_2019.tif", "does not cover the zones"]),
    "all-nodata layer": ({}, nodata_raster, ["evapotranspiration_2019.tif, band 1", "only nodata"]),
    "unknown land-cover code": ({"classes": np.array([[11, 12, 41, 99], [43, 61, 31, 44]])}, None,
                                ["rasters/ecosystem.tif, band 1", "codes [99]", "ecosystem_classes.csv"]),
    "unknown ecosystem type": ({"ecosystem_classes": {11: "rainforest", 12: "evergreen_needleleaf_forest"}}, None,
                               ["ecosystem_classes.csv, row 2", "unknown ecosystem type 'rainforest'"]),
    "negative price in statistics": ({"statistics": [
        {"zone_code": "100101", "year": 2019, "item": "landscape_value.benefiting_area", "value": 1000,
         "unit": "m2", "source": "t"},
        {"zone_code": "100101", "year": 2019, "item": "landscape_value.house_price", "value": -5,
         "unit": "yuan/m2", "source": "t"}]}, None,
        ["statistics.csv, row 3", "negative price -5.0"]),
    "missing price": ({"statistics": [
        {"zone_code": "100101", "year": 2019, "item": "agriculture.product.tea", "value": 30, "unit": "t",
         "source": "t"}]}, None,
        ["statistics.csv, row 2", "agriculture.product.tea has no price", "agriculture.price.tea"]),
    "negative price override": ({"extra_toml": '[parameters."hydropower.price"]\nvalue = -0.5\n'
                                              'unit = "yuan/kWh"\nyear = 2019\nsource = "t"\n'}, None,
                                ["hydropower.price", "negative price -0.5"]),
    "duplicate zone codes": ({"villages": [Village("100101001001", (0, 2), (0, 2)),
                                           Village("100101001001", (0, 2), (2, 4))]}, None,
                             ["zones.gpkg", "duplicate village_code '100101001001'"]),
    "township whose county is missing": ({"villages": [Village("100101001001", (0, 2), (0, 2)),
                                                       Village("100101002001", (0, 2), (2, 4), township="100101002",
                                                               county="")]}, None,
                                         ["zones.gpkg, row 2", "county_code is empty"]),
    "statistics for a zone that does not exist": ({"statistics": [{**OK_STAT, "zone_code": "999999"}]}, None,
                                                  ["statistics.csv, row 2", "zone '999999' does not exist"]),
    "statistics unit of another dimension": ({"statistics": [{**OK_STAT, "unit": "kWh"}]}, None,
                                             ["statistics.csv, row 2", "column unit", "expected 'yuan'"]),
    "layer unit that does not match": ({}, edit_toml('unit = "mm"', 'unit = "cm"'),
                                       ["[layers.precipitation]", "unit 'cm' does not match", "'mm'"]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_named_and_nothing_is_written(case: str, tmp_path: Path) -> None:
    kwargs, mutate, expected = CASES[case]
    root = tiny(**kwargs).write(tmp_path / "region")
    if mutate:
        mutate(root)
    out = tmp_path / "out"
    code, output = run_account(root, out)
    assert code == 2, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} not in {output!r}"
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temporary folder left


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    stats = [{**OK_STAT, "zone_code": "999999"}, {**OK_STAT, "unit": "kWh", "zone_code": "100101001"}]
    root = tiny(statistics=stats, classes=np.array([[11, 12, 41, 99], [43, 61, 31, 44]])).write(tmp_path)
    nodata_raster(root)
    with pytest.raises(RegionError) as info:
        load_region(root)
    wheres = " | ".join(str(p) for p in info.value.problems)
    assert len(info.value.problems) == 4, wheres
    assert "999999" in wheres and "kWh" in wheres and "[99]" in wheres and "only nodata" in wheres


def test_geographic_raster_is_reprojected_with_a_note(tmp_path: Path) -> None:
    """A constant field in EPSG:4326 covering the zones gives the same water balance as one on the grid."""
    from pyproj import Transformer

    root = tiny().write(tmp_path / "region")
    on_grid = _water_conservation(root, tmp_path / "a")
    x0, y0 = tiny().transform @ (0, 0)
    x1, y1 = tiny().transform @ (4, 2)
    to_geo = Transformer.from_crs(ALBERS, "EPSG:4326", always_xy=True)
    (lon0, lat1), (lon1, lat0) = to_geo.transform(x0 - 500, y0 + 500), to_geo.transform(x1 + 500, y1 - 500)
    from affine import Affine

    geo = Affine((lon1 - lon0) / 40, 0, lon0, 0, -(lat1 - lat0) / 20, lat1)
    write_raster(root / "rasters" / "evapotranspiration_2019.tif", np.full((20, 40), 700, np.float32), geo,
                 "EPSG:4326", -9999.0)
    region = load_region(root)
    assert any("geographic CRS" in n and "evapotranspiration" in n for n in region.notes)
    assert _water_conservation(root, tmp_path / "b") == pytest.approx(on_grid, rel=1e-6)


def _water_conservation(root: Path, out: Path) -> float:
    from gep.accounting.run import account

    accounts = account(load_region(root), 2019)
    t = accounts.table
    return float(t[(t.level == "city") & (t.indicator == "water_conservation")]["quantity"].sum())


def test_valid_package_writes_every_output(tmp_path: Path) -> None:
    root = tiny().write(tmp_path / "region")
    code, output = run_account(root, tmp_path / "out")
    assert code == 0, output
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"accounts.parquet", "accounts.csv", "accounts.xlsx", "metadata.json", "zones.csv",
            "value_density_2019.tif"} <= names
