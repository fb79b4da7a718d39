"""Terrain routing past memory: pit filling, MFD directions, MFD accumulation and slope, tile by tile, equal
to the in-memory kernels of :mod:`gep.accounting.terrain` pixel for pixel.

Why: the in-memory chain holds the whole DEM at about 96 bytes a pixel, so a province at 30 m (~120 M pixels)
needs 11 GB and China (~10.7 G pixels) a terabyte. Here memory follows the tile size: every stage reads one
tile (with a one-pixel halo taken from its neighbours' saved edges), and only small per-tile summaries are
held globally.

* **Fill** (Barnes 2016, "Parallel priority-flood depression filling for trillion cell DEMs"): each tile is
  flooded from its own edge, every edge pixel a watershed label of its own (pixels draining off the raster or
  into nodata are the "ocean"); where two labels meet, the spill height is an edge of a small graph, and so
  is every pair of touching pixels across tile edges. A priority flood over that graph gives each label the
  height its water must reach to escape; a pixel's fill is the larger of its in-tile fill and its label's.
* **MFD directions** are local (3×3) except on plateaus. A plateau's directions depend on the plateau alone
  (distance to its drains is the shortest path whatever order it is explored in), so a plateau inside a tile
  is resolved with the tile, and one crossing tile edges is gathered whole (its bounding box) and resolved by
  the same in-memory kernel.
* **Accumulation**: each pixel's value is the same sum, in the same neighbour order, as in memory, taken once
  every upstream value is known; a tile is revisited when its neighbours' edges gain values (a worklist, in
  the spirit of Barnes 2017's tile-and-stitch). Floating-point results are therefore bit-identical.
* **Slope** is 3×3 on the filled DEM with a halo.

Tiles are ``.npy`` files under one folder (a :class:`TileStore`); intermediate arrays are deleted as soon as
the next stage has used them. Per-tile stages run on an executor (threads here, a Dask cluster's workers when
a ``distributed.Client`` is given: the folder must then be shared with them).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numba.core import types
from numba.typed import Dict

from gep.accounting import terrain
from gep.accounting.jit import njit
from gep.accounting.terrain import COL_OFFSETS, INFLOW, ROW_OFFSETS, _heap_pop, _heap_push, _push, mfd_sum

__all__ = ["TileStore", "default_tile", "route_tiled", "tiled_accumulation_mfd", "tiled_fill", "tiled_flow_dir_mfd",
           "tiled_slope"]

log = logging.getLogger(__name__)

NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def default_tile() -> int:
    """Tile side in pixels (``GEP_TERRAIN_TILE``, default 2048: about 170 MB of work arrays a tile)."""
    return int(os.environ.get("GEP_TERRAIN_TILE", "2048"))


# --------------------------------------------------------------------------------------------------------------
# the tile store


@dataclass(frozen=True)
class TileStore:
    """Arrays of one raster shape kept as one ``.npy`` file per tile (and its four edges) under ``root``."""

    root: Path
    shape: tuple[int, int]
    tile: int

    @property
    def grid(self) -> tuple[int, int]:
        return -(-self.shape[0] // self.tile), -(-self.shape[1] // self.tile)

    def tiles(self) -> list[tuple[int, int]]:
        n_i, n_j = self.grid
        return [(i, j) for i in range(n_i) for j in range(n_j)]

    def bounds(self, ti: int, tj: int) -> tuple[int, int, int, int]:
        r0, c0 = ti * self.tile, tj * self.tile
        return r0, min(r0 + self.tile, self.shape[0]), c0, min(c0 + self.tile, self.shape[1])

    def dims(self, ti: int, tj: int) -> tuple[int, int]:
        r0, r1, c0, c1 = self.bounds(ti, tj)
        return r1 - r0, c1 - c0

    def exists(self, ti: int, tj: int) -> bool:
        n_i, n_j = self.grid
        return 0 <= ti < n_i and 0 <= tj < n_j

    def _path(self, name: str, ti: int, tj: int, ring: bool = False) -> Path:
        return self.root / (f"{name}.ring" if ring else name) / f"{ti}_{tj}.npy"

    def save(self, name: str, ti: int, tj: int, arr: np.ndarray, ring: bool = True) -> None:
        """Write a tile (and, unless ``ring`` is False, its edges). In place, not atomically: a store is valid
        only once its ``complete`` mark is written."""
        _save(self._path(name, ti, tj), arr)
        if ring:
            _save(self._path(name, ti, tj, ring=True), _ring(arr))

    def save_ring(self, name: str, ti: int, tj: int, arr: np.ndarray) -> None:
        _save(self._path(name, ti, tj, ring=True), _ring(arr))

    def load(self, name: str, ti: int, tj: int, mmap: bool = False) -> np.ndarray:
        return np.load(self._path(name, ti, tj), mmap_mode="r" if mmap else None)

    def has(self, name: str, ti: int, tj: int) -> bool:
        return self._path(name, ti, tj).exists()

    def ring(self, name: str, ti: int, tj: int) -> np.ndarray:
        return np.load(self._path(name, ti, tj, ring=True))

    def drop(self, *names: str) -> None:
        for name in names:
            shutil.rmtree(self.root / name, ignore_errors=True)
            shutil.rmtree(self.root / f"{name}.ring", ignore_errors=True)

    def padded(self, name: str, ti: int, tj: int, core: np.ndarray,
               rings: Callable[[int, int], np.ndarray] | None = None) -> tuple[np.ndarray, int, int]:
        """``core`` with a one-pixel halo from the neighbours' saved edges (or from ``rings(ti, tj)``), cropped
        at the raster's edges (so off-window means off-raster, as in the in-memory kernels). Returns the array
        and the core's offset."""
        _, r1, _, c1 = self.bounds(ti, tj)
        top, left = self.padded_offsets(ti, tj)
        h, w = core.shape
        out = np.empty((h + top + int(r1 < self.shape[0]), w + left + int(c1 < self.shape[1])), dtype=core.dtype)
        out[top : top + h, left : left + w] = core
        idx, vals = self.halo(ti, tj, rings or (lambda i, j: self.ring(name, i, j)))
        out.reshape(-1)[idx] = vals
        return out, top, left

    def padded_offsets(self, ti: int, tj: int) -> tuple[int, int]:
        """Where the core starts in :meth:`padded`'s array: one pixel in, except on the raster's edge."""
        return int(ti > 0), int(tj > 0)

    def halo(self, ti: int, tj: int, rings: Callable[[int, int], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The halo of :meth:`padded` alone, as (flat indices into the padded array, values): what a tile's
        neighbours hold next to it, without touching the tile itself."""
        h, w = self.dims(ti, tj)
        top, left = self.padded_offsets(ti, tj)
        _, r1, _, c1 = self.bounds(ti, tj)
        rows, cols = h + top + int(r1 < self.shape[0]), w + left + int(c1 < self.shape[1])
        idx, vals = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
        for di, dj in NEIGHBOURS:
            if not self.exists(ti + di, tj + dj):
                continue
            ring = rings(ti + di, tj + dj)
            nh, nw = self.dims(ti + di, tj + dj)
            pr = np.arange(top, top + h) if di == 0 else np.array([0 if di < 0 else rows - 1])
            pc = np.arange(left, left + w) if dj == 0 else np.array([0 if dj < 0 else cols - 1])
            if di == 0:
                part = _ring_part(ring, nh, nw, "right" if dj < 0 else "left")
            else:
                row = _ring_part(ring, nh, nw, "bottom" if di < 0 else "top")
                part = row if dj == 0 else row[-1 if dj < 0 else 0 :][:1]
            idx.append((pr[:, None] * cols + pc[None, :]).ravel())
            vals.append(part)
        return np.concatenate(idx), np.concatenate(vals)

    def window(self, name: str, r0: int, r1: int, c0: int, c1: int,
               opened: dict[Any, np.ndarray] | None = None) -> np.ndarray:
        """Rows r0:r1, cols c0:c1 of a stored array, assembled from the tiles it covers (``opened`` keeps the
        memory-mapped tiles for the next call)."""
        opened = {} if opened is None else opened
        t = self.tile
        parts = []
        for ti in range(r0 // t, (r1 - 1) // t + 1):
            row = []
            for tj in range(c0 // t, (c1 - 1) // t + 1):
                tr0, tr1, tc0, tc1 = self.bounds(ti, tj)
                if (name, ti, tj) not in opened:
                    opened[name, ti, tj] = self.load(name, ti, tj, mmap=True)
                arr = opened[name, ti, tj]
                row.append(np.asarray(arr[max(r0, tr0) - tr0 : min(r1, tr1) - tr0,
                                          max(c0, tc0) - tc0 : min(c1, tc1) - tc0]))
            parts.append(np.concatenate(row, axis=1))
        return np.concatenate(parts, axis=0)


def _save(path: Path, arr: np.ndarray) -> None:
    """Written in place: a store is scratch space, valid only once its ``complete`` mark is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.save(fh, arr)


def _ring(arr: np.ndarray) -> np.ndarray:
    """A tile's edges in one array: top row, bottom row, left column, right column."""
    return np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])


def _ring_part(ring: np.ndarray, h: int, w: int, side: str) -> np.ndarray:
    start = {"top": 0, "bottom": w, "left": 2 * w, "right": 2 * w + h}[side]
    return ring[start : start + (w if side in ("top", "bottom") else h)]


def _pairs(store: TileStore) -> Iterator[tuple[tuple[int, int], tuple[int, int], int]]:
    """Every pair of tiles that touch (right, down, down-right, down-left neighbours), with its kind."""
    for ti, tj in store.tiles():
        for kind, (di, dj) in enumerate([(0, 1), (1, 0), (1, 1), (1, -1)]):
            if store.exists(ti + di, tj + dj):
                yield (ti, tj), (ti + di, tj + dj), kind


def _touching(store: TileStore, name: str, a: tuple[int, int], b: tuple[int, int],
              kind: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Values of ``name`` at every pair of 8-adjacent pixels across the a|b edge: (a values, b values, a
    positions, b positions), positions as indices into each tile's edge ring."""
    ra, rb = store.ring(name, *a), store.ring(name, *b)
    ha, wa = store.dims(*a)
    wb = store.dims(*b)[1]
    if kind in (0, 1):  # side by side (kind 0) or one above the other (kind 1)
        side_a, side_b = ("right", "left") if kind == 0 else ("bottom", "top")
        n = ha if kind == 0 else wa
        off_a = {"right": 2 * wa + ha, "bottom": wa}[side_a]
        off_b = {"left": 2 * wb, "top": 0}[side_b]
        ia, ib = [], []
        for d in (-1, 0, 1):
            k = np.arange(n)
            ok = (k + d >= 0) & (k + d < n)
            ia.append(off_a + k[ok])
            ib.append(off_b + k[ok] + d)
        pa, pb = np.concatenate(ia), np.concatenate(ib)
    elif kind == 2:  # a's bottom-right pixel and b's top-left
        pa, pb = np.array([wa + wa - 1]), np.array([0])
    else:  # a's bottom-left pixel and b's top-right
        pa, pb = np.array([wa]), np.array([wb - 1])
    return ra[pa], rb[pb], pa, pb


@contextmanager
def _executor(client: Any) -> Iterator[Executor]:
    if client is not None:
        yield client.get_executor()
        return
    with ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, 8))) as pool:
        yield pool


def _run(pool: Executor, fn: Callable[..., Any], items: Iterable[tuple[Any, ...]]) -> list[Any]:
    futures = [pool.submit(fn, *args) for args in items]
    try:
        return [f.result() for f in futures]
    except BaseException:
        for f in futures:  # the store is about to be removed: no task should write into it afterwards
            f.cancel()
        raise


# --------------------------------------------------------------------------------------------------------------
# fill: Barnes' three steps


@njit(cache=True, nogil=True)
def _fill_tile(z2: np.ndarray, mask_p: np.ndarray, mt: int, ml: int, edge_t: bool, edge_b: bool, edge_l: bool,
               edge_r: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Priority flood of one tile from its edge. Returns the in-tile fill, each pixel's label (0 = drains off the
    raster or into nodata, 1 + r*w + c = the edge pixel it was flooded from, -1 = nodata) and the label graph's
    edges (u < v, spill height, the lowest seen)."""
    h, w = z2.shape
    n = h * w
    f = z2.copy().ravel()
    label = np.full(n, -1, dtype=np.int64)
    closed = np.zeros(n, dtype=np.uint8)
    hv = np.empty(n, dtype=np.float64)
    hi = np.empty(n, dtype=np.int64)
    size = 0
    pit = np.empty(n, dtype=np.int64)  # each pixel enters once at most: never grown (growing through _push is slow)
    spill = Dict.empty(key_type=types.int64, value_type=types.float64)
    for r in range(h):
        for c in range(w):
            k = r * w + c
            if mask_p[r + mt, c + ml]:
                closed[k] = 1
                continue
            outlet = (r == 0 and edge_t) or (r == h - 1 and edge_b) or (c == 0 and edge_l) or (c == w - 1 and edge_r)
            if not outlet:
                for i in range(8):
                    if mask_p[r + mt + ROW_OFFSETS[i], c + ml + COL_OFFSETS[i]]:
                        outlet = True
                        break
            if outlet:
                label[k] = 0
            elif r == 0 or c == 0 or r == h - 1 or c == w - 1:
                label[k] = 1 + k
            else:
                continue
            closed[k] = 1
            size = _heap_push(hv, hi, size, f[k], k)
    head = 0
    tail = 0
    key_base = n + 2
    while size > 0 or head < tail:
        if head < tail:
            k = pit[head]
            head += 1
            if head == tail:
                head = 0
                tail = 0
        else:
            k, size = _heap_pop(hv, hi, size)
        r = k // w
        c = k - r * w
        fk = f[k]
        lk = label[k]
        for i in range(8):
            rn = r + ROW_OFFSETS[i]
            cn = c + COL_OFFSETS[i]
            if rn < 0 or rn >= h or cn < 0 or cn >= w:
                continue
            kn = rn * w + cn
            if closed[kn]:
                ln = label[kn]
                if ln >= 0 and ln != lk:
                    u, v = (lk, ln) if lk < ln else (ln, lk)
                    key = u * key_base + v
                    height = max(fk, f[kn])
                    if key not in spill or spill[key] > height:
                        spill[key] = height
                continue
            closed[kn] = 1
            label[kn] = lk
            if f[kn] <= fk:
                f[kn] = fk
                pit[tail] = kn
                tail += 1
            else:
                size = _heap_push(hv, hi, size, f[kn], kn)
    m = len(spill)
    eu = np.empty(m, dtype=np.int64)
    ev = np.empty(m, dtype=np.int64)
    ew = np.empty(m, dtype=np.float64)
    for j, (key, height) in enumerate(spill.items()):
        eu[j] = key // key_base
        ev[j] = key - eu[j] * key_base
        ew[j] = height
    return f.reshape(h, w), label.reshape(h, w), eu, ev, ew


def _fill_pass1(store: TileStore, ti: int, tj: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = store.load("z", ti, tj)
    mask_p, mt, ml = store.padded("mask", ti, tj, store.load("mask", ti, tj))
    r0, r1, c0, c1 = store.bounds(ti, tj)
    # the kernel reads the halo unconditionally: pad what the raster's edge cropped with "not nodata"
    full = np.zeros((z.shape[0] + 2, z.shape[1] + 2), dtype=np.bool_)
    full[1 - mt : 1 - mt + mask_p.shape[0], 1 - ml : 1 - ml + mask_p.shape[1]] = mask_p
    f, label, eu, ev, ew = _fill_tile(z, full, 1, 1, r0 == 0, r1 == store.shape[0], c0 == 0,
                                      c1 == store.shape[1])
    store.save("f", ti, tj, f)
    store.save("label", ti, tj, label)
    return eu, ev, ew


@njit(cache=True)
def _minimax(n: int, indptr: np.ndarray, nbr: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """Lowest height at which each node's water reaches node 0 (the ocean): a priority flood on the graph."""
    level = np.full(n, np.inf)
    level[0] = -np.inf
    done = np.zeros(n, dtype=np.uint8)
    hv = np.empty(len(nbr) + 1, dtype=np.float64)
    hi = np.empty(len(nbr) + 1, dtype=np.int64)
    size = _heap_push(hv, hi, 0, -np.inf, 0)
    while size > 0:
        u, size = _heap_pop(hv, hi, size)
        if done[u]:
            continue
        done[u] = 1
        for e in range(indptr[u], indptr[u + 1]):
            v = nbr[e]
            cand = max(level[u], wt[e])
            if cand < level[v]:
                level[v] = cand
                size = _heap_push(hv, hi, size, cand, v)
    return level


def _fill_pass2(store: TileStore, ti: int, tj: int) -> None:
    ids = np.load(store.root / "graph" / "ids.npy", mmap_mode="r")
    level = np.load(store.root / "graph" / "level.npy", mmap_mode="r")
    f = store.load("f", ti, tj)
    label = store.load("label", ti, tj)
    base = _label_base(store, ti, tj)
    glob = np.where(label > 0, label + base, label)
    raise_to = np.full(f.shape, -np.inf)
    has = label > 0
    raise_to[has] = level[np.searchsorted(ids, glob[has])]
    store.save("F", ti, tj, np.maximum(f, raise_to))


def _label_base(store: TileStore, ti: int, tj: int) -> int:
    return (ti * store.grid[1] + tj) * (store.tile * store.tile + 2)


def tiled_fill(store: TileStore, pool: Executor) -> None:
    """Tiles "z" (heights, nodata pixels holding any height) and "mask" (True = nodata) -> "F", equal to
    :func:`gep.accounting.terrain.fill_pits`."""
    tiles = store.tiles()
    graphs = _run(pool, _fill_pass1, [(store, ti, tj) for ti, tj in tiles])
    us, vs, ws = [], [], []
    for (ti, tj), (eu, ev, ew) in zip(tiles, graphs, strict=True):
        base = _label_base(store, ti, tj)
        us.append(np.where(eu > 0, eu + base, 0))
        vs.append(np.where(ev > 0, ev + base, 0))
        ws.append(ew)
    for a, b, kind in _pairs(store):  # pixels touching across tile edges: their spill is the higher of the two
        fa, fb, _, _ = _touching(store, "f", a, b, kind)
        la, lb, _, _ = _touching(store, "label", a, b, kind)
        ga = np.where(la > 0, la + _label_base(store, *a), la)
        gb = np.where(lb > 0, lb + _label_base(store, *b), lb)
        keep = (ga >= 0) & (gb >= 0) & (ga != gb)
        us.append(ga[keep])
        vs.append(gb[keep])
        ws.append(np.maximum(fa[keep], fb[keep]))
    u, v, wgt = np.concatenate(us), np.concatenate(vs), np.concatenate(ws)
    ids = np.unique(np.concatenate([[0], u, v]))
    ui, vi = np.searchsorted(ids, u), np.searchsorted(ids, v)
    src, dst, wt = np.concatenate([ui, vi]), np.concatenate([vi, ui]), np.concatenate([wgt, wgt])
    order = np.argsort(src, kind="stable")
    indptr = np.searchsorted(src[order], np.arange(len(ids) + 1))
    level = _minimax(len(ids), indptr, dst[order], wt[order])
    log.info("tiled fill: %d tiles, %d labels, %d spill edges", len(tiles), len(ids), len(u))
    _save(store.root / "graph" / "ids.npy", ids)  # read by every tile's task from the store, not shipped to each
    _save(store.root / "graph" / "level.npy", level)
    _run(pool, _fill_pass2, [(store, ti, tj) for ti, tj in tiles])
    store.drop("f", "label", "graph")


# --------------------------------------------------------------------------------------------------------------
# MFD directions


@njit(cache=True, nogil=True)
def _open_flats(zp: np.ndarray, mp: np.ndarray, top: int, left: int, h: int, w: int) -> tuple[np.ndarray, int]:
    """Label the equal-height regions of the core that touch an equal-height halo pixel (they may go on in a
    neighbouring tile): 0 = not such a region, 1.. = one per region."""
    comp = np.zeros(h * w, dtype=np.int32)
    queue = np.empty(1024, dtype=np.int64)
    count = 0
    for r in range(h):
        for c in range(w):
            if not (r == 0 or c == 0 or r == h - 1 or c == w - 1):
                continue
            k = r * w + c
            if comp[k] or mp[r + top, c + left]:
                continue
            zk = zp[r + top, c + left]
            touches = False
            for i in range(8):
                rr = r + ROW_OFFSETS[i]
                cc = c + COL_OFFSETS[i]
                if 0 <= rr < h and 0 <= cc < w:
                    continue
                pr, pc = rr + top, cc + left
                if pr < 0 or pr >= zp.shape[0] or pc < 0 or pc >= zp.shape[1]:
                    continue
                if not mp[pr, pc] and zp[pr, pc] == zk:
                    touches = True
                    break
            if not touches:
                continue
            count += 1
            comp[k] = count
            head, tail = 0, 0
            queue, tail = _push(queue, tail, k)
            while head < tail:
                q = queue[head]
                head += 1
                rq = q // w
                cq = q - rq * w
                for i in range(8):
                    rn = rq + ROW_OFFSETS[i]
                    cn = cq + COL_OFFSETS[i]
                    if rn < 0 or rn >= h or cn < 0 or cn >= w:
                        continue
                    kn = rn * w + cn
                    if comp[kn] or mp[rn + top, cn + left] or zp[rn + top, cn + left] != zk:
                        continue
                    comp[kn] = count
                    queue, tail = _push(queue, tail, kn)
    return comp.reshape(h, w), count


def _dir_tile(store: TileStore, ti: int, tj: int) -> np.ndarray:
    """Directions of one tile; returns each open plateau piece's bounding box (global rows/cols, inclusive)."""
    zp, top, left = store.padded("F", ti, tj, store.load("F", ti, tj))
    mp, _, _ = store.padded("mask", ti, tj, store.load("mask", ti, tj))
    h, w = store.dims(ti, tj)
    fd = terrain._flow_dir_mfd(zp, mp, 256)[top : top + h, left : left + w]
    comp, count = _open_flats(zp, mp, top, left, h, w)
    store.save("fd", ti, tj, np.ascontiguousarray(fd), ring=False)
    store.save("flat", ti, tj, comp)
    boxes = np.zeros((count, 4), dtype=np.int64)
    if count:
        r0, _, c0, _ = store.bounds(ti, tj)
        rows, cols = np.nonzero(comp)
        ids = comp[rows, cols] - 1
        boxes[:, 0] = np.iinfo(np.int64).max
        boxes[:, 2] = np.iinfo(np.int64).max
        np.minimum.at(boxes[:, 0], ids, rows + r0)
        np.maximum.at(boxes[:, 1], ids, rows + r0)
        np.minimum.at(boxes[:, 2], ids, cols + c0)
        np.maximum.at(boxes[:, 3], ids, cols + c0)
    return boxes


def _dilate(a: np.ndarray) -> np.ndarray:
    """``a`` grown by one pixel in all eight directions."""
    p = np.pad(a, 1)
    out = np.zeros_like(a)
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            out |= p[dr : dr + a.shape[0], dc : dc + a.shape[1]]
    return out


class _Union:
    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, x: Any) -> Any:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: Any, b: Any) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def tiled_flow_dir_mfd(store: TileStore, pool: Executor) -> None:
    """"F" and "mask" -> "fd", equal to :func:`gep.accounting.terrain.flow_dir_mfd` on the whole raster."""
    tiles = store.tiles()
    boxes = dict(zip(tiles, _run(pool, _dir_tile, [(store, ti, tj) for ti, tj in tiles]), strict=True))
    plateaus = _Union()
    for t, b in boxes.items():
        for k in range(len(b)):
            plateaus.find((t, k + 1))
    for a, b, kind in _pairs(store):
        ca, cb, _, _ = _touching(store, "flat", a, b, kind)
        za, zb, _, _ = _touching(store, "F", a, b, kind)
        for x, y in zip(ca[(ca > 0) & (cb > 0) & (za == zb)], cb[(ca > 0) & (cb > 0) & (za == zb)], strict=True):
            plateaus.union((a, int(x)), (b, int(y)))
    groups: dict[Any, list[tuple[tuple[int, int], int]]] = {}
    for piece in list(plateaus.parent):
        groups.setdefault(plateaus.find(piece), []).append(piece)
    # per tile: (flat index in the tile, direction) of its plateau pixels; plateau pixels only, not boxes
    updates: dict[tuple[int, int], list[tuple[np.ndarray, np.ndarray]]] = {}
    largest = 0
    for pieces in groups.values():
        bb = np.array([boxes[t][k - 1] for t, k in pieces])
        r0, r1 = max(int(bb[:, 0].min()) - 1, 0), min(int(bb[:, 1].max()) + 2, store.shape[0])
        c0, c1 = max(int(bb[:, 2].min()) - 1, 0), min(int(bb[:, 3].max()) + 2, store.shape[1])
        largest = max(largest, (r1 - r0) * (c1 - c0))
        opened: dict[Any, np.ndarray] = {}  # memory maps of this box's tiles, closed with the box
        # only the plateau and the ring around it matter: mask the rest of the box, so the kernel skips it
        member = np.zeros((r1 - r0, c1 - c0), dtype=np.bool_)
        for t, k in pieces:
            tr0, tr1, tc0, tc1 = store.bounds(*t)
            a0, a1, b0, b1 = max(r0, tr0), min(r1, tr1), max(c0, tc0), min(c1, tc1)
            flat = store.load("flat", *t, mmap=True)
            member[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0] |= flat[a0 - tr0 : a1 - tr0, b0 - tc0 : b1 - tc0] == k
            del flat
        fd = terrain._flow_dir_mfd(store.window("F", r0, r1, c0, c1, opened),
                                   store.window("mask", r0, r1, c0, c1, opened) | ~_dilate(member), 256)
        opened.clear()
        rr, cc = np.nonzero(member)
        values = fd[rr, cc]
        del fd, member
        gr, gc = rr + r0, cc + c0
        tile_of = (gr // store.tile) * store.grid[1] + gc // store.tile
        for key in np.unique(tile_of):
            sel = tile_of == key
            t = (int(key) // store.grid[1], int(key) % store.grid[1])
            w = store.dims(*t)[1]
            local = (gr[sel] - t[0] * store.tile) * w + (gc[sel] - t[1] * store.tile)
            updates.setdefault(t, []).append((local, values[sel]))
    for t, items in updates.items():
        fd_t = store.load("fd", *t)
        flat_view = fd_t.reshape(-1)
        for local, values in items:
            flat_view[local] = values
        store.save("fd", *t, fd_t, ring=False)
    for t in tiles:
        store.save_ring("fd", *t, store.load("fd", *t, mmap=True))  # the edges, now final
    log.info("tiled MFD directions: %d plateaus across tile edges, the largest %d pixels in its box",
             len(groups), largest)
    store.drop("flat")


# --------------------------------------------------------------------------------------------------------------
# MFD accumulation


@njit(cache=True, nogil=True)
def _acc_start(fdp: np.ndarray, accp: np.ndarray, top: int, left: int, h: int,
               w: int) -> tuple[np.ndarray, np.ndarray]:
    """How many upstream values each core pixel still waits for, and the pixels that wait for none."""
    rows, cols = fdp.shape
    indeg = np.zeros(h * w, dtype=np.int8)  # at most 8 upstream neighbours
    ready = np.empty(1024, dtype=np.int64)
    tail = 0
    for r in range(h):
        for c in range(w):
            pr, pc = r + top, c + left
            if fdp[pr, pc] == 0 or not np.isnan(accp[pr, pc]):
                continue
            count = 0
            for i in range(8):
                rn = pr + ROW_OFFSETS[i]
                cn = pc + COL_OFFSETS[i]
                if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                    continue
                if (fdp[rn, cn] >> (INFLOW[i] * 4)) & 0xF and np.isnan(accp[rn, cn]):
                    count += 1
            indeg[r * w + c] = count
            if count == 0:
                ready, tail = _push(ready, tail, r * w + c)
    return indeg, ready[:tail]


@njit(cache=True, nogil=True)
def _acc_halo(fdp: np.ndarray, accp: np.ndarray, halo: np.ndarray, values: np.ndarray, indeg: np.ndarray,
              top: int, left: int, h: int, w: int) -> np.ndarray:
    """Halo pixels (padded flat indices) that gained a value: store it, and count it off their core
    downstream neighbours; returns those now ready."""
    cols = fdp.shape[1]
    ready = np.empty(1024, dtype=np.int64)
    tail = 0
    for j in range(len(halo)):
        pr = halo[j] // cols
        pc = halo[j] - pr * cols
        accp[pr, pc] = values[j]
        v = fdp[pr, pc]
        for i in range(8):
            if ((v >> (i * 4)) & 0xF) == 0:
                continue
            r = pr + ROW_OFFSETS[i] - top
            c = pc + COL_OFFSETS[i] - left
            if r < 0 or r >= h or c < 0 or c >= w:
                continue
            k = r * w + c
            indeg[k] -= 1
            if indeg[k] == 0:
                ready, tail = _push(ready, tail, k)
    return ready[:tail]


@njit(cache=True, nogil=True)
def _acc_run(fdp: np.ndarray, accp: np.ndarray, indeg: np.ndarray, ready: np.ndarray, top: int, left: int,
             h: int, w: int, stack: np.ndarray) -> int:
    """Give the ready pixels, and every pixel they complete, their accumulation in the in-memory kernel's
    order (own weight 1, then neighbours 0..7); returns how many were given one."""
    rows, cols = fdp.shape
    # a stack, not a queue: a pixel just completed is next to the one that completed it (memory locality); each
    # pixel is pushed once at most, so ``stack`` (h*w long, shared by all tiles) never grows (growing a buffer
    # through _push costs 6x here)
    top_ = len(ready)
    stack[:top_] = ready[::-1]
    done = 0
    while top_ > 0:
        top_ -= 1
        k = stack[top_]
        done += 1
        r = k // w
        c = k - r * w
        pr, pc = r + top, c + left
        val = 1.0
        for i in range(8):
            rn = pr + ROW_OFFSETS[i]
            cn = pc + COL_OFFSETS[i]
            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                continue
            up = fdp[rn, cn]
            wgt = (up >> (INFLOW[i] * 4)) & 0xF
            if wgt == 0:
                continue
            val += accp[rn, cn] * wgt / float(mfd_sum(up))
        accp[pr, pc] = val
        v = fdp[pr, pc]
        for i in range(8):
            if ((v >> (i * 4)) & 0xF) == 0:
                continue
            rn = r + ROW_OFFSETS[i]
            cn = c + COL_OFFSETS[i]
            if rn < 0 or rn >= h or cn < 0 or cn >= w:
                continue
            kn = rn * w + cn
            indeg[kn] -= 1
            if indeg[kn] == 0:
                stack[top_] = kn
                top_ += 1
    return done


def resident_tiles(tile: int) -> int:
    """How many tiles' accumulation work (13 bytes a pixel) fits in ``GEP_TERRAIN_MEMORY_MB`` (at least 4)."""
    budget = float(os.environ.get("GEP_TERRAIN_MEMORY_MB", "2048")) * 2**20
    return max(4, int(budget // (13 * tile * tile)))


def tiled_accumulation_mfd(store: TileStore, resident: int | None = None) -> int:
    """"fd" -> "acc", equal to :func:`gep.accounting.terrain.flow_accumulation_mfd` (unweighted).

    Tiles are visited from a worklist: each gives every pixel whose upstream is known its value, and a tile is
    visited again when a neighbour's edge gains values that flow into it, continuing where it stopped (at most
    ``resident`` tiles are kept in memory, by default as many as ``GEP_TERRAIN_MEMORY_MB`` holds; the others wait
    on disk). Returns the number of visits."""
    tiles = store.tiles()
    resident = resident or resident_tiles(store.tile)
    stack = np.empty(store.tile * store.tile, dtype=np.int64)
    rings: dict[tuple[int, int], np.ndarray] = {}
    for t in tiles:
        h, w = store.dims(*t)
        rings[t] = np.full(2 * (h + w), np.nan)
    states: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray, int, int]] = {}
    queued, visits = dict.fromkeys(tiles), 0  # an ordered set

    def evict() -> None:
        while len(states) > resident:
            t = next(iter(states))
            _, accp, indeg, _, _ = states.pop(t)
            store.save("accp", *t, accp, ring=False)
            store.save("indeg", *t, indeg, ring=False)

    while queued:
        # a tile in memory first: two tiles passing a river back and forth finish it between them
        t = next((q for q in queued if q in states), next(iter(queued)))
        del queued[t]
        visits += 1
        h, w = store.dims(*t)
        if t in states:
            state = states.pop(t)
        elif store.has("accp", *t):
            fdp, top, left = store.padded("fd", *t, store.load("fd", *t))
            state = (fdp, store.load("accp", *t), store.load("indeg", *t), top, left)
        else:
            fdp, top, left = store.padded("fd", *t, store.load("fd", *t))
            accp, _, _ = store.padded("acc", *t, np.full((h, w), np.nan), rings=lambda i, j: rings[i, j])
            indeg, ready = _acc_start(fdp, accp, top, left, h, w)
            state = (fdp, accp, indeg, top, left)
            _acc_run(fdp, accp, indeg, ready, top, left, h, w, stack)
        states[t] = state
        fdp, accp, indeg, top, left = state
        # values the neighbours gained since this tile last looked
        idx, vals = store.halo(*t, lambda i, j: rings[i, j])
        fresh = np.isnan(accp.ravel()[idx]) & ~np.isnan(vals)
        if fresh.any():
            ready = _acc_halo(fdp, accp, idx[fresh], vals[fresh], indeg, top, left, h, w)
            _acc_run(fdp, accp, indeg, ready, top, left, h, w, stack)
        ring = _ring(accp[top : top + h, left : left + w])
        new = np.isnan(rings[t]) & ~np.isnan(ring)
        rings[t] = ring
        evict()
        if not new.any():
            continue
        sides = {s: _ring_part(new, h, w, s).any() for s in ("top", "bottom", "left", "right")}
        for di, dj in NEIGHBOURS:
            n = (t[0] + di, t[1] + dj)
            if not store.exists(*n) or n in queued:
                continue
            if (di == -1 and not sides["top"]) or (di == 1 and not sides["bottom"]) or \
               (dj == -1 and not sides["left"]) or (dj == 1 and not sides["right"]):
                continue
            queued[n] = None
    for t in tiles:
        h, w = store.dims(*t)
        if t in states:
            _, accp, _, top, left = states.pop(t)
        else:
            accp, (top, left) = store.load("accp", *t), store.padded_offsets(*t)
        store.save("acc", *t, np.ascontiguousarray(accp[top : top + h, left : left + w]), ring=False)
    store.drop("accp", "indeg")
    log.info("tiled MFD accumulation: %d tiles, %d visits", len(tiles), visits)
    return visits


# --------------------------------------------------------------------------------------------------------------
# slope, and the whole chain


def _slope_tile(store: TileStore, ti: int, tj: int, xcs: float, ycs: float) -> None:
    zp, top, left = store.padded("F", ti, tj, store.load("F", ti, tj))
    mp, _, _ = store.padded("mask", ti, tj, store.load("mask", ti, tj))
    h, w = store.dims(ti, tj)
    store.save("slope", ti, tj, np.ascontiguousarray(terrain.slope_serial(zp, mp, xcs, ycs)[top : top + h,
                                                                                         left : left + w]),
               ring=False)


def tiled_slope(store: TileStore, pool: Executor, pixel_size: tuple[float, float]) -> None:
    """"F" and "mask" -> "slope", equal to :func:`gep.accounting.terrain.slope_percent`."""
    _run(pool, _slope_tile, [(store, ti, tj, float(pixel_size[0]), float(pixel_size[1]))
                             for ti, tj in store.tiles()])


def ingest(store: TileStore, ti: int, tj: int, dem: np.ndarray, nodata_height: float) -> None:
    """Write one tile of a DEM (NaN = off the DEM) as "z" and "mask"."""
    mask = ~np.isfinite(dem)
    store.save("z", ti, tj, np.where(mask, nodata_height, dem).astype(np.float64), ring=False)
    store.save("mask", ti, tj, mask)


def route_tiled(store: TileStore, cell_size: float, client: Any = None) -> None:
    """Fill, MFD directions, MFD accumulation and slope of the ingested DEM, leaving "slope" and "acc" (and
    "mask") in the store: soil retention's routed DEM (``routed_dem``) without holding it in memory."""
    clock = _Clock(f"routing {store.shape[0]}x{store.shape[1]} in {len(store.tiles())} tiles")
    with _executor(client) as pool:
        tiled_fill(store, pool)
        store.drop("z")
        clock.lap("fill")
        tiled_flow_dir_mfd(store, pool)
        clock.lap("MFD directions")
        tiled_slope(store, pool, (cell_size, -cell_size))
        clock.lap("slope")
    tiled_accumulation_mfd(store)
    clock.lap("MFD accumulation")
    store.drop("F", "fd")
    log.info("%s", clock)


class _Clock:
    """Seconds per stage, for the operator's log (and docs/scale.md's breakdown)."""

    def __init__(self, what: str) -> None:
        self.what, self.t0 = what, time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = now - self.t0
        self.t0 = now

    def __str__(self) -> str:
        return f"{self.what}: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.laps.items())


def scratch_store(shape: tuple[int, int], tile: int, parent: Path | None = None) -> TileStore:
    """A new, empty store in a fresh folder under ``parent`` (default: the system's temporary folder)."""
    root = Path(tempfile.mkdtemp(prefix="gep-terrain-", dir=parent))
    return TileStore(root, (int(shape[0]), int(shape[1])), int(tile))


def store_from_arrays(dem: np.ndarray, mask: np.ndarray, tile: int, parent: Path | None = None) -> TileStore:
    """Tiles of in-memory arrays, for tests and small rasters ("z" and "mask")."""
    store = scratch_store(dem.shape, tile, parent)
    for ti, tj in store.tiles():
        r0, r1, c0, c1 = store.bounds(ti, tj)
        store.save("z", ti, tj, np.ascontiguousarray(dem[r0:r1, c0:c1], dtype=np.float64), ring=False)
        store.save("mask", ti, tj, np.ascontiguousarray(mask[r0:r1, c0:c1], dtype=np.bool_))
    return store


def assemble(store: TileStore, name: str) -> np.ndarray:
    """A stored array in one piece (tests and small rasters only)."""
    return store.window(name, 0, store.shape[0], 0, store.shape[1])

