"""Helpers for tests (gep's own and users'): write a tiny region package with known pixels and zones.

A region of a few pixels, each 1 ha by default, whose classes, layers and zones a test spells out, so
quantities and values can be worked out by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from shapely.geometry import box

ALBERS = "+proj=aea +lat_0=0 +lon_0=119.6 +lat_1=27.5 +lat_2=29 +datum=WGS84 +units=m +no_defs"
ORIGIN = (500_000.0, 3_100_000.0)  # x of the left edge, y of the top edge, in metres

DEFAULT_CLASSES = {
    11: "evergreen_broadleaf_forest", 12: "evergreen_needleleaf_forest", 13: "mixed_forest",
    21: "evergreen_shrub", 31: "tussock", 41: "marsh", 42: "lake", 43: "reservoir", 44: "river",
    51: "paddy", 52: "dry_farmland", 54: "shrub_orchard", 61: "urban", 71: "bare_land",
}


@dataclass
class Village:
    """One lowest-level zone: a rectangle of whole pixels (rows r0:r1, cols c0:c1) and its ancestors' codes."""

    code: str
    rows: tuple[int, int]
    cols: tuple[int, int]
    township: str = "100101001"
    county: str = "100101"
    city: str = "100100"
    name: str = ""


@dataclass
class TinyRegion:
    classes: np.ndarray
    layers: dict[str, np.ndarray] = field(default_factory=dict)
    villages: Sequence[Village] | None = None
    statistics: list[dict[str, Any]] = field(default_factory=list)
    resolution: float = 100.0
    year: int = 2019
    method: str = "zhejiang-2020"
    ecosystem_classes: dict[int, str] = field(default_factory=lambda: dict(DEFAULT_CLASSES))
    extra_toml: str = ""
    crs: str = ALBERS
    chunk_size: int = 2  # pixels: tiny chunks, so that the pass over the chunks crosses many chunk edges

    @property
    def transform(self) -> Affine:
        return Affine(self.resolution, 0, ORIGIN[0], 0, -self.resolution, ORIGIN[1])

    def write(self, root: Path) -> Path:
        """Write the package into `root` and return it."""
        root.mkdir(parents=True, exist_ok=True)
        (root / "rasters").mkdir(exist_ok=True)
        write_raster(root / "rasters" / "ecosystem.tif", self.classes.astype(np.uint8), self.transform, self.crs,
                     nodata=255)
        for name, arr in self.layers.items():
            write_raster(root / "rasters" / f"{name}_{self.year}.tif", arr.astype(np.float32), self.transform,
                         self.crs, nodata=-9999.0)
        self._zones().to_file(root / "zones.gpkg", layer="villages")
        pd.DataFrame({"code": list(self.ecosystem_classes), "ecosystem": list(self.ecosystem_classes.values())}
                     ).to_csv(root / "ecosystem_classes.csv", index=False)
        stats = pd.DataFrame(self.statistics, columns=["zone_code", "year", "item", "value", "unit", "source"])
        stats.to_csv(root / "statistics.csv", index=False)
        (root / "region.toml").write_text(self._toml(), encoding="utf-8")
        return root

    def _zones(self) -> gpd.GeoDataFrame:
        h, w = self.classes.shape
        villages = self.villages or [Village("100101001001", (0, h), (0, w // 2)),
                                     Village("100101001002", (0, h), (w // 2, w))]
        rows = []
        for v in villages:
            x0, y0 = self.transform @ (v.cols[0], v.rows[0])
            x1, y1 = self.transform @ (v.cols[1], v.rows[1])
            rows.append({"city_code": v.city, "city_name": "测试市", "county_code": v.county,
                         "county_name": f"县{v.county}", "township_code": v.township,
                         "township_name": f"乡{v.township}", "village_code": v.code,
                         "village_name": v.name or f"村{v.code}", "geometry": box(x0, y1, x1, y0)})
        return gpd.GeoDataFrame(rows, crs=self.crs)

    def _toml(self) -> str:
        layers = "".join(
            f'\n[layers.{name}]\nfile = "rasters/{name}_{{year}}.tif"\nunit = "{_UNITS[name]}"\n'
            f'source = "test"\nsynthetic = true\n' for name in self.layers)
        return (
            f'[region]\nid = "tiny"\nname = "测试市"\ncrs = "{self.crs}"\nresolution = {self.resolution}\n'
            f'years = [{self.year}]\nmethod = "{self.method}"\nchunk_size = {self.chunk_size}\n\n'
            '[zones]\nfile = "zones.gpkg"\nlayer = "villages"\nsource = "test"\nsynthetic = true\n\n'
            '[ecosystem_classes]\nfile = "ecosystem_classes.csv"\n\n'
            '[layers.ecosystem]\nfile = "rasters/ecosystem.tif"\nunit = "class"\nsource = "test"\n'
            f'synthetic = true\n{layers}\n[statistics]\nfiles = ["statistics.csv"]\n{self.extra_toml}\n'
        )


_UNITS = {"dem": "m", "precipitation": "mm", "storm_precipitation": "mm", "evapotranspiration": "mm",
          "vegetation_cover": "fraction", "npp": "gC/m2", "reference_et": "mm", "soil_depth": "mm",
          "pawc": "fraction", "rainfall_erosivity": "MJ·mm/(ha·h·a)", "soil_erodibility": "t·ha·h/(ha·MJ·mm)",
          "sand": "%", "silt": "%", "clay": "%", "organic_matter": "%"}


def write_raster(path: Path, array: np.ndarray, transform: Affine, crs: str | None, nodata: float | None) -> None:
    """A single-band GeoTIFF (crs None writes a raster without CRS, for error tests)."""
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0], count=1,
                       dtype=array.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(array, 1)


def city_rows(table: pd.DataFrame, indicator: str, sub: str | None = None) -> pd.DataFrame:
    """Rows of the accounts' top level for one indicator (and sub-indicator)."""
    rows = table[(table["level"] == "city") & (table["indicator"] == indicator)]
    return rows if sub is None else rows[rows["sub_indicator"] == sub]
