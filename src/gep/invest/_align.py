"""pygeoprocessing.align_and_resize_raster_stack's 'intersection' grid, and GDAL 'near' warping onto it.

The grid rule decides the output extent, so it is reproduced operation by operation (same float arithmetic):
1. bounding box = intersection of every raster's box and every vector's box;
2. its lower-left corner is moved onto the align raster's grid: n = int((bb − align_bb) / pixel) (truncation
   toward zero, per axis, y with the negative pixel height), bb = n·pixel + align_bb;
3. the size is int(|extent / pixel|), plus one unless the remainder is numpy.isclose to 0; the upper-right
   corner becomes lower-left + size·pixel — so the grid is anchored at the snapped lower-left corner;
4. gdal.Warp onto (minx, maxy) with that size, nearest neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import MaskFlags
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window

from gep.invest.errors import InvestCompatError

BBox = list[float]  # [minx, miny, maxx, maxy]
READ_CACHE_MB = 16  # GDAL block cache while reading whole rasters (blocks are not re-read)


@dataclass(frozen=True)
class Grid:
    """A target grid: transform, shape and CRS shared by every aligned raster."""

    transform: Affine
    width: int
    height: int
    crs: CRS | None


def raster_bbox(transform: Affine, width: int, height: int) -> BBox:
    """pygeoprocessing's raster bounding box, computed from the geotransform as it does."""
    gt = transform.to_gdal()
    xs = [gt[0], gt[0] + width * gt[1] + height * gt[2]]
    ys = [gt[3], gt[3] + width * gt[4] + height * gt[5]]
    return [min(xs), min(ys), max(xs), max(ys)]


def intersect(boxes: Sequence[Sequence[float]]) -> BBox:
    """Intersection of bounding boxes; empty intersections are an error, as in pygeoprocessing."""
    out = [max(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes), min(b[3] for b in boxes)]
    if out[0] > out[2] or out[1] > out[3]:
        raise InvestCompatError(f"the input rasters and vectors do not overlap (intersection {out})")
    return out


def snap_lower_left(bbox: BBox, align_bbox: BBox, align_pixel: tuple[float, float]) -> BBox:
    """Move minx/miny onto the align raster's grid by truncating the pixel count toward zero."""
    out = list(bbox)
    for index in (0, 1):
        n_pixels = int((out[index] - align_bbox[index]) / float(align_pixel[index]))
        out[index] = n_pixels * align_pixel[index] + align_bbox[index]
    return out


def grid_for_bbox(bbox: BBox, pixel: tuple[float, float], crs: CRS | None) -> Grid:
    """pygeoprocessing.warp_raster's sizing of a bounding box, then GDAL's geotransform for it."""
    bb = list(bbox)
    x_size = int(abs(float(bb[2] - bb[0]) / pixel[0]))
    y_size = int(abs(float(bb[3] - bb[1]) / pixel[1]))
    if not np.isclose(abs(x_size * pixel[0]) - (bb[2] - bb[0]), 0.0):
        x_size += 1
    if not np.isclose(abs(y_size * pixel[1]) - (bb[3] - bb[1]), 0.0):
        y_size += 1
    x_size, y_size = max(x_size, 1), max(y_size, 1)
    bb[2] = bb[0] + abs(pixel[0] * x_size)
    bb[3] = bb[1] + abs(pixel[1] * y_size)
    xres, yres = abs(pixel[0]), abs(pixel[1])
    # gdalwarp -te/-tr: size = int((extent + res/2) / res), origin (minx, maxy)
    width = int((bb[2] - bb[0] + xres / 2.0) / xres)
    height = int((abs(bb[3] - bb[1]) + yres / 2.0) / yres)
    return Grid(Affine(xres, 0.0, bb[0], 0.0, -yres, bb[3]), width, height, crs)


def intersection_grid(rasters: Sequence[Path | str], vector_bboxes: Sequence[Sequence[float]], align_index: int,
                      labels: Sequence[str]) -> Grid:
    """The grid align_and_resize_raster_stack(..., 'intersection', raster_align_index=align_index) produces,
    with the align raster's pixel size as target pixel size (what AWY passes)."""
    boxes: list[BBox] = [list(b) for b in vector_bboxes]
    crs_set: dict[str, CRS | None] = {}
    infos = []
    for path, label in zip(rasters, labels, strict=True):
        try:
            with rasterio.open(path) as src:
                infos.append((src.transform, src.width, src.height))
                crs_set[label] = src.crs
        except rasterio.errors.RasterioIOError as exc:
            raise InvestCompatError(f"{label}: cannot read raster {path}: {exc}") from exc
    align_crs = crs_set[labels[align_index]]
    other = [lbl for lbl, crs in crs_set.items() if crs != align_crs]
    if other:
        raise InvestCompatError(
            f"unsupported: raster(s) {', '.join(other)} are not in the CRS of {labels[align_index]}; "
            "reproject them first (this mode does not warp between projections)")
    for transform, width, height in infos:
        if transform.b != 0 or transform.d != 0:
            raise InvestCompatError("unsupported: rotated rasters")
        boxes.append(raster_bbox(transform, width, height))
    bbox = intersect(boxes)
    a_transform, a_width, a_height = infos[align_index]
    align_pixel = (a_transform.a, a_transform.e)
    bbox = snap_lower_left(bbox, raster_bbox(a_transform, a_width, a_height), align_pixel)
    return grid_for_bbox(bbox, align_pixel, align_crs)


def warp_to_grid(path: Path | str, grid: Grid) -> tuple[np.ndarray, float | None]:
    """Nearest-neighbour warp of band 1 onto grid with GDAL's warper (as gdal.Warp 'near' does).

    Pixels outside the source get its nodata, or 0 when it has none (GDAL's default initialisation).
    """
    with rasterio.open(path) as src:
        nodata = src.nodata
        out = np.full((grid.height, grid.width), 0 if nodata is None else nodata, dtype=src.dtypes[0])
        reproject(source=rasterio.band(src, 1), destination=out, src_transform=src.transform, src_crs=src.crs,
                  src_nodata=nodata, dst_transform=grid.transform, dst_crs=grid.crs or src.crs, dst_nodata=nodata,
                  resampling=Resampling.nearest)
    return out, nodata


def _whole_pixel_offset(src: rasterio.DatasetReader, grid: Grid) -> tuple[int, int] | None:
    """(col, row) of the grid's origin in the source's pixels when the grid is the source's own lattice
    (same CRS, same pixel size, offset a whole number of pixels, no rotation, no mask band beyond nodata);
    None otherwise. Then nearest-neighbour warping maps every pixel centre onto exactly one source pixel."""
    s, g = src.transform, grid.transform
    if grid.crs is not None and src.crs != grid.crs:
        return None
    if s.b != 0 or s.d != 0 or g.b != 0 or g.d != 0 or s.a != g.a or s.e != g.e:
        return None
    if any(flag not in (MaskFlags.all_valid, MaskFlags.nodata) for flag in src.mask_flag_enums[0]):
        return None  # a mask or alpha band: GDAL's warper would honour it
    col, row = (g.c - s.c) / s.a, (g.f - s.f) / s.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    return round(col), round(row)


def _gdal_nodata_equal(data: np.ndarray, nodata: float) -> np.ndarray:
    """GDAL's warper nodata test for float pixels (ARE_REAL_EQUAL, 2 float ULPs, or both NaN)."""
    if np.isnan(nodata):
        return np.isnan(data)
    nd = data.dtype.type(nodata)
    eps = np.finfo(np.float32).eps  # GDAL uses float's epsilon for every float type
    with np.errstate(all="ignore"):  # inf and NaN pixels compare False, as in GDAL
        return (data == nd) | (np.abs(data - nd) < eps * np.abs(data + nd) * 2)


def read_to_grid(path: Path | str, grid: Grid) -> tuple[np.ndarray, float | None]:
    """warp_to_grid's result, by a windowed read when the grid lies on the raster's own pixel lattice.

    Why: a nearest-neighbour warp between identical lattices is a copy, and reading the window directly
    skips GDAL's warper (the costliest step of aligning already-aligned inputs). Same values: pixels outside
    the source get nodata (0 without nodata), and float pixels GDAL's warper counts as nodata (within two
    float ULPs of it) become exactly nodata, as the warper leaves them at the initialised nodata.
    """
    with rasterio.open(path) as src:
        offset = _whole_pixel_offset(src, grid)
        if offset is None:
            return warp_to_grid(path, grid)
        nodata = src.nodata
        col, row = offset
        c0, r0 = max(col, 0), max(row, 0)
        c1, r1 = min(col + grid.width, src.width), min(row + grid.height, src.height)
        inside = c0 == col and r0 == row and c1 == col + grid.width and r1 == row + grid.height
        if inside:
            out = np.empty((grid.height, grid.width), dtype=src.dtypes[0])
            src.read(1, window=Window(col, row, grid.width, grid.height), out=out)
        else:
            out = np.full((grid.height, grid.width), 0 if nodata is None else nodata, dtype=src.dtypes[0])
            if c0 < c1 and r0 < r1:
                out[r0 - row:r1 - row, c0 - col:c1 - col] = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0))
    if nodata is not None and np.issubdtype(out.dtype, np.floating):
        _snap_to_nodata(out, nodata)
    return out, nodata


def _snap_to_nodata(out: np.ndarray, nodata: float) -> None:
    """Set pixels GDAL's warper treats as nodata to exactly nodata, in row blocks to bound temporaries."""
    if np.isnan(nodata):
        return  # NaN pixels are already NaN
    from gep.invest._fast import snap_to_gdal_nodata  # numba, imported when first needed

    if snap_to_gdal_nodata(out, nodata):
        return
    step = max(1, (1 << 20) // max(out.shape[1], 1))
    for r in range(0, out.shape[0], step):
        block = out[r:r + step]
        block[_gdal_nodata_equal(block, nodata)] = nodata


def read_stack_to_grid(paths: Sequence[Path | str], grid: Grid) -> list[tuple[np.ndarray, float | None]]:
    """read_to_grid for several rasters at once, in threads (GDAL decodes without the GIL), with a small
    GDAL block cache: each block is read once, so caching it would only double the memory."""
    with rasterio.Env(GDAL_CACHEMAX=READ_CACHE_MB), ThreadPoolExecutor(max(1, min(len(paths), 8))) as pool:
        return list(pool.map(lambda p: read_to_grid(p, grid), paths))
