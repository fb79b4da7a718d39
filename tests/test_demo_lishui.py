"""The built-in Lishui demo region package: real zones where they exist, synthetic inputs that hit targets."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.features import geometry_mask

from gep.accounting.catalogue import ECOSYSTEMS, LAYERS, convert_factor, item_spec, layer_unit_ok
from gep.demo import build_lishui_region
from gep.demo.lishui import DATA_DIR, REGION_CRS

RESOLUTION = 500.0
YEAR = 2019

# Target shares of the city's area, in percent, by level-I group or ecosystem id.
TARGETS = {
    "forest": 81.0, "shrub": 4.0, "grassland": 1.0, "paddy": 4.5, "dry_farmland": 1.5, "shrub_orchard": 2.0,
    "tree_orchard": 1.0, "urban": 2.5, "water": 2.0, "marsh": 0.2, "bare": 0.3,
}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lishui_region(tmp_path_factory.mktemp("lishui") / "pkg", resolution=RESOLUTION)


@pytest.fixture(scope="module")
def zones(package: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(package / "zones.gpkg", layer="villages")


@pytest.fixture(scope="module")
def manifest(package: Path) -> dict:
    with (package / "region.toml").open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def statistics(package: Path) -> pd.DataFrame:
    return pd.read_csv(package / "statistics" / "statistics.csv", dtype={"zone_code": str, "synthetic": str})


def _city_values(package: Path, zones: gpd.GeoDataFrame, name: str) -> np.ndarray:
    """Pixel values whose centre lies inside the zones (the engine's pixel-centre rule)."""
    with rasterio.open(package / "rasters" / name) as src:
        data = src.read(1)
        city = zones.union_all()
        inside = geometry_mask([city], out_shape=data.shape, transform=src.transform, invert=True)
    return data[inside]


def test_townships_are_the_real_173(zones: gpd.GeoDataFrame) -> None:
    real = pd.read_csv(DATA_DIR / "lishui_townships_2022.csv", dtype=str)
    townships = zones.drop_duplicates("township_code")
    assert townships["township_code"].nunique() == 173
    assert set(townships["township_code"]) == set(real["code"])
    assert townships.groupby("county_code").size().to_dict() == real.groupby("county_adcode").size().to_dict()
    names = dict(zip(real["code"], real["name"], strict=True))
    pairs = zip(townships["township_code"], townships["township_name"], strict=True)
    assert all(names[code] == name for code, name in pairs)


def test_townships_tile_their_county(zones: gpd.GeoDataFrame) -> None:
    counties = gpd.read_file(DATA_DIR / "lishui_counties.geojson").to_crs(REGION_CRS)
    counties["county_code"] = counties["adcode"].astype(int).astype(str)
    township_shapes = zones.dissolve("township_code")
    assert (township_shapes.area > 1e6).all()
    for county in counties.itertuples():
        parts = township_shapes[township_shapes["county_code"] == county.county_code]
        union = parts.union_all()
        assert abs(union.area - county.geometry.area) / county.geometry.area < 1e-3
        assert union.symmetric_difference(county.geometry).area / county.geometry.area < 1e-3
        assert abs(parts.area.sum() - union.area) / union.area < 1e-3  # no overlaps


def test_villages_codes(zones: gpd.GeoDataFrame) -> None:
    codes = zones["village_code"]
    assert codes.is_unique
    assert codes.str.fullmatch(r"\d{12}").all()
    assert (codes.str[:9] == zones["township_code"]).all()
    assert 1200 <= len(zones) <= 2500
    per_township = zones.groupby("township_code").size()
    assert per_township.between(6, 14).all()
    assert (zones["city_code"] == "331100").all()
    assert zones["synthetic_geometry"].astype(bool).all()
    assert not zones.geometry.is_empty.any()


def test_manifest_lists_every_layer_file(package: Path, manifest: dict) -> None:
    region = manifest["region"]
    assert region["id"] == "lishui" and region["years"] == [YEAR, 2020, 2021] and region["method"] == "zhejiang-2020"
    assert region["resolution"] == RESOLUTION
    assert (package / manifest["zones"]["file"]).exists()
    assert (package / manifest["ecosystem_classes"]["file"]).exists()
    listed = set()
    for name, block in manifest["layers"].items():
        assert name in LAYERS
        assert layer_unit_ok(name, block["unit"])
        assert isinstance(block["source"], str) and block["source"]
        assert isinstance(block["synthetic"], bool)
        assert ("{year}" in block["file"]) == LAYERS[name].per_year
        for year in region["years"]:
            path = block["file"].replace("{year}", str(year))
            assert (package / path).exists(), path
            listed.add(path)
    on_disk = {f"rasters/{p.name}" for p in (package / "rasters").iterdir()}
    assert on_disk == listed
    assert manifest["layers"]["dem"]["synthetic"] is False
    for path in manifest["statistics"]["files"]:
        assert (package / path).exists()


def test_rasters_on_the_snapped_grid(package: Path, zones: gpd.GeoDataFrame) -> None:
    minx, miny, maxx, maxy = zones.total_bounds
    xmin = math.floor(minx / RESOLUTION) * RESOLUTION
    ymax = math.ceil(maxy / RESOLUTION) * RESOLUTION
    width = math.ceil((maxx - xmin) / RESOLUTION - 1e-9)
    height = math.ceil((ymax - miny) / RESOLUTION - 1e-9)
    for path in (package / "rasters").glob("*.tif"):
        with rasterio.open(path) as src:
            if path.name == "dem.tif":
                assert src.crs.to_epsg() == 4326
                continue
            assert (src.width, src.height) == (width, height)
            assert src.transform.c == xmin and src.transform.f == ymax and src.res == (RESOLUTION, RESOLUTION)
            assert src.nodata is not None


def test_dem_is_the_real_file_unchanged(package: Path) -> None:
    real = (DATA_DIR / "lishui_dem_srtm3_agg900m.tif").read_bytes()
    assert (package / "rasters" / "dem.tif").read_bytes() == real


def test_ecosystem_shares(package: Path, zones: gpd.GeoDataFrame) -> None:
    classes = pd.read_csv(package / "ecosystem_classes.csv")
    assert set(classes["ecosystem"]) <= set(ECOSYSTEMS)
    values = _city_values(package, zones, "ecosystem.tif")
    assert set(np.unique(values)) <= set(classes["code"])
    by_code = dict(zip(classes["code"], classes["ecosystem"], strict=True))

    def bucket(eco_id: str) -> str:
        group = ECOSYSTEMS[eco_id].group
        if eco_id in ("lake", "reservoir", "river"):
            return "water"
        return eco_id if group in ("cropland", "wetland") else group

    shares: dict[str, float] = {}
    codes, counts = np.unique(values, return_counts=True)
    for code, count in zip(codes, counts, strict=True):
        key = bucket(by_code[int(code)])
        shares[key] = shares.get(key, 0.0) + 100.0 * count / values.size
    for key, target in TARGETS.items():
        assert abs(shares.get(key, 0.0) - target) <= 1.0, (key, shares.get(key), target)


def test_precipitation_and_et_means(package: Path, zones: gpd.GeoDataFrame) -> None:
    precipitation = _city_values(package, zones, f"precipitation_{YEAR}.tif").astype(float)
    assert (precipitation > 0).all()
    assert abs(precipitation.mean() - 1992.9) < 1.0
    et = _city_values(package, zones, f"evapotranspiration_{YEAR}.tif").astype(float)
    assert abs(et.mean() - (345.3526 - 234.1881) * 1e8 / 17298e6 * 1000) < 1.0
    storm = _city_values(package, zones, f"storm_precipitation_{YEAR}.tif").astype(float)
    assert 0.15 < storm.mean() / precipitation.mean() < 0.21
    cover = _city_values(package, zones, f"vegetation_cover_{YEAR}.tif")
    assert cover.min() >= 0 and cover.max() <= 1


def test_statistics_are_valid(statistics: pd.DataFrame, zones: gpd.GeoDataFrame) -> None:
    assert list(statistics.columns) == ["zone_code", "year", "item", "value", "unit", "source", "synthetic"]
    known_zones = set(zones["county_code"]) | set(zones["township_code"]) | {"331100"}
    assert set(statistics["zone_code"]) <= known_zones
    assert set(statistics["year"]) == {YEAR, 2020, 2021}
    # the following years are the year before's rows with a seeded change, wholly synthetic
    for year in (2020, 2021):
        rows = statistics[statistics["year"] == year]
        assert len(rows) == (statistics["year"] == YEAR).sum() and (rows["synthetic"] == "true").all()
    assert (statistics["value"] >= 0).all()
    for row in statistics.itertuples():
        spec = item_spec(row.item)
        assert spec is not None, row.item
        convert_factor(row.unit, spec.unit)
    estimates = statistics[statistics["synthetic"] == "true"]
    assert estimates["source"].str.startswith("estimate for the demo, not a published figure").all()
    assert not statistics["item"].isin(["gdp", "population"]).any()


def test_real_water_supply_rows(statistics: pd.DataFrame) -> None:
    real = statistics[statistics["synthetic"] == "false"]
    shares = {
        "water_supply.domestic": 0.133,
        "water_supply.industrial": 0.135,
        "water_supply.agricultural": 0.608,
    }
    assert set(real["item"]) == set(shares)
    for row in real.itertuples():
        assert row.zone_code == "331100"
        m3 = row.value * convert_factor(row.unit, "m3")
        assert m3 == pytest.approx(6.4049e8 * shares[row.item], rel=1e-9)
        assert "derived: total × share" in row.source and "http" in row.source


def test_township_figures_below_county_total(statistics: pd.DataFrame) -> None:
    agri = statistics[statistics["item"] == "agriculture.output_value"]
    townships = agri[agri["zone_code"].str.len() == 9]
    assert len(townships) >= 2
    for county, rows in townships.groupby(townships["zone_code"].str[:6]):
        county_total = agri.loc[agri["zone_code"] == county, "value"].sum()
        assert 0 < rows["value"].sum() < county_total


def test_build_is_deterministic(package: Path, zones: gpd.GeoDataFrame, tmp_path: Path) -> None:
    again = build_lishui_region(tmp_path / "again", resolution=RESOLUTION)
    zones_again = gpd.read_file(again / "zones.gpkg", layer="villages")
    pd.testing.assert_frame_equal(zones.drop(columns="geometry"), zones_again.drop(columns="geometry"))
    assert zones.geometry.geom_equals_exact(zones_again.geometry, tolerance=0).all()
    for path in sorted((package / "rasters").glob("*.tif")):
        assert path.read_bytes() == (again / "rasters" / path.name).read_bytes(), path.name
    for name in ("region.toml", "ecosystem_classes.csv", "statistics/statistics.csv"):
        assert (package / name).read_bytes() == (again / name).read_bytes()


def test_refuses_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(FileExistsError):
        build_lishui_region(tmp_path)
