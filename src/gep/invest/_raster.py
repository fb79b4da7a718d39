"""Raster reading, InVEST's nodata test, LULC reclassification and atomic GeoTIFF writing."""

from __future__ import annotations

import functools
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

from gep.invest.errors import InvestCompatError

# InVEST's GeoTIFF options (pygeoprocessing's default creation tuple): tiled 256², LZW, BigTIFF.
GTIFF_OPTIONS: dict[str, Any] = {
    "driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "lzw", "bigtiff": "YES",
}
WRITE_CACHE_MB = 64  # GDAL block cache while writing several rasters (see write_float32_many)
# How the model outputs are compressed, chosen by GEP_INVEST_COMPRESSION. InVEST's LZW barely shrinks float
# rasters (a 16 M-pixel float32 output: 62 MB against 67 MB uncompressed) and costs 1 s of CPU each to write;
# ZSTD level 1 gives 49 MB for 0.4-0.7 s; none costs 0.16 s. An SDR run writes a dozen such rasters, so the
# default is none: files the size of InVEST's own, written in a fraction of the time.
COMPRESSION: dict[str, dict[str, Any]] = {
    "none": {"compress": "none"},
    "zstd": {"compress": "zstd", "zstd_level": 1},
    "lzw": {"compress": "lzw"},
}
COMPRESSION_ENV = "GEP_INVEST_COMPRESSION"


@dataclass(frozen=True)
class Band:
    """One raster band in memory with the georeferencing InVEST's steps carry along."""

    data: np.ndarray
    nodata: float | None
    transform: Affine
    crs: CRS | None

    @property
    def pixel_area(self) -> float:
        """|pixel width × height| in CRS units², as InVEST uses for per-hectare totals."""
        return abs(self.transform.a * self.transform.e)


def read_band(path: Path | str, label: str) -> Band:
    """Read band 1; a missing or unreadable file names the arg it came from."""
    try:
        with rasterio.open(path) as src:
            return Band(src.read(1), src.nodata, src.transform, src.crs)
    except rasterio.errors.RasterioIOError as exc:
        raise InvestCompatError(f"{label}: cannot read raster {path}: {exc}") from exc


def equals_nodata(array: np.ndarray, nodata: float | None) -> np.ndarray:
    """pygeoprocessing's nodata test: exact for integers, numpy.isclose (NaN-aware) for floats.

    The tolerance matters for exactness: a float value within isclose's tolerance of nodata is nodata to InVEST.
    """
    if nodata is None:
        return np.zeros(array.shape, dtype=bool)
    if np.issubdtype(array.dtype, np.integer):
        return np.asarray(array == nodata)
    return np.isclose(array, nodata, equal_nan=True)


def reclassify(lulc: Band, table: Mapping[int, float], out_nodata: float, table_name: str,
               column: str = "lucode") -> np.ndarray:
    """Map LULC codes to float32 values; LULC nodata -> out_nodata; unknown codes are an error, as in InVEST."""
    data = lulc.data
    nodata_mask = equals_nodata(data, lulc.nodata)
    codes = np.unique(data[~nodata_mask])
    missing = sorted(int(c) for c in codes if int(c) not in table)
    if missing:
        raise InvestCompatError(
            f"Values in the LULC raster were found that are not represented under the '{column}' key column "
            f"of the {table_name} table. The missing values found in the LULC raster but not the table are: "
            f"{missing}")
    out = np.full(data.shape, out_nodata, dtype=np.float32)
    if codes.size:
        keys = np.asarray(codes)
        values = np.asarray([table[int(c)] for c in codes], dtype=np.float32)
        index = np.searchsorted(keys, data[~nodata_mask])
        out[~nodata_mask] = values[index]
    return out


def write_float32(path: Path, data: np.ndarray, nodata: float, transform: Affine, crs: CRS | None) -> Path:
    """Write a float32 GeoTIFF atomically: a temp file in the same folder, then rename over the target."""
    return _write_float32_with(path, data, nodata, transform, crs, {})


def write_text(path: Path, text: str) -> Path:
    """Write a text file atomically (temp file + rename), UTF-8 with the newlines given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return path


def write_float32_many(items: Sequence[tuple[Path, np.ndarray]], nodata: float, transform: Affine,
                       crs: CRS | None) -> list[Path]:
    """write_float32 for several rasters at once, faster: same dtype, nodata, tiling and atomic rename, but
    the outputs' compression (`output_compression`: none by default, not LZW), written in threads with GDAL
    compressing tiles on all CPUs (NUM_THREADS).

    Why: LZW compression of three float32 rasters costs more than all of AWY's arithmetic. A small GDAL cache
    makes tiles leave memory as they are written, instead of piling up (a copy of every raster) until the
    files are closed.
    """
    options: dict[str, Any] = {"num_threads": "ALL_CPUS", **output_compression()}
    with rasterio.Env(GDAL_CACHEMAX=WRITE_CACHE_MB), ThreadPoolExecutor(max(1, len(items))) as pool:
        futures = [pool.submit(_write_float32_with, path, data, nodata, transform, crs, options)
                   for path, data in items]
        return [future.result() for future in futures]


def write_band(dst: rasterio.io.DatasetWriter, data: np.ndarray) -> None:
    """Write a 2-D array into band 1 of dst one block row at a time, in dst's dtype.

    Why: written whole, the array passed through GDAL with a full-size copy held until the write returned
    (measured at 4000², float64: peak RSS +133 MB written whole, +19 MB by block rows, and no slower).
    """
    block = max(1, dst.block_shapes[0][0])
    rows = block * max(1, 256 // block)  # whole blocks, and not one call per row of a striped file
    dtype = np.dtype(dst.dtypes[0])
    for r0 in range(0, data.shape[0], rows):
        band = data[r0:r0 + rows]
        dst.write(band.astype(dtype, copy=False), 1, window=Window(0, r0, data.shape[1], band.shape[0]))


def output_compression() -> dict[str, Any]:
    """The GeoTIFF creation options GEP_INVEST_COMPRESSION asks for (none, zstd or lzw; default none); zstd
    falls back to LZW where this GDAL cannot write it. A wrong value is named with the ones allowed."""
    raw = os.environ.get(COMPRESSION_ENV, "none").strip().lower() or "none"
    if raw not in COMPRESSION:
        raise InvestCompatError(f"{COMPRESSION_ENV}={raw!r}: expected one of {', '.join(COMPRESSION)}")
    if raw == "zstd" and not _gtiff_has_zstd():
        return COMPRESSION["lzw"]
    return COMPRESSION[raw]


@functools.cache
def _gtiff_has_zstd() -> bool:
    """Whether this GDAL's GeoTIFF driver can write ZSTD (probed once with a 1-pixel in-memory file)."""
    probe = "/vsimem/gep-zstd-probe.tif"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(probe, "w", driver="GTiff", width=1, height=1, count=1, dtype="uint8",
                               compress="zstd") as dst:
                dst.write(np.zeros((1, 1, 1), dtype=np.uint8))
        rasterio.shutil.delete(probe)
    except (rasterio.errors.RasterioError, OSError):
        return False
    return True


def _write_float32_with(path: Path, data: np.ndarray, nodata: float, transform: Affine, crs: CRS | None,
                        options: Mapping[str, Any]) -> Path:
    """write_float32 with extra GDAL creation options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tif", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        height, width = data.shape
        profile = dict(GTIFF_OPTIONS, width=width, height=height, count=1, dtype="float32",
                       nodata=nodata, transform=transform, crs=crs, **options)
        with rasterio.open(tmp, "w", **profile) as dst:
            write_band(dst, data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
