"""Where a DEM is routed: in memory (the whole DEM at once, fastest while it fits) or tile by tile on disk
(memory bounded by the tile, on this machine's threads or a Dask cluster's workers), and the routed tiles kept
for the next run.

The choice (``GEP_TERRAIN``): ``auto`` (the default) routes in memory while the DEM needs at most
``GEP_TERRAIN_MEMORY_MB`` (2048 MB: about 22 M pixels, a Lishui-size city at 30 m), and on a cluster whenever
``GEP_TERRAIN_DIR`` names the folder it shares; ``memory`` and ``tiled`` force one. Both give the same values to
the last bit (tests/test_terrain_tiled.py).

Routed tiles live under ``GEP_TERRAIN_DIR`` (default: ``gep-terrain`` in the system's temporary folder),
one folder per DEM file, grid and tile size; on a cluster that folder must be shared with the workers. The
four most recently used are kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np

from gep.accounting import terrain, terrain_tiled
from gep.errors import N_, InputError

log = logging.getLogger(__name__)

MODES = ("auto", "memory", "tiled")
KEEP = 4
FORMAT = 2  # of the routed tiles: bump when the tiled algorithm changes, so older tiles are not reused
NODATA_HEIGHT = float(np.finfo(np.float32).max)


def mode(shape: tuple[int, int], distributed: bool = False) -> str:
    """``memory`` or ``tiled`` for a DEM of ``shape``, as ``GEP_TERRAIN`` and ``GEP_TERRAIN_MEMORY_MB`` say."""
    chosen = os.environ.get("GEP_TERRAIN", "auto").strip().lower() or "auto"
    if chosen not in MODES:
        raise InputError(N_("GEP_TERRAIN is {value!r}; expected one of {expected}"), value=chosen,
                         expected=", ".join(MODES))
    budget = float(os.environ.get("GEP_TERRAIN_MEMORY_MB", "2048")) * 2**20
    need = shape[0] * shape[1] * terrain.BYTES_PER_PIXEL
    choice = chosen if chosen != "auto" else "tiled" if need > budget else "memory"
    if distributed and chosen == "auto" and os.environ.get("GEP_TERRAIN_DIR"):
        choice = "tiled"  # the workers route it, in the folder they share
    if distributed and choice == "tiled" and not os.environ.get("GEP_TERRAIN_DIR"):
        # the command's temporary folder is not the workers': they could not find the tiles
        raise InputError(N_("a DEM of {rows}x{cols} is routed tile by tile on the cluster: set GEP_TERRAIN_DIR to a "
                            "folder the command and every worker share"), rows=shape[0], cols=shape[1])
    return choice


def cache_root() -> Path:
    return Path(os.environ.get("GEP_TERRAIN_DIR") or Path(tempfile.gettempdir()) / "gep-terrain").absolute()


def routed_store(dem: da.Array, key: dict[str, Any], cell_size: float, client: Any = None,
                 tile: int | None = None) -> terrain_tiled.TileStore:
    """Slope ("slope") and MFD accumulation ("acc") of ``dem`` (NaN = off the DEM) as tiles, routed now or
    found from an earlier run with the same ``key`` (the DEM file, its time stamp, the grid)."""
    tile = tile or terrain_tiled.default_tile()
    root = cache_root()
    name = hashlib.sha256(json.dumps({**key, "tile": tile, "format": FORMAT}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:20]
    final = root / name
    shape = (int(dem.shape[0]), int(dem.shape[1]))
    if (final / "complete").exists():
        os.utime(final / "complete")
        log.info("routed DEM found in %s", final)
        return terrain_tiled.TileStore(final, shape, tile)
    try:
        root.mkdir(parents=True, exist_ok=True)
        store = terrain_tiled.scratch_store(shape, tile, parent=root)
    except OSError as exc:
        raise InputError(N_("cannot write the routed DEM's tiles in {folder} (GEP_TERRAIN_DIR): {error}"),
                         folder=str(root), error=exc.strerror or str(exc)) from None
    try:
        t0 = time.perf_counter()
        ingest = dem.rechunk((tile, tile)).map_blocks(_ingest_block, store, dtype=np.int8, chunks=(1, 1),
                                                      meta=np.array((), dtype=np.int8))
        if client is None:
            ingest.compute(scheduler="threads")
        else:
            client.compute(ingest, sync=True)
        terrain_tiled.route_tiled(store, cell_size, client)
        (store.root / "complete").write_text(json.dumps({**key, "tile": tile}, default=str))
        log.info("routed a %dx%d DEM in %d tiles of %d px in %.1f s -> %s", *shape, len(store.tiles()), tile,
                 time.perf_counter() - t0, final)
    except BaseException:
        shutil.rmtree(store.root, ignore_errors=True)
        raise
    try:
        store.root.rename(final)
    except OSError:
        if not (final / "complete").exists():  # a broken leftover, not another run's result: use ours where it is
            log.warning("could not move the routed DEM to %s; using %s", final, store.root)
            return store
        shutil.rmtree(store.root, ignore_errors=True)  # another run routed the same DEM meanwhile: use theirs
    _prune(root)
    return terrain_tiled.TileStore(final, shape, tile)


def _ingest_block(block: np.ndarray, store: terrain_tiled.TileStore, block_info: Any = None) -> np.ndarray:
    ti, tj = block_info[0]["chunk-location"]
    terrain_tiled.ingest(store, ti, tj, np.asarray(block, dtype=np.float64), NODATA_HEIGHT)
    return np.zeros((1, 1), dtype=np.int8)


def _prune(root: Path) -> None:
    """Keep the KEEP most recently used routed DEMs (and no half-written ones older than a day)."""
    def used(p: Path) -> float:
        try:
            return (p / "complete").stat().st_mtime
        except OSError:  # being written, or removed by another run meanwhile
            return -1.0

    def age(p: Path) -> float:
        try:
            return time.time() - p.stat().st_mtime
        except OSError:
            return 0.0

    folders = [p for p in root.iterdir() if p.is_dir()]
    done = sorted((p for p in folders if used(p) >= 0), key=used, reverse=True)
    for old in done[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
    for p in folders:
        if used(p) < 0 and age(p) > 86400:
            shutil.rmtree(p, ignore_errors=True)


def chunk_from_store(store: terrain_tiled.TileStore, name: str, block_info: Any = None) -> np.ndarray:
    """One chunk of a stored array, for a dask array over the store (``block_info`` gives the window)."""
    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    return store.window(name, r0, r1, c0, c1)


def lazy(store: terrain_tiled.TileStore, name: str, chunks: Any, dtype: Any) -> da.Array:
    """A stored array as a dask array on ``chunks``, read chunk by chunk by whoever computes it."""
    return da.map_blocks(chunk_from_store, store, name, dtype=dtype, chunks=chunks,
                         meta=np.array((), dtype=dtype))
