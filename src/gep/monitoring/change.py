"""Land-cover change between two years on a region's grid, in one pass over the chunks: each pixel's ecosystem group
before and after, counted per zone (the engine's zonal reduction) and summed up to the level asked for; and a map
of the pixels that changed, coloured by the group they left, warped to Web Mercator for the page's map."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
from rasterio.crs import CRS
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from gep.accounting.catalogue import ECOSYSTEM_GROUPS, ECOSYSTEMS
from gep.accounting.grid import Grid, LayerSource, categorical_layer
from gep.accounting.region import package_frame
from gep.accounting.zones import zonal_sums
from gep.errors import N_, InputError
from gep.monitoring import rules

GROUPS = list(ECOSYSTEM_GROUPS)
COLOURS = {"forest": (27, 120, 55), "shrub": (120, 160, 60), "grassland": (180, 200, 90), "wetland": (40, 110, 200),
           "cropland": (230, 170, 40), "urban": (200, 40, 40), "bare": (140, 120, 100)}


@dataclass
class Result:
    losses: list[rules.Loss]
    county_of: dict[str, str]
    changed: np.ndarray  # uint8: 0 unchanged or outside, else 1 + the index of the group the pixel left
    grid: Grid


def compare(package: str | Path, before: Path, after: Path, level: str) -> Result:
    frame = package_frame(package)
    zones, grid = frame.zones, frame.grid
    if level not in zones.levels:
        raise InputError(N_("unknown level {value}; expected one of {expected}"), value=level,
                         expected=", ".join(zones.levels))
    g = len(GROUPS)
    top = max(frame.ecosystem_codes) if frame.ecosystem_codes else 0
    lut = np.full(max(top, 255) + 1, g, dtype=np.int16)
    for code, eco in frame.ecosystem_codes.items():
        lut[code] = GROUPS.index(ECOSYSTEMS[eco].group)
    a = categorical_layer(LayerSource(before, 1, True), grid, lut, g).astype(np.int32)
    b = categorical_layer(LayerSource(after, 1, True), grid, lut, g).astype(np.int32)
    index = zones.rasterize(grid)
    joint = a * (g + 1) + b
    n = len(zones.frame)
    _sums, counts = zonal_sums(index, {}, n, classes=joint, n_classes=(g + 1) ** 2)
    keys = zones.frame[f"{level}_code"].to_numpy()
    codes = list(dict.fromkeys(keys.tolist()))
    cube = np.zeros((len(codes), g + 1, g + 1))
    position = {c: i for i, c in enumerate(codes)}
    for i in range(n):
        cube[position[keys[i]]] += counts[i].reshape(g + 1, g + 1)
    pixel_ha = grid.pixel_area_m2 / 1e4
    found = rules.losses(cube, codes, GROUPS, pixel_ha)
    county_of = ({str(k): str(c) for k, c in zip(zones.frame[f"{level}_code"], zones.frame["county_code"],
                                                  strict=True)} if "county" in zones.levels else {})
    changed = da.where((a != b) & (a < g) & (index > 0), a + 1, 0).astype(np.uint8)
    return Result(found, county_of, np.asarray(changed.compute(scheduler="threads")), grid)


def write_map(result: Result, target: Path) -> list[list[float]]:
    """A transparent PNG of the changed pixels in Web Mercator, and its bounds [[south, west], [north, east]]."""
    import matplotlib.image

    grid = result.grid
    dst_crs = CRS.from_epsg(3857)
    src_crs = CRS.from_user_input(grid.crs.to_wkt())
    h, w = result.changed.shape
    transform, width, height = calculate_default_transform(src_crs, dst_crs, w, h, *grid.bounds)
    out = np.zeros((height, width), dtype=np.uint8)
    reproject(result.changed, out, src_transform=grid.transform, src_crs=src_crs, dst_transform=transform,
              dst_crs=dst_crs, resampling=Resampling.nearest, src_nodata=0, dst_nodata=0)
    palette = np.zeros((len(GROUPS) + 1, 4), dtype=np.uint8)
    for i, group in enumerate(GROUPS, start=1):
        palette[i] = (*COLOURS[group], 255)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp.png")
    matplotlib.image.imsave(tmp, palette[out])
    tmp.replace(target)
    left, bottom = transform @ (0, height)
    right, top = transform @ (width, 0)
    west, south, east, north = transform_bounds(dst_crs, CRS.from_epsg(4326), left, bottom, right, top)
    return [[south, west], [north, east]]

