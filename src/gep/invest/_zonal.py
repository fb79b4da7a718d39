"""pygeoprocessing.zonal_statistics as AWY uses it: (count, sum) of valid pixels per polygon.

A pixel belongs to a polygon when its centre is inside (GDAL rasterize, not all-touched); each polygon is
rasterized on its own, so overlapping polygons each get their pixels. A polygon that covers no pixel centre
falls back to every pixel its bounding box touches, as pygeoprocessing does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rasterio.features import rasterize
from shapely.geometry.base import BaseGeometry

from gep.invest._align import Grid
from gep.invest._fast import masked_sum
from gep.invest._raster import equals_nodata


@dataclass(frozen=True)
class ZoneMask:
    """The pixels of one polygon: a window of the grid and a boolean mask inside it."""

    rows: slice
    cols: slice
    mask: np.ndarray


@dataclass(frozen=True)
class ZoneStat:
    """Valid-pixel count and sum in one polygon (nodata pixels left out)."""

    count: int
    total: float

    @property
    def mean(self) -> float | None:
        """InVEST's mean: sum / count, undefined (empty field) without valid pixels."""
        return self.total / self.count if self.count > 0 else None


def _window(geom: BaseGeometry, grid: Grid) -> tuple[slice, slice] | None:
    """Grid rows/cols that can hold the polygon's pixel centres (its bounds, rounded outward, clipped)."""
    minx, miny, maxx, maxy = geom.bounds
    inverse = ~grid.transform
    cols = sorted((inverse @ (x, y))[0] for x in (minx, maxx) for y in (miny, maxy))
    rows = sorted((inverse @ (x, y))[1] for x in (minx, maxx) for y in (miny, maxy))
    c0, c1 = max(math.floor(cols[0]) - 1, 0), min(math.ceil(cols[-1]) + 1, grid.width)
    r0, r1 = max(math.floor(rows[0]) - 1, 0), min(math.ceil(rows[-1]) + 1, grid.height)
    if c0 >= c1 or r0 >= r1:
        return None
    return slice(r0, r1), slice(c0, c1)


def zone_masks(geoms: Sequence[BaseGeometry | None], grid: Grid) -> list[ZoneMask | None]:
    """Pixel-centre membership per polygon (rasterized in its own window); None if it covers no pixel."""
    masks: list[ZoneMask | None] = []
    for geom in geoms:
        window = None if geom is None or geom.is_empty else _window(geom, grid)
        if geom is None or window is None:
            masks.append(None)
            continue
        rows, cols = window
        transform = grid.transform @ grid.transform.translation(cols.start, rows.start)
        burned = rasterize([(geom, 1)], out_shape=(rows.stop - rows.start, cols.stop - cols.start),
                           transform=transform, fill=0, all_touched=False, dtype="uint8")
        mask = burned.astype(bool)
        masks.append(ZoneMask(rows, cols, mask) if mask.any() else _bbox_fallback(geom, grid))
    return masks


def _bbox_fallback(geom: BaseGeometry, grid: Grid) -> ZoneMask | None:
    """pygeoprocessing's second pass: the window of pixels the polygon's bounding box spans."""
    x0, px, y0, py = grid.transform.c, grid.transform.a, grid.transform.f, grid.transform.e
    minx, miny, maxx, maxy = geom.bounds
    # with a negative pixel height pygeoprocessing swaps the y bounds before computing offsets
    xoff = int((minx - x0) / px)
    yoff = int((maxy - y0) / py)
    win_x = math.ceil((maxx - x0) / px) - xoff
    win_y = math.ceil((miny - y0) / py) - yoff
    if xoff < 0:
        win_x += xoff
        xoff = 0
    if yoff < 0:
        win_y += yoff
        yoff = 0
    win_x = min(win_x, grid.width - xoff)
    win_y = min(win_y, grid.height - yoff)
    if win_x <= 0 or win_y <= 0:
        return None
    return ZoneMask(slice(yoff, yoff + win_y), slice(xoff, xoff + win_x), np.ones((win_y, win_x), dtype=bool))


def zonal_stats(values: np.ndarray, nodata: float | None, masks: Sequence[ZoneMask | None]) -> list[ZoneStat]:
    """Count and sum (float64) of the non-nodata pixels under each mask.

    float32 layers take a compiled masked sum, one pass per zone and no full-raster temporaries; other dtypes
    the numpy path.
    """
    out = []
    for zone in masks:
        if zone is None:
            out.append(ZoneStat(0, 0.0))
            continue
        summed = masked_sum(values[zone.rows, zone.cols], zone.mask, nodata)
        if summed is None:
            return _zonal_stats_numpy(values, nodata, masks)
        out.append(ZoneStat(*summed))
    return out


def _zonal_stats_numpy(values: np.ndarray, nodata: float | None,
                       masks: Sequence[ZoneMask | None]) -> list[ZoneStat]:
    valid = ~equals_nodata(values, nodata)
    out = []
    for zone in masks:
        if zone is None:
            out.append(ZoneStat(0, 0.0))
            continue
        picked = values[zone.rows, zone.cols][zone.mask & valid[zone.rows, zone.cols]]
        out.append(ZoneStat(int(picked.size), float(np.sum(picked, dtype=np.float64))))
    return out
