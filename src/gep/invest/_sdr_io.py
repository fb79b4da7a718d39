"""Raster input/output for the SDR runner: resampled reads onto the aligned grid, the watershed mask, and
atomic GeoTIFF writes of any dtype (InVEST's SDR outputs are float32, float64 and byte)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from gep.invest._align import Grid
from gep.invest._raster import GTIFF_OPTIONS, output_compression, write_band
from gep.invest.errors import InvestCompatError


def _same_lattice(src: rasterio.io.DatasetReader, grid: Grid) -> Window | None:
    """The source window equal to grid when both share pixel size and pixel corners (a warp would copy it)."""
    st, gt = src.transform, grid.transform
    if (st.a, st.b, st.d, st.e) != (gt.a, gt.b, gt.d, gt.e):
        return None
    col = (gt.c - st.c) / st.a
    row = (gt.f - st.f) / st.e
    if col != round(col) or row != round(row):
        return None
    col0, row0 = round(col), round(row)
    if col0 < 0 or row0 < 0 or col0 + grid.width > src.width or row0 + grid.height > src.height:
        return None
    return Window(col0, row0, grid.width, grid.height)


def read_aligned(path: Path | str, grid: Grid, resampling: Resampling, label: str) -> tuple[np.ndarray, float]:
    """Band 1 on grid (GDAL warp with the given resampling; a plain window read when the lattices coincide).

    InVEST masks these rasters to the watersheds with their own nodata, so a raster without nodata cannot be
    processed the way InVEST does: that is refused, naming the arg.
    """
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InvestCompatError(f"{label}: cannot read raster {path}: {exc}") from exc
    with src:
        nodata = src.nodata
        if nodata is None:
            raise InvestCompatError(
                f"unsupported: {label} ({path}) has no nodata value; InVEST 3.20's SDR masks its inputs to the "
                "watersheds with each raster's nodata value, so set one (e.g. gdal_edit.py -a_nodata)")
        window = _same_lattice(src, grid)
        if window is not None:
            return src.read(1, window=window), float(nodata)
        out = np.full((grid.height, grid.width), nodata, dtype=src.dtypes[0])
        reproject(source=rasterio.band(src, 1), destination=out, src_transform=src.transform, src_crs=src.crs,
                  src_nodata=nodata, dst_transform=grid.transform, dst_crs=grid.crs or src.crs, dst_nodata=nodata,
                  resampling=resampling)
    return out, float(nodata)


def polygon_mask(geoms: Sequence[BaseGeometry | None], grid: Grid) -> np.ndarray:
    """True where a pixel centre lies in any polygon (GDAL rasterize, not all-touched), as InVEST's mask."""
    shapes = [(g, 1) for g in geoms if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros((grid.height, grid.width), dtype=bool)
    burned = rasterize(shapes, out_shape=(grid.height, grid.width), transform=grid.transform, fill=0,
                       all_touched=False, dtype="uint8")
    return burned.astype(bool)


def write_raster(path: Path, data: np.ndarray, nodata: float, grid: Grid, threads: int = 1) -> Path:
    """Write data (its own dtype) as an InVEST-style GeoTIFF atomically: temp file in the folder, then rename.

    threads > 1 lets GDAL compress blocks in parallel (same file content).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tif", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        options = dict(GTIFF_OPTIONS, **output_compression())
        profile = dict(options, width=grid.width, height=grid.height, count=1, dtype=data.dtype.name,
                       nodata=nodata, transform=grid.transform, crs=grid.crs, num_threads=threads)
        with rasterio.open(tmp, "w", **profile) as dst:
            write_band(dst, data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class Writer:
    """Writes rasters in a background thread (GDAL compresses without the GIL) while the model computes on."""

    def __init__(self, grid: Grid, workers: int = 1, threads: int = 2) -> None:
        self.grid = grid
        self.threads = threads
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._jobs: dict[str, Future[Path]] = {}

    def submit(self, key: str, path: Path, data: np.ndarray, nodata: float) -> None:
        """Queue one raster; the array must not be modified afterwards."""
        self._jobs[key] = self._pool.submit(write_raster, path, data, nodata, self.grid, self.threads)

    def wait(self) -> dict[str, Path]:
        """Finish every queued write (re-raising the first error) and return key -> path."""
        try:
            return {key: job.result() for key, job in self._jobs.items()}
        finally:
            self._pool.shutdown(wait=True)
