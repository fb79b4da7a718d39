"""The region's single equal-area grid, and lazy alignment of any raster onto it.

Every layer is exposed as a dask array on the grid's chunks. A chunk is read only when the graph is
computed: straight from the file when the raster is already on the grid, through a GDAL warped VRT
(nearest for classes, bilinear for continuous fields) otherwise. Nothing is warped twice or written to disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import dask.array as da
import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from gep.errors import N_, InputError


@dataclass(frozen=True)
class Grid:
    crs: CRS
    transform: Affine
    width: int
    height: int
    chunk_size: int = 1024

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], crs: CRS, resolution: float,
                 chunk_size: int = 1024) -> Grid:
        """The grid of `resolution` that covers `bounds`, snapped outward to whole pixels."""
        minx, miny, maxx, maxy = bounds
        x0 = math.floor(minx / resolution) * resolution
        y0 = math.ceil(maxy / resolution) * resolution
        width = math.ceil((maxx - x0) / resolution - 1e-9)
        height = math.ceil((y0 - miny) / resolution - 1e-9)
        return cls(crs, Affine(resolution, 0, x0, 0, -resolution, y0), width, height, chunk_size)

    @property
    def resolution(self) -> float:
        return float(self.transform.a)

    @property
    def pixel_area_m2(self) -> float:
        return abs(self.transform.a * self.transform.e)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        x0, y0 = self.transform.c, self.transform.f
        return (x0, y0 + self.transform.e * self.height, x0 + self.transform.a * self.width, y0)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre x (per column) and y (per row) coordinates."""
        x = self.transform.c + self.transform.a * (np.arange(self.width, dtype=np.float64) + 0.5)
        y = self.transform.f + self.transform.e * (np.arange(self.height, dtype=np.float64) + 0.5)
        return x, y

    @property
    def chunks(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return (_split(self.height, self.chunk_size), _split(self.width, self.chunk_size))

    def matches(self, src: rasterio.io.DatasetReader) -> bool:
        """Whether a dataset is already on this grid, so it can be read without warping."""
        return (
            src.crs is not None
            and CRS.from_user_input(src.crs) == self.crs
            and src.width == self.width
            and src.height == self.height
            and all(abs(a - b) < 1e-6 * max(1.0, abs(b)) for a, b in zip(src.transform, self.transform, strict=False))
        )


def _split(n: int, size: int) -> tuple[int, ...]:
    full, rest = divmod(n, size)
    return (size,) * full + ((rest,) if rest else ())


def is_equal_area(crs: CRS) -> bool:
    """Whether a CRS preserves area (Albers, Lambert azimuthal, Mollweide, cylindrical/sinusoidal EA)."""
    if not crs.is_projected:
        return False
    method = (crs.coordinate_operation.method_name if crs.coordinate_operation else "").lower()
    return any(k in method for k in ("albers", "equal area", "equal-area", "mollweide", "sinusoidal"))


@dataclass(frozen=True)
class LayerSource:
    """A raster band to be read onto the grid: path is a file or a URL GDAL reads (`gep.accounting.location`)."""

    path: Path | str
    band: int
    categorical: bool
    valid_range: tuple[float, float] | None = None  # values outside it (or not finite) stop the run
    label: str = ""  # how the user knows the layer: "precipitation (rasters/precipitation_2019.tif)"


def _read_window(source: LayerSource, grid: Grid, window: Window) -> tuple[np.ndarray, Any]:
    with rasterio.open(source.path) as src:
        nodata = src.nodatavals[source.band - 1]
        if grid.matches(src):
            data = src.read(source.band, window=window, boundless=False)
            return data, nodata
        resampling = Resampling.nearest if source.categorical else Resampling.bilinear
        with WarpedVRT(src, crs=grid.crs.to_wkt(), transform=grid.transform, width=grid.width,
                       height=grid.height, resampling=resampling,
                       src_nodata=nodata, nodata=nodata if nodata is not None else 0) as vrt:
            data = vrt.read(source.band, window=window)
            return data, vrt.nodata if nodata is not None else None


def _continuous_block(source: LayerSource, grid: Grid, block_info: dict | None = None) -> np.ndarray:
    assert block_info is not None
    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    data, nodata = _read_window(source, grid, Window(c0, r0, c1 - c0, r1 - r0))
    out = data.astype(np.float64)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        out[data == nodata] = np.nan
    if source.valid_range is not None:
        lo, hi = source.valid_range
        bad = np.isinf(out) | (out < lo) | (out > hi)  # NaN is nodata, declared or not
        if bad.any():
            raise PixelValueError(N_("layer {layer}: {count} pixels are not finite or outside {low}–{high} in "
                                     "rows {row0}–{row1}, columns {col0}–{col1} of the grid (e.g. {example}); "
                                     "fix them or declare them nodata"),
                                  layer=source.label or PurePosixPath(str(source.path)).name, count=int(bad.sum()),
                                  low=f"{lo:g}", high=f"{hi:g}", row0=r0, row1=r1 - 1, col0=c0, col1=c1 - 1,
                                  example=f"{float(out[bad][0]):g}")
    return out


class PixelValueError(InputError):
    """A raster value the layer cannot take, met during the pass over the chunks (the run stops there)."""


def _categorical_block(source: LayerSource, grid: Grid, lut: np.ndarray, missing: int,
                       block_info: dict | None = None) -> np.ndarray:
    assert block_info is not None
    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    data, nodata = _read_window(source, grid, Window(c0, r0, c1 - c0, r1 - r0))
    codes = data.astype(np.int64)
    inside = (codes >= 0) & (codes < len(lut))
    if nodata is not None:
        inside &= data != nodata
    out = np.full(codes.shape, missing, dtype=np.int16)
    out[inside] = lut[codes[inside]]
    return out


def continuous_layer(source: LayerSource, grid: Grid) -> da.Array:
    """Lazy float64 layer on the grid; nodata becomes NaN."""
    template = da.zeros(grid.shape, chunks=grid.chunks, dtype=np.float64)
    return da.map_blocks(_continuous_block, source, grid, dtype=np.float64, chunks=template.chunks,
                         meta=np.array((), dtype=np.float64), token=f"read-{PurePosixPath(str(source.path)).stem}")


def categorical_layer(source: LayerSource, grid: Grid, lut: np.ndarray, missing: int) -> da.Array:
    """Lazy int16 class-index layer on the grid; `lut` maps raw codes to indices, `missing` means no class."""
    template = da.zeros(grid.shape, chunks=grid.chunks, dtype=np.int16)
    return da.map_blocks(_categorical_block, source, grid, lut, missing, dtype=np.int16, chunks=template.chunks,
                         meta=np.array((), dtype=np.int16), token=f"classes-{PurePosixPath(str(source.path)).stem}")

