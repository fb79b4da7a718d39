"""The ecological value of any parcel or drawn polygon (VEP, 特定地域单元生态产品价值), from stored accounts.

Per-pixel services (climate regulation, carbon, water conservation …) are read from the accounts' value-density
raster — the same pixels, by the same pixel-centre rule, that the accounts summed — per category (bands 2–4).
Services accounted from statistics (output values, tourism …) exist per zone, not per pixel: a polygon takes
the share of each lowest-level zone's value that its area of the zone is (the area-weighted rule). So the VEP
of a village's own outline is that village's GEP, and of the whole region its GEP. The answer names the run,
year, method and price year it comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.windows import Window, from_bounds
from shapely.geometry.base import BaseGeometry

from gep.errors import N_, NotFound

CATEGORIES = ("material", "regulating", "cultural")


@dataclass(frozen=True)
class Surface:
    """What a run's accounts folder holds for valuing polygons."""

    run_id: int
    year: int
    price_year: int
    method: str
    density: Path
    crs: Any
    zones: np.ndarray  # geometries of the lowest level
    codes: list[str]
    nonpixel: np.ndarray  # (zones, 3) yuan by category, from statistics
    tree: shapely.STRtree


@dataclass(frozen=True)
class Value:
    material: float
    regulating: float
    cultural: float
    pixel_part: float
    zone_part: float
    area_m2: float
    pixels: int
    run_id: int
    year: int
    price_year: int
    method: str

    @property
    def gep(self) -> float:
        return self.material + self.regulating + self.cultural

    def as_dict(self) -> dict[str, Any]:
        return {"gep_yuan": self.gep, "material_yuan": self.material, "regulating_yuan": self.regulating,
                "cultural_yuan": self.cultural, "from_pixels_yuan": self.pixel_part,
                "from_statistics_yuan": self.zone_part, "area_m2": self.area_m2, "pixels": self.pixels,
                "run_id": self.run_id, "year": self.year, "price_year": self.price_year, "method": self.method,
                "rule": "pixel-centre sum of the value-density raster + area-weighted share of each zone's "
                        "statistics-based value"}


def surface(run_id: int, folder: str, year: int, price_year: int, method: str) -> Surface:
    path = Path(folder)
    stamp = (path / "accounts.parquet").stat().st_mtime if (path / "accounts.parquet").exists() else 0.0
    return _surface(run_id, folder, year, price_year, method, stamp)


@lru_cache(maxsize=4)
def _surface(run_id: int, folder: str, year: int, price_year: int, method: str, _stamp: float) -> Surface:
    path = Path(folder)
    density = path / f"value_density_{year}.tif"
    if not density.exists() or not (path / "zones.gpkg").exists():
        raise NotFound(N_("the accounts of run {id} have no value-density raster or zones to value a polygon with"),
                       id=run_id)
    zones = gpd.read_file(path / "zones.gpkg")
    lowest = [c for c in zones.columns if c.endswith("_code")][-1]
    table = pd.read_parquet(path / "accounts.parquet", columns=["level", "zone_code", "category", "source_level",
                                                                 "value_yuan"])
    level = lowest.removesuffix("_code")
    stats = table[(table["level"] == level) & (table["source_level"] != "pixel")]
    by_zone = stats.pivot_table(index="zone_code", columns="category", values="value_yuan", aggfunc="sum",
                                fill_value=0.0).reindex(columns=list(CATEGORIES), fill_value=0.0)
    codes = zones[lowest].astype(str).tolist()
    nonpixel = by_zone.reindex(codes, fill_value=0.0).to_numpy(dtype=np.float64)
    with rasterio.open(density) as src:
        crs = src.crs
    geoms = zones.geometry.to_numpy()
    return Surface(run_id, year, price_year, method, density, crs, geoms, codes, nonpixel, shapely.STRtree(geoms))


def value(s: Surface, geom: BaseGeometry) -> Value:
    """The VEP of a geometry given in the accounts' CRS."""
    if geom.is_empty or geom.area == 0:
        return Value(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, s.run_id, s.year, s.price_year, s.method)
    pixel_sums, pixels = _pixels(s.density, geom)
    zone_sums = np.zeros(3)
    for i in s.tree.query(geom, predicate="intersects"):
        zone = s.zones[i]
        share = zone.intersection(geom).area / zone.area if zone.area else 0.0
        zone_sums += share * s.nonpixel[i]
    total = pixel_sums + zone_sums
    return Value(float(total[0]), float(total[1]), float(total[2]), float(pixel_sums.sum()), float(zone_sums.sum()),
                 float(geom.area), pixels, s.run_id, s.year, s.price_year, s.method)


def _pixels(path: Path, geom: BaseGeometry) -> tuple[np.ndarray, int]:
    """Σ value density × pixel area over the pixels whose centre is in the geometry, per category (yuan)."""
    with rasterio.open(path) as src:
        if src.count < 4:
            raise NotFound(N_("this run's value-density raster has no bands per category; run the accounting "
                              "again to value polygons by category"))
        full = Window(0, 0, src.width, src.height)
        window = from_bounds(*geom.bounds, transform=src.transform)
        col0, row0 = math.floor(window.col_off), math.floor(window.row_off)
        window = Window(col0, row0, math.ceil(window.col_off + window.width) - col0 + 1,
                        math.ceil(window.row_off + window.height) - row0 + 1).intersection(full)
        if window.width <= 0 or window.height <= 0:
            return np.zeros(3), 0
        transform = src.window_transform(window)
        shape = (int(window.height), int(window.width))
        mask = rasterize([(geom, 1)], out_shape=shape, transform=transform, fill=0, all_touched=False,
                         dtype="uint8").astype(bool)
        if not mask.any():
            return np.zeros(3), 0
        data = src.read([2, 3, 4], window=window, masked=False).astype(np.float64)
        pixel_ha = abs(src.transform.a * src.transform.e) / 1e4
    inside = data[:, mask]
    return np.nansum(inside, axis=1) * pixel_ha, int(mask.sum())
