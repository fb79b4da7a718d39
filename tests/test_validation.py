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


def edit_zones(change: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        frame = change(gpd.read_file(root / "zones.gpkg"))
        (root / "zones.gpkg").unlink()
        frame.to_file(root / "zones.gpkg", layer="villages")
    return edit


def bow_tie(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from shapely.geometry import Polygon

    x0, y0, x1, y1 = frame.geometry.iloc[0].bounds
    frame.loc[0, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # self-intersecting
    return frame


def as_point(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame.loc[1, "geometry"] = frame.geometry.iloc[1].centroid
    return frame


def no_features(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.iloc[0:0]


def truncated_raster(root: Path) -> None:
    path = root / "rasters" / "evapotranspiration_2019.tif"
    write_raster(path, np.full((64, 64), 700, np.float32), tiny().transform, ALBERS, -9999.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def layer(values: dict[str, np.ndarray]) -> dict[str, object]:
    return {"layers": {**LAYERS, **values}}


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
    # impossible values: named by file, band, count and range before anything is computed
    "infinite evapotranspiration": (layer({"evapotranspiration": np.array([[700, np.inf, 700, 700],
                                                                          [700, 700, -np.inf, 700]])}), None,
                                    ["evapotranspiration_2019.tif, band 1", "2 of 8 sampled pixels",
                                     "not finite or outside its range 0–5000 mm"]),
    "precipitation of 1e30 mm": (layer({"precipitation": np.full((2, 4), 1e30)}), None,
                                 ["precipitation_2019.tif, band 1", "8 of 8", "0–10000 mm", "max 1e+30"]),
    "negative NPP": (layer({"npp": np.array([[500.0, -20, 400, 0], [0, 80, 300, 0]])}), None,
                     ["npp_2019.tif, band 1", "1 of 8", "0–5000 gC/m2", "min -20"]),
    "vegetation cover in percent": (layer({"vegetation_cover": np.full((2, 4), 85.0)}), None,
                                    ["vegetation_cover_2019.tif, band 1", "looks like percent", "up to 85",
                                     "divide by 100"]),
    "truncated GeoTIFF": ({}, truncated_raster, ["rasters/evapotranspiration_2019.tif"]),
    # zones
    "self-intersecting zone": ({}, edit_zones(bow_tie), ["zones.gpkg, row 1", "geometry is not valid",
                                                        "Self-intersection"]),
    "point zone": ({}, edit_zones(as_point), ["zones.gpkg, row 2", "geometry is a Point"]),
    "zones file with no features": ({}, edit_zones(no_features), ["zones.gpkg", "has no features"]),
    "overlapping zones": ({"villages": [Village("100101001001", (0, 2), (0, 3)),
                                        Village("100101001002", (0, 2), (1, 4))]}, None,
                          ["zones.gpkg, row 1", "zone 100101001001 overlaps zone 100101001002 (row 2)",
                           "0.0400 km²", "66.7%"]),
    "township code equal to its county's": ({"villages": [Village("100101001", (0, 2), (0, 4),
                                                                  township="100101", county="100101")]}, None,
                                            ["zones.gpkg", "code '100101' is used at two levels"]),
    # the manifest
    "misspelt key in region.toml": ({}, edit_toml("resolution = ", "resolutoin = 100.0\nresolution = "),
                                    ["region.toml [region]", "unknown key 'resolutoin'",
                                     "did you mean 'resolution'?"]),
    "misspelt layer key": ({}, edit_toml('unit = "mm"', 'unit = "mm"\nsoruce = "x"'),
                           ["[layers.precipitation]", "unknown key 'soruce'", "did you mean 'source'?"]),
    "resolution missing": ({}, edit_toml("resolution = ", "# resolution = "),
                           ["resolution", "must be a positive number of metres, got None"]),
    "resolution not a number": ({}, edit_toml("resolution = 100.0", 'resolution = "100 m"'),
                                ["resolution", "got '100 m'"]),
    "negative resolution": ({}, edit_toml("resolution = 100.0", "resolution = -30"), ["resolution", "got -30"]),
    "chunk_size 0": ({}, edit_toml("chunk_size = 2", "chunk_size = 0"),
                     ["chunk_size", "whole number of pixels from 1 to 65536, got 0"]),
    "years not a list": ({}, edit_toml("years = [2019]", "years = 2019"),
                         ["years", "must be a list of years", "got 2019"]),
    # parameters and statistics, named where they are
    "misspelt parameter override": ({"extra_toml": '[parameters."hydropower.prices"]\nvalue = 0.5\n'
                                                   'unit = "yuan/kWh"\nyear = 2019\nsource = "t"\n'}, None,
                                    ["region.toml [parameters.hydropower.prices]", "no such parameter",
                                     "did you mean 'hydropower.price'?"]),
    "children exceed their parent": ({"statistics": [
        OK_STAT, {**OK_STAT, "zone_code": "100101001001", "value": 400},
        {**OK_STAT, "zone_code": "100101001002", "value": 300}]}, None,
        ["statistics.csv, row 2", "exceed the figure of 100101"]),
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


def test_overrides_statistics_and_values_in_one_report(tmp_path: Path) -> None:
    """A wrong override, an inconsistent statistic, an impossible raster and a typo come in one report."""
    extra = '[parameters."hydropower.price"]\nvalue = 0.5\nunit = "yuan/t"\nyear = 2019\nsource = "t"\n'
    stats = [OK_STAT, {**OK_STAT, "zone_code": "100101001", "value": 600}]
    root = tiny(statistics=stats, extra_toml=extra,
                layers={**LAYERS, "precipitation": np.full((2, 4), -1.0)}).write(tmp_path)
    edit_toml("chunk_size = 2", "chunk_size = 2\nmethd = 'x'")(root)
    with pytest.raises(RegionError) as info:
        load_region(root)
    text = " | ".join(str(p) for p in info.value.problems)
    assert len(info.value.problems) == 4, text
    for fragment in ("hydropower.price", "'yuan/t'", "statistics.csv, row 2", "exceed", "precipitation_2019.tif",
                     "unknown key 'methd'"):
        assert fragment in text, text


def test_a_bad_pixel_the_sample_missed_stops_the_pass(tmp_path: Path) -> None:
    """A value outside the range in a pixel the thin sample did not see stops the run in the pass over the
    chunks, naming the layer, the count and the pixel window; nothing is written."""
    from gep.accounting.grid import PixelValueError
    from gep.accounting.run import account

    root = tiny().write(tmp_path / "region")
    region = load_region(root)
    bad = np.full((2, 4), 700.0, np.float32)
    bad[1, 3] = 9e9
    write_raster(root / "rasters" / "evapotranspiration_2019.tif", bad, tiny().transform, ALBERS, -9999.0)
    with pytest.raises(PixelValueError) as info:
        account(region, 2019)
    text = str(info.value)
    assert "evapotranspiration (rasters/evapotranspiration_2019.tif)" in text
    assert "1 pixels are not finite or outside 0–5000" in text and "rows 0–1, columns 2–3" in text
    assert "9e+09" in text


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


def test_shapefile_zones_with_cut_column_names_load(tmp_path: Path) -> None:
    """A Shapefile cannot hold township_code (13 characters): its DBF keeps township_c, which is read back."""
    root = tiny().write(tmp_path / "region")
    frame = gpd.read_file(root / "zones.gpkg")
    frame.to_file(root / "zones.shp")  # pyogrio cuts the names and warns
    names = set(gpd.read_file(root / "zones.shp").columns)
    assert "township_c" in names and "township_code" not in names
    edit_toml('file = "zones.gpkg"\nlayer = "villages"', 'file = "zones.shp"')(root)
    region = load_region(root)
    assert region.zones.levels == ("city", "county", "township", "village")
    assert list(region.zones.frame["village_code"]) == list(frame["village_code"])


@pytest.mark.parametrize("edit", [("[zones]", "zones = 3\n[zones_]"),
                                  ("[statistics]", "statistics = 'x'\n[statistics_]"),
                                  ("[layers.ecosystem]", "layers = 1\n[layers_.ecosystem]")],
                         ids=["zones", "statistics", "layers"])
def test_a_table_that_is_not_a_table_is_named_not_a_traceback(edit: tuple[str, str], tmp_path: Path) -> None:
    root = tiny().write(tmp_path / "region")
    edit_toml(*edit)(root)
    with pytest.raises(RegionError) as info:
        load_region(root)
    assert info.value.problems
