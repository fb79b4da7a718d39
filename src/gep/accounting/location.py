"""Where a region package's raster is: a file in the package, or a URL that GDAL reads.

Why: on a cluster the workers read the rasters themselves. An object store (S3, Google Cloud Storage, Azure, or
any HTTP server that answers range requests) spares the cluster a shared file system. GDAL reads such rasters
through its virtual file systems (``s3://bucket/key.tif`` is ``/vsis3/bucket/key.tif``), configured by the usual
environment variables (``AWS_*``, ``GS_*``, ``AZURE_*``, ``GDAL_HTTP_*``), which every worker must have as well.

An object is taken as immutable: work derived from it (soil retention's routed DEM) is reused by URL. Publish a
changed raster under a new key (a version or date in its name), as object stores are usually used.
"""

from __future__ import annotations

import re
from pathlib import Path

import rasterio

RasterLocation = Path | str  # a local file (Path) or a URL / GDAL virtual path (str)

_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|/vsi[a-z0-9_]+/)")


def is_url(file: str) -> bool:
    """Whether a layer's `file` is a URL (``s3://``, ``gs://``, ``az://``, ``https://`` …) or a GDAL virtual path
    (``/vsis3/…``) rather than a path inside the package."""
    return bool(_URL.match(file))


def locate(root: Path, file: str) -> RasterLocation:
    """The raster a layer's `file` names: the URL itself, or the path inside the package at root."""
    return file if is_url(file) else root / file


def shown(location: RasterLocation, root: Path) -> str:
    """How a message names the raster: its path relative to the package, or its URL."""
    if isinstance(location, Path):
        try:
            return str(location.relative_to(root))
        except ValueError:
            return str(location)
    return location


def exists(location: RasterLocation) -> bool:
    """Whether the raster is there: a file test, or (for a URL) whether GDAL can open it."""
    if isinstance(location, Path):
        return location.exists()
    try:
        with rasterio.open(location):
            return True
    except Exception:  # GDAL's errors, and those of rasterio's cloud session (boto3: credentials)
        return False


def version(location: RasterLocation) -> tuple[int, int] | None:
    """What tells one version of a local file from the next (modification time and size, in ns and bytes);
    None for a URL, whose object is taken as immutable."""
    if isinstance(location, Path):
        stat = location.stat()
        return stat.st_mtime_ns, stat.st_size
    return None


__all__ = ["RasterLocation", "exists", "is_url", "locate", "shown", "version"]
