"""`gep region new`: a package started from a county's own zones (Gauss–Krüger, EPSG:4547) and rasters (UTM 50N,
EPSG:32650), with an equal-area CRS centred on the zones, that validates and accounts."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from pyproj import CRS
from shapely.geometry import box
from typer.testing import CliRunner

from gep.accounting.grid import is_equal_area
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.accounting.scaffold import guess_layer
from gep.cli import app

LON, LAT = 114.40, 30.50  # a county near Wuhan: GK zone of central meridian 114°E, UTM zone 50 (117°E)


def county_files(tmp: Path) -> tuple[Path, Path, Path]:
    """Two villages in EPSG:4547 with the county's own column names; three rasters in EPSG:32650."""
    cells = [box(LON - 0.02, LAT - 0.02, LON, LAT + 0.02), box(LON, LAT - 0.02, LON + 0.02, LAT + 0.02)]
    zones = gpd.GeoDataFrame({"SHI_DM": ["420100", "420100"], "SHI_MC": ["某市", "某市"],
                              "XIAN_DM": ["420115", "420115"], "XIAN_MC": ["某县", "某县"],
                              "XZ_DM": ["420115001", "420115001"], "XZ_MC": ["某镇", "某镇"],
                              "CUN_DM": ["420115001001", "420115001002"], "CUN_MC": ["东村", "西村"]},
                             geometry=cells, crs=4326).to_crs(4547)
    zones_path = tmp / "县界.gpkg"
    zones.to_file(zones_path)
    utm = CRS.from_epsg(32650)
    x0, y0, x1, y1 = zones.to_crs(utm).total_bounds
    res = 100.0
    left, top = np.floor(x0 / res) * res - 500, np.ceil(y1 / res) * res + 500
    w, h = int((x1 - left) / res) + 10, int((top - y0) / res) + 10
    transform = Affine(res, 0, left, 0, -res, top)
    folder = tmp / "rasters"
    folder.mkdir()
    codes = np.where(np.arange(w)[None, :] < w // 2, 1, 2) * np.ones((h, 1), dtype=np.uint8)
    for name, data, nodata in (("LULC_2020.tif", codes.astype(np.uint8), 255),
                               ("pre_2020.tif", np.full((h, w), 1300.0, np.float32), -9999.0),
                               ("aet_2020.tif", np.full((h, w), 700.0, np.float32), -9999.0),
                               ("readme.tif", np.zeros((h, w), np.float32), None)):
        with rasterio.open(folder / name, "w", driver="GTiff", width=w, height=h, count=1, dtype=data.dtype,
                           crs=utm, transform=transform, nodata=nodata) as dst:
            dst.write(data, 1)
    classes = tmp / "classes.csv"
    pd.DataFrame({"code": [1, 2], "ecosystem": ["evergreen_broadleaf_forest", "paddy"]}).to_csv(classes, index=False)
    return zones_path, folder, classes


COLUMNS = ["city_code=SHI_DM", "city_name=SHI_MC", "county_code=XIAN_DM", "county_name=XIAN_MC",
           "township_code=XZ_DM", "township_name=XZ_MC", "village_code=CUN_DM", "village_name=CUN_MC"]


def test_a_county_package_from_its_own_files_validates_and_accounts(tmp_path: Path) -> None:
    zones, rasters, classes = county_files(tmp_path)
    args = ["region", "new", str(zones), "--rasters", str(rasters), "--out", str(tmp_path / "pkg"), "--id",
            "mycounty", "--name", "某县", "--resolution", "100", "--classes", str(classes)]
    for c in COLUMNS:
        args += ["--column", c]
    result = CliRunner().invoke(app, args)
    out = " ".join(result.output.split())
    assert result.exit_code == 0, out
    assert "LULC_2020.tif -> ecosystem 2020" in out and "pre_2020.tif -> precipitation 2020" in out
    assert "not recognised readme.tif" in out and "the package is valid" in out
    region = load_region(tmp_path / "pkg")
    crs = region.grid.crs
    assert is_equal_area(crs)
    params = crs.to_dict()
    assert params["proj"] == "aea" and params["lon_0"] == pytest.approx(LON, abs=0.01)
    assert params["lat_1"] < LAT < params["lat_2"]  # the standard parallels straddle the zones, symmetrically
    assert (params["lat_1"] + params["lat_2"]) / 2 == pytest.approx(LAT, abs=0.01)
    assert params["lat_0"] == pytest.approx(LAT, abs=0.01)
    assert region.years == (2020,) and region.zones.levels == ("city", "county", "township", "village")
    table = account(region, 2020).table
    village = table[(table["level"] == "village") & (table["indicator"] == "water_conservation")]
    assert set(village["zone_code"]) == {"420115001001", "420115001002"} and (village["quantity"] > 0).all()


def test_without_classes_the_codes_are_listed_to_map(tmp_path: Path) -> None:
    zones, rasters, _ = county_files(tmp_path)
    args = ["region", "new", str(zones), "--rasters", str(rasters), "--out", str(tmp_path / "pkg"), "--id", "c",
            "--name", "县", "--resolution", "100"]
    for c in COLUMNS:
        args += ["--column", c]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "still to do" in result.output and "ecosystem_classes.csv, row 2" in " ".join(result.output.split())
    assert list(pd.read_csv(tmp_path / "pkg" / "ecosystem_classes.csv")["code"]) == [1, 2]


def test_unmapped_columns_are_named(tmp_path: Path) -> None:
    zones, rasters, _ = county_files(tmp_path)
    result = CliRunner().invoke(app, ["region", "new", str(zones), "--rasters", str(rasters), "--out",
                                      str(tmp_path / "pkg"), "--id", "c", "--name", "县"])
    assert result.exit_code == 2 and "--column city_code=SHI_DM" in " ".join(result.output.split())
    assert not (tmp_path / "pkg").exists()


@pytest.mark.parametrize(("name", "layer", "year"), [("LULC_2020.tif", "ecosystem", 2020),
                                                     ("dem_srtm30.tif", "dem", None),
                                                     ("et0_2019.tif", "reference_et", 2019),
                                                     ("丽水_降水_2021.tif", "precipitation", 2021),
                                                     ("storm_precipitation_2019.tif", "storm_precipitation", 2019),
                                                     ("notes.tif", None, None)])
def test_layer_names_are_guessed(name: str, layer: str | None, year: int | None) -> None:
    guess = guess_layer(Path(name))
    assert (guess.layer, guess.year) == (layer, year) if guess else layer is None
