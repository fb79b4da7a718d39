"""Terrain routing kernels: pit filling, D8/MFD flow, accumulation, streams, slope, LS.

Every kernel is a pure array function (numpy in, numpy out, no paths) compiled with numba.
They reproduce pygeoprocessing 2.4.x ``routing`` / ``geoprocessing_core`` semantics so that an
InVEST-compatible SDR can match InVEST 3.20 per pixel:

* arrays are ``(rows, cols)``; neighbour ``i`` follows pygeoprocessing's convention::

      3 2 1
      4 x 0
      5 6 7

* nodata in float inputs is a boolean ``mask`` (True = nodata) built with :func:`nodata_mask`,
  which uses pygeoprocessing's ``is_close`` test; float outputs use NaN for nodata;
* D8 directions are ``uint8`` with 128 for "no direction" (pygeoprocessing's nodata);
* MFD directions are ``int32`` packing eight 4-bit weights (``0xF & (x >> 4*i)``), 0 = none;
* streams are ``uint8``: 1 stream, 0 not, 255 nodata.

Kernels whose result depends on visiting order (plateau resolution, MFD stream tracing) visit
pixels in pygeoprocessing's order: 256x256 blocks, row-major, rows within a block
(``block_size``). Weights given to accumulation / distance use NaN for nodata (counted as 0,
like pygeoprocessing does with weight nodata).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from gep.accounting.jit import njit, prange
from gep.errors import N_, GepError

__all__ = [
    "BYTES_PER_PIXEL",
    "D8_NODATA",
    "TerrainTooLarge",
    "check_fits",
    "distance_to_channel_d8",
    "distance_to_channel_mfd",
    "extract_streams_d8",
    "extract_streams_mfd",
    "fill_pits",
    "flat_blocks",
    "flow_accumulation_d8",
    "flow_accumulation_mfd",
    "flow_dir_d8",
    "flow_dir_mfd",
    "ls_factor",
    "nodata_mask",
    "slope_percent",
]

D8_NODATA = 128
STREAM_NODATA = 255
SQRT2 = 1.4142135623730951
SQRT2_INV = 1.0 / 1.4142135623730951
COL_OFFSETS = np.array([1, 1, 0, -1, -1, -1, 0, 1], dtype=np.int64)
ROW_OFFSETS = np.array([0, -1, -1, -1, 0, 1, 1, 1], dtype=np.int64)
INFLOW = np.array([4, 5, 6, 7, 0, 1, 2, 3], dtype=np.int64)

# Peak resident bytes per DEM pixel for fill -> MFD -> accumulation -> slope -> LS, counting
# inputs, outputs and worst-case work queues alive at the same time (see docs/terrain.md).
BYTES_PER_PIXEL = 96


class TerrainTooLarge(GepError, MemoryError):
    """The DEM does not fit in memory for in-core routing."""


def check_fits(shape: tuple[int, int], available_bytes: int | None = None) -> int:
    """Raise TerrainTooLarge unless a DEM of ``shape`` fits in ``available_bytes``.

    Routing is in-core (no tiled path): the whole pipeline needs about ``BYTES_PER_PIXEL``
    bytes per pixel. ``available_bytes`` defaults to the machine's available memory.
    Returns the number of bytes needed.
    """
    rows, cols = int(shape[0]), int(shape[1])
    need = rows * cols * BYTES_PER_PIXEL
    if available_bytes is None:
        available_bytes = _available_memory()
    if need > available_bytes:
        largest = int((available_bytes / BYTES_PER_PIXEL) ** 0.5)
        raise TerrainTooLarge(
            N_("DEM {rows}x{cols} needs about {need:.1f} GiB for in-core routing ({per_pixel} bytes/pixel) but only "
               "{available:.1f} GiB is available; the limit here is about {largest}x{largest} pixels. Coarsen or "
               "split the DEM (by watershed) and route the parts separately."),
            rows=rows, cols=cols, need=need / 2**30, per_pixel=BYTES_PER_PIXEL, available=available_bytes / 2**30,
            largest=largest,
        )
    return need


def _available_memory() -> int:
    """MemAvailable from /proc/meminfo, else total physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def nodata_mask(values: np.ndarray, nodata: float | None) -> np.ndarray:
    """Pixels pygeoprocessing treats as nodata: ``|x - nodata| <= 1e-8 + 1e-5*|nodata|``, or NaN."""
    values = np.asarray(values, dtype=np.float64)
    mask = np.isnan(values)
    if nodata is not None:
        mask |= np.abs(values - nodata) <= (1e-8 + 1e-05 * abs(float(nodata)))
    return mask


# --------------------------------------------------------------------------------------------
# small queue helpers (numba): FIFO with growth, since plateau drains can be re-queued


@njit(cache=True, inline="always")
def _room(buf: np.ndarray, need: int) -> np.ndarray:
    """buf, or a copy twice as long when `need` entries do not fit: stacks grow as deep as the walk goes rather
    than being allocated for every pixel (a walk up a river network rarely holds more than a small share)."""
    if need <= buf.shape[0]:
        return buf
    new = np.empty(max(need, buf.shape[0] * 2 + 16), dtype=buf.dtype)
    new[: buf.shape[0]] = buf
    return new


@njit(cache=True, inline="always")
def _push(buf: np.ndarray, tail: int, value: int) -> tuple[np.ndarray, int]:
    buf = _room(buf, tail + 1)
    buf[tail] = value
    return buf, tail + 1


# --------------------------------------------------------------------------------------------
# fill_pits


@njit(cache=True)
def _heap_push(hv, hi, size, v, idx):  # type: ignore[no-untyped-def]
    k = size
    hv[k] = v
    hi[k] = idx
    while k > 0:
        p = (k - 1) >> 1
        if hv[p] > hv[k] or (hv[p] == hv[k] and hi[p] > hi[k]):
            hv[p], hv[k] = hv[k], hv[p]
            hi[p], hi[k] = hi[k], hi[p]
            k = p
        else:
            break
    return size + 1


@njit(cache=True)
def _heap_pop(hv, hi, size):  # type: ignore[no-untyped-def]
    idx = hi[0]
    size -= 1
    hv[0] = hv[size]
    hi[0] = hi[size]
    k = 0
    while True:
        left = 2 * k + 1
        if left >= size:
            break
        c = left
        right = left + 1
        if right < size and (hv[right] < hv[left] or (hv[right] == hv[left] and hi[right] < hi[left])):
            c = right
        if hv[c] < hv[k] or (hv[c] == hv[k] and hi[c] < hi[k]):
            hv[c], hv[k] = hv[k], hv[c]
            hi[c], hi[k] = hi[k], hi[c]
            k = c
        else:
            break
    return idx, size


@njit(cache=True, nogil=True)
def _fill_pits(dem: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rows, cols = dem.shape
    n = rows * cols
    filled = dem.copy().ravel()
    m = mask.ravel()
    closed = np.zeros(n, dtype=np.uint8)
    hv = np.empty(n, dtype=np.float64)
    hi = np.empty(n, dtype=np.int64)
    size = 0
    # each pixel enters the pit queue once at most; untouched pages of np.empty cost no memory, while growing
    # the queue through _push (an array reassigned in the loop) makes numba's loop ~15 % slower
    pit = np.empty(n, dtype=np.int64)
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            if m[k]:
                closed[k] = 1
                continue
            seed = r == 0 or c == 0 or r == rows - 1 or c == cols - 1
            if not seed:
                for i in range(8):
                    if m[(r + ROW_OFFSETS[i]) * cols + c + COL_OFFSETS[i]]:
                        seed = True
                        break
            if seed:
                closed[k] = 1
                size = _heap_push(hv, hi, size, filled[k], k)
    head = 0
    tail = 0
    while size > 0 or head < tail:
        if head < tail:
            k = pit[head]
            head += 1
            if head == tail:
                head = 0
                tail = 0
        else:
            k, size = _heap_pop(hv, hi, size)
        r = k // cols
        c = k - r * cols
        h = filled[k]
        for i in range(8):
            rn = r + ROW_OFFSETS[i]
            cn = c + COL_OFFSETS[i]
            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                continue
            kn = rn * cols + cn
            if closed[kn]:
                continue
            closed[kn] = 1
            if filled[kn] <= h:
                filled[kn] = h
                pit[tail] = kn
                tail += 1
            else:
                size = _heap_push(hv, hi, size, filled[kn], kn)
    return filled.reshape(rows, cols)


def fill_pits(dem: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Raise every depression to its pour point (reproduces ``routing.fill_pits``).

    Pixels drain off the raster edge or into nodata. pygeoprocessing fills each undrained
    region to the height of its lowest pour point; the fixed point of that is the
    priority-flood result computed here, so values are bit-identical. Nodata pixels are
    returned unchanged.
    """
    return _fill_pits(np.ascontiguousarray(dem, dtype=np.float64), np.ascontiguousarray(mask, dtype=np.bool_))


# --------------------------------------------------------------------------------------------
# D8 flow direction


@njit(cache=True, inline="always")
def _drop(dem: np.ndarray, mask: np.ndarray, r: int, c: int, i: int) -> float:  # pragma: no cover - compiled
    """The drop from (r, c) to its neighbour i, divided by √2 on diagonals as the scans do; −1 for a neighbour
    off the raster or nodata (only positive drops count, so it is never taken)."""
    rn = r + ROW_OFFSETS[i]
    cn = c + COL_OFFSETS[i]
    if rn < 0 or rn >= dem.shape[0] or cn < 0 or cn >= dem.shape[1] or mask[rn, cn]:
        return -1.0
    s = dem[r, c] - dem[rn, cn]
    return s * SQRT2_INV if i & 1 else s


@njit(cache=True, parallel=True)
def _d8_local(dem: np.ndarray, mask: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """The steepest descent of every pixel with a lower neighbour (D8_NODATA elsewhere), rows in parallel:
    `_flow_dir_d8`'s scan gives those pixels the same direction from their 3×3 window alone."""
    rows, cols = dem.shape
    fd = np.full((rows, cols), D8_NODATA, dtype=np.uint8)
    for r in prange(rows):
        for c in range(cols):
            if mask[r, c]:
                continue
            best_dir = -1
            best = 0.0
            for i in range(8):
                s = _drop(dem, mask, r, c, i)
                if s > best:
                    best_dir = i
                    best = s
            if best_dir >= 0:
                fd[r, c] = best_dir
    return fd


@njit(cache=True, nogil=True)
def _flow_dir_d8(dem: np.ndarray, mask: np.ndarray, bs: int, seed: np.ndarray) -> np.ndarray:
    rows, cols = dem.shape
    n = rows * cols
    z = dem.ravel()
    m = mask.ravel()
    fd = seed.ravel()
    flat = np.zeros(n, dtype=np.uint8)
    dist = np.full(n, float(n), dtype=np.float64)
    search = np.empty(n, dtype=np.int64)
    drain = np.empty(1024, dtype=np.int64)
    nd_cells = np.empty(n, dtype=np.int64)
    nd_dirs = np.empty(n, dtype=np.int64)
    for by in range(0, rows, bs):
        for bx in range(0, cols, bs):
            for r in range(by, min(by + bs, rows)):
                for c in range(bx, min(bx + bs, cols)):
                    k = r * cols + c
                    if m[k] or fd[k] != D8_NODATA:
                        continue
                    root_h = z[k]
                    best_dir = -1
                    best = 0.0
                    for i in range(8):
                        rn = r + ROW_OFFSETS[i]
                        cn = c + COL_OFFSETS[i]
                        if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                            continue
                        kn = rn * cols + cn
                        if m[kn]:
                            continue
                        s = root_h - z[kn]
                        if i & 1:
                            s *= SQRT2_INV
                        if s > best:
                            best_dir = i
                            best = s
                    if best_dir >= 0:
                        fd[k] = best_dir
                        continue
                    # plateau: breadth-first over the equal-height region collecting drains
                    s_head = 0
                    s_tail = 0
                    search[s_tail] = k
                    s_tail += 1
                    flat[k] = 1
                    d_tail = 0
                    nd_tail = 0
                    while s_head < s_tail:
                        q = search[s_head]
                        s_head += 1
                        rq = q // cols
                        cq = q - rq * cols
                        best_dir = -1
                        best = 0.0
                        diagonal_nodata = 1
                        for i in range(8):
                            rn = rq + ROW_OFFSETS[i]
                            cn = cq + COL_OFFSETS[i]
                            outside = rn < 0 or rn >= rows or cn < 0 or cn >= cols
                            kn = rn * cols + cn
                            if outside or m[kn]:
                                if diagonal_nodata and best == 0.0:
                                    best_dir = i
                                    diagonal_nodata = i & 1
                                continue
                            s = root_h - z[kn]
                            if s < 0:
                                continue
                            if s == 0.0:
                                if flat[kn] == 0:
                                    search[s_tail] = kn
                                    s_tail += 1
                                    flat[kn] = 1
                                continue
                            if i & 1:
                                s *= SQRT2_INV
                            if s > best:
                                best = s
                                best_dir = i
                        if best_dir >= 0:
                            if best > 0.0:
                                fd[q] = best_dir
                                dist[q] = 0.0
                                drain, d_tail = _push(drain, d_tail, q)
                            else:
                                nd_cells[nd_tail] = q
                                nd_tail += 1
                                nd_dirs[nd_tail - 1] = best_dir
                    if d_tail == 0:
                        for j in range(nd_tail):
                            q = nd_cells[j]
                            fd[q] = nd_dirs[j]
                            dist[q] = 0.0
                            drain, d_tail = _push(drain, d_tail, q)
                    d_head = 0
                    while d_head < d_tail:
                        q = drain[d_head]
                        d_head += 1
                        rq = q // cols
                        cq = q - rq * cols
                        dq = dist[q]
                        for i in range(8):
                            rn = rq + ROW_OFFSETS[i]
                            cn = cq + COL_OFFSETS[i]
                            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                                continue
                            kn = rn * cols + cn
                            nd = dq + (SQRT2 if i & 1 else 1.0)
                            if z[kn] == root_h and dist[kn] > nd:
                                fd[kn] = INFLOW[i]
                                dist[kn] = nd
                                drain, d_tail = _push(drain, d_tail, kn)
    return fd.reshape(rows, cols)

def flow_dir_d8(filled: np.ndarray, mask: np.ndarray, block_size: int = 256) -> np.ndarray:
    """Steepest-descent direction (reproduces ``routing.flow_dir_d8``).

    Diagonal drops are divided by sqrt(2); ties keep the lowest index. Flat regions drain
    to their nearest downhill exit (shortest 1/sqrt(2) path), else to the raster edge or
    nodata (a straight edge preferred over a diagonal one). Undrained pixels and nodata get
    128. ``block_size`` is the DEM tiling pygeoprocessing iterated (affects plateau ties).
    """
    dem = np.ascontiguousarray(filled, dtype=np.float64)
    nodata = np.ascontiguousarray(mask, dtype=np.bool_)
    return _flow_dir_d8(dem, nodata, int(block_size), _d8_local(dem, nodata))


# --------------------------------------------------------------------------------------------
# MFD flow direction


@njit(cache=True)
def _pack(weights: np.ndarray, total: float) -> int:
    packed = 0
    for i in range(8):
        packed |= int(0.5 + weights[i] / total * 15.0) << (i * 4)
    return packed


@njit(cache=True, parallel=True)
def _mfd_local(dem: np.ndarray, mask: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """The directions of every pixel with a lower neighbour (0 elsewhere), rows in parallel.

    Each is a function of the pixel's 3×3 window only, with the same operations as `_flow_dir_mfd`'s scan
    (drop, /√2 on diagonals, summed in neighbour order, `_pack`), so seeding the scan with them changes
    nothing but the time: the scan is left with the plateaus, which need a search."""
    rows, cols = dem.shape
    fd = np.zeros((rows, cols), dtype=np.int32)
    for r in prange(rows):
        for c in range(cols):
            if mask[r, c]:
                continue
            total = 0.0
            for i in range(8):
                s = _drop(dem, mask, r, c, i)
                if s > 0.0:
                    total += s
            if total > 0.0:
                packed = 0
                for i in range(8):
                    s = _drop(dem, mask, r, c, i)
                    packed |= int(0.5 + (s if s > 0.0 else 0.0) / total * 15.0) << (i * 4)
                fd[r, c] = packed
    return fd


@njit(cache=True, nogil=True)
def _flow_dir_mfd(dem: np.ndarray, mask: np.ndarray, bs: int) -> np.ndarray:
    return _flow_dir_mfd_seeded(dem, mask, bs, np.zeros(dem.shape, dtype=np.int32))


@njit(cache=True, nogil=True)
def _flow_dir_mfd_seeded(dem: np.ndarray, mask: np.ndarray, bs: int, seed: np.ndarray) -> np.ndarray:
    rows, cols = dem.shape
    n = rows * cols
    z = dem.ravel()
    m = mask.ravel()
    fd = seed.ravel()
    flat = np.zeros(n, dtype=np.uint8)
    drain_mask = np.zeros(n, dtype=np.uint8)
    dist_nodata = float(n)
    dist = np.full(n, dist_nodata, dtype=np.float64)
    slopes = np.zeros(8, dtype=np.float64)
    nd_slopes = np.zeros(8, dtype=np.float64)
    search = np.empty(n, dtype=np.int64)
    drain = np.empty(1024, dtype=np.int64)
    direction = np.empty(n, dtype=np.int64)
    nd_cells = np.empty(n, dtype=np.int64)
    nd_dirs = np.empty(n, dtype=np.int64)
    for by in range(0, rows, bs):
        for bx in range(0, cols, bs):
            for r in range(by, min(by + bs, rows)):
                for c in range(bx, min(bx + bs, cols)):
                    k = r * cols + c
                    if m[k] or fd[k] != 0:
                        continue
                    root_h = z[k]
                    total = 0.0
                    for i in range(8):
                        slopes[i] = 0.0
                        rn = r + ROW_OFFSETS[i]
                        cn = c + COL_OFFSETS[i]
                        if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                            continue
                        kn = rn * cols + cn
                        if m[kn]:
                            continue
                        s = root_h - z[kn]
                        if s > 0.0:
                            if i & 1:
                                s *= SQRT2_INV
                            slopes[i] = s
                            total += s
                    if total > 0.0:
                        fd[k] = _pack(slopes, total)
                        continue
                    # PHASE 2: find the plateau's drains
                    s_head = 0
                    s_tail = 0
                    search[s_tail] = k
                    s_tail += 1
                    flat[k] = 1
                    d_tail = 0
                    nd_tail = 0
                    while s_head < s_tail:
                        q = search[s_head]
                        s_head += 1
                        rq = q // cols
                        cq = q - rq * cols
                        total = 0.0
                        nd_total = 0.0
                        for i in range(8):
                            slopes[i] = 0.0
                            nd_slopes[i] = 0.0
                            rn = rq + ROW_OFFSETS[i]
                            cn = cq + COL_OFFSETS[i]
                            outside = rn < 0 or rn >= rows or cn < 0 or cn >= cols
                            kn = rn * cols + cn
                            if outside or m[kn]:
                                s = SQRT2_INV if i & 1 else 1.0
                                nd_total += s
                                nd_slopes[i] = s
                                continue
                            s = root_h - z[kn]
                            if s < 0:
                                continue
                            if s == 0.0:
                                if flat[kn] == 0:
                                    search[s_tail] = kn
                                    s_tail += 1
                                    flat[kn] = 1
                                continue
                            if i & 1:
                                s *= SQRT2_INV
                            slopes[i] = s
                            total += slopes[i]
                        if total > 0.0:
                            fd[q] = _pack(slopes, total)
                            dist[q] = 0.0
                            drain_mask[q] = 1
                            drain, d_tail = _push(drain, d_tail, q)
                        elif nd_total > 0.0:
                            nd_cells[nd_tail] = q
                            nd_tail += 1
                            nd_dirs[nd_tail - 1] = _pack(nd_slopes, nd_total)
                    if d_tail == 0:
                        for j in range(nd_tail):
                            q = nd_cells[j]
                            fd[q] = nd_dirs[j]
                            dist[q] = 0.0
                            drain_mask[q] = 1
                            drain, d_tail = _push(drain, d_tail, q)
                    dir_tail = 0
                    for j in range(d_tail):
                        direction[dir_tail] = drain[j]
                        dir_tail += 1
                    # PHASE 3: distance to the nearest drain across the plateau
                    d_head = 0
                    while d_head < d_tail:
                        q = drain[d_head]
                        d_head += 1
                        rq = q // cols
                        cq = q - rq * cols
                        dq = dist[q]
                        for i in range(8):
                            rn = rq + ROW_OFFSETS[i]
                            cn = cq + COL_OFFSETS[i]
                            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                                continue
                            kn = rn * cols + cn
                            nd = dq + (SQRT2 if i & 1 else 1.0)
                            if z[kn] == root_h and dist[kn] > nd:
                                dist[kn] = nd
                                drain, d_tail = _push(drain, d_tail, kn)
                    # PHASE 4: flow towards neighbours nearer to a drain
                    dir_head = 0
                    while dir_head < dir_tail:
                        q = direction[dir_head]
                        dir_head += 1
                        rq = q // cols
                        cq = q - rq * cols
                        dq = dist[q]
                        total = 0.0
                        for i in range(8):
                            slopes[i] = 0.0
                            rn = rq + ROW_OFFSETS[i]
                            cn = cq + COL_OFFSETS[i]
                            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                                continue
                            kn = rn * cols + cn
                            if z[kn] != root_h:
                                continue
                            ndist = dist[kn]
                            if ndist == dist_nodata:
                                continue
                            if ndist < dq:
                                s = SQRT2_INV if i & 1 else 1.0
                                slopes[i] = s
                                total += s
                            elif not drain_mask[kn]:
                                direction[dir_tail] = kn
                                dir_tail += 1
                                drain_mask[kn] = 1
                        if total == 0:
                            continue
                        fd[q] = _pack(slopes, total)
    return fd.reshape(rows, cols)

def flow_dir_mfd(filled: np.ndarray, mask: np.ndarray, block_size: int = 256) -> np.ndarray:
    """Multiple-flow-direction weights packed in int32 (reproduces ``routing.flow_dir_mfd``).

    Weight to each lower neighbour is proportional to the drop (diagonals / sqrt(2)),
    quantised as ``int(0.5 + w/sum*15)`` into 4 bits. Plateau pixels flow to every
    equal-height neighbour nearer (1, sqrt(2) steps) to a drain, weights 1 and 1/sqrt(2);
    plateaus with no downhill exit drain to edge / nodata neighbours. 0 = no flow.
    """
    dem = np.ascontiguousarray(filled, dtype=np.float64)
    nodata = np.ascontiguousarray(mask, dtype=np.bool_)
    return _flow_dir_mfd_seeded(dem, nodata, int(block_size), _mfd_local(dem, nodata))


# --------------------------------------------------------------------------------------------
# flow accumulation


@njit(cache=True)
def _weight_at(weight: np.ndarray, use_weight: bool, k: int) -> float:
    if not use_weight:
        return 1.0
    w = weight[k]
    if np.isnan(w):
        return 0.0
    return w


@njit(cache=True, nogil=True)
def _flow_accumulation_d8(fd2: np.ndarray, weight2: np.ndarray, use_weight: bool) -> np.ndarray:
    rows, cols = fd2.shape
    n = rows * cols
    fd = fd2.ravel()
    weight = weight2.ravel()
    acc = np.full(n, np.nan, dtype=np.float64)
    done = np.zeros(n, dtype=np.uint8)
    st_k = np.empty(n, dtype=np.int64)
    st_d = np.empty(n, dtype=np.int8)
    st_v = np.empty(n, dtype=np.float64)
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            d = fd[k]
            if d == D8_NODATA:
                continue
            rn = r + ROW_OFFSETS[d]
            cn = c + COL_OFFSETS[d]
            if not (rn < 0 or rn >= rows or cn < 0 or cn >= cols) and fd[rn * cols + cn] != D8_NODATA:
                continue
            top = 0
            st_k[0] = k
            st_d[0] = 0
            st_v[0] = _weight_at(weight, use_weight, k)
            top = 1
            while top > 0:
                top -= 1
                p = st_k[top]
                start = st_d[top]
                val = st_v[top]
                rp = p // cols
                cp = p - rp * cols
                preempted = False
                for i in range(start, 8):
                    rn = rp + ROW_OFFSETS[i]
                    cn = cp + COL_OFFSETS[i]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                        continue
                    kn = rn * cols + cn
                    if fd[kn] == D8_NODATA or fd[kn] != INFLOW[i]:
                        continue
                    if not done[kn]:
                        st_k[top] = p
                        st_d[top] = i
                        st_v[top] = val
                        st_k[top + 1] = kn
                        st_d[top + 1] = 0
                        st_v[top + 1] = _weight_at(weight, use_weight, kn)
                        top += 2
                        preempted = True
                        break
                    val += acc[kn]
                if not preempted:
                    acc[p] = val
                    done[p] = 1
    return acc.reshape(rows, cols)


def flow_accumulation_d8(flow_dir: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Upstream sum of weights incl. the pixel itself (reproduces ``flow_accumulation_d8``).

    Weight defaults to 1 (pixel count); NaN weights count as 0. Pixels without a direction
    are NaN.
    """
    fd = np.ascontiguousarray(flow_dir, dtype=np.uint8)
    w = np.zeros((1, 1)) if weight is None else np.ascontiguousarray(weight, dtype=np.float64)
    return _flow_accumulation_d8(fd, w, weight is not None)


@njit(cache=True)
def mfd_sum(v: int) -> int:
    """Sum of the eight 4-bit weights packed in an MFD direction value."""
    total = 0
    for i in range(8):
        total += (v >> (i * 4)) & 0xF
    return total


@njit(cache=True, nogil=True)
def _flow_accumulation_mfd(fd2: np.ndarray, weight2: np.ndarray, use_weight: bool) -> np.ndarray:
    rows, cols = fd2.shape
    n = rows * cols
    fd = fd2.ravel()
    weight = weight2.ravel()
    acc = np.full(n, np.nan, dtype=np.float64)
    visited = np.zeros(n, dtype=np.uint8)
    done = np.zeros(n, dtype=np.uint8)
    st_k = np.empty(n + 1, dtype=np.int64)
    st_d = np.empty(n + 1, dtype=np.int8)
    st_v = np.empty(n + 1, dtype=np.float64)
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            v = fd[k]
            if v == 0:
                continue
            top = 0
            for i in range(8):
                if ((v >> (i * 4)) & 0xF) == 0:
                    continue
                rn = r + ROW_OFFSETS[i]
                cn = c + COL_OFFSETS[i]
                if rn < 0 or rn >= rows or cn < 0 or cn >= cols or fd[rn * cols + cn] == 0:
                    st_k[0] = k
                    st_d[0] = 0
                    st_v[0] = _weight_at(weight, use_weight, k)
                    visited[k] = 1
                    top = 1
                    break
            while top > 0:
                top -= 1
                p = st_k[top]
                start = st_d[top]
                val = st_v[top]
                rp = p // cols
                cp = p - rp * cols
                preempted = False
                for i in range(start, 8):
                    rn = rp + ROW_OFFSETS[i]
                    cn = cp + COL_OFFSETS[i]
                    if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                        continue
                    kn = rn * cols + cn
                    up = fd[kn]
                    w = (up >> (INFLOW[i] * 4)) & 0xF
                    if w == 0:
                        continue
                    if not done[kn] and not visited[kn]:
                        st_k[top] = p
                        st_d[top] = i
                        st_v[top] = val
                        st_k[top + 1] = kn
                        st_d[top + 1] = 0
                        st_v[top + 1] = _weight_at(weight, use_weight, kn)
                        visited[kn] = 1
                        top += 2
                        preempted = True
                        break
                    val += acc[kn] * w / float(mfd_sum(up))
                if not preempted:
                    acc[p] = val
                    done[p] = 1
    return acc.reshape(rows, cols)


def flow_accumulation_mfd(flow_dir: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Weighted MFD accumulation incl. the pixel itself (reproduces ``flow_accumulation_mfd``).

    Each upstream pixel passes ``acc * w_dir / sum(w)`` of its 4-bit weights. NaN weights
    count as 0; pixels with no flow direction are NaN.
    """
    fd = np.ascontiguousarray(flow_dir, dtype=np.int32)
    w = np.zeros((1, 1)) if weight is None else np.ascontiguousarray(weight, dtype=np.float64)
    return _flow_accumulation_mfd(fd, w, weight is not None)


# --------------------------------------------------------------------------------------------
# streams


def extract_streams_d8(flow_accum: np.ndarray, threshold: float) -> np.ndarray:
    """1 where accumulation > threshold (strictly), 0 elsewhere, 255 on NaN (``extract_streams_d8``)."""
    fa = np.asarray(flow_accum, dtype=np.float64)
    out = np.full(fa.shape, STREAM_NODATA, dtype=np.uint8)
    valid = ~np.isnan(fa)
    out[valid] = (fa[valid] > threshold).astype(np.uint8)
    return out


@njit(cache=True, nogil=True)
def _extract_streams_mfd(fa2: np.ndarray, fd2: np.ndarray, threshold: float, trace: float, bs: int) -> np.ndarray:
    rows, cols = fa2.shape
    n = rows * cols
    fa = fa2.ravel()
    fd = fd2.ravel()
    st = np.full(n, STREAM_NODATA, dtype=np.uint8)
    open_set = np.empty(n + 1, dtype=np.int64)
    back = np.empty(n + 1, dtype=np.int64)
    trace_threshold = trace * threshold
    for by in range(0, rows, bs):
        for bx in range(0, cols, bs):
            for r in range(by, min(by + bs, rows)):
                for c in range(bx, min(bx + bs, cols)):
                    k = r * cols + c
                    if np.isnan(fa[k]) or st[k] != STREAM_NODATA:
                        continue
                    st[k] = 0
                    if fa[k] < threshold:
                        continue
                    v = fd[k]
                    is_outlet = False
                    for i in range(8):
                        if ((v >> (i * 4)) & 0xF) == 0:
                            continue
                        rn = r + ROW_OFFSETS[i]
                        cn = c + COL_OFFSETS[i]
                        if rn < 0 or rn >= rows or cn < 0 or cn >= cols or np.isnan(fa[rn * cols + cn]):
                            is_outlet = True
                            break
                    head = 0
                    tail = 0
                    if is_outlet:
                        open_set[tail] = k
                        tail += 1
                        st[k] = 1
                    while head < tail:
                        q = open_set[head]
                        head += 1
                        rq = q // cols
                        cq = q - rq * cols
                        for i in range(8):
                            rn = rq + ROW_OFFSETS[i]
                            cn = cq + COL_OFFSETS[i]
                            if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                                continue
                            kn = rn * cols + cn
                            up = fd[kn]
                            if up == 0:
                                continue
                            if ((up >> (INFLOW[i] * 4)) & 0xF) > 0:
                                sv = st[kn]
                                if sv != 1 and sv != 2:
                                    fav = fa[kn]
                                    if fav >= threshold:
                                        st[kn] = 1
                                        open_set[tail] = kn
                                        tail += 1
                                        b_head = 0
                                        b_tail = 1
                                        back[0] = kn
                                        while b_head < b_tail:
                                            b = back[b_head]
                                            b_head += 1
                                            rb = b // cols
                                            cb = b - rb * cols
                                            vb = fd[b]
                                            for j in range(8):
                                                if ((vb >> (j * 4)) & 0xF) > 0:
                                                    rs = rb + ROW_OFFSETS[j]
                                                    cs = cb + COL_OFFSETS[j]
                                                    if rs < 0 or rs >= rows or cs < 0 or cs >= cols:
                                                        continue
                                                    ks = rs * cols + cs
                                                    if st[ks] == 2:
                                                        st[ks] = 1
                                                        back[b_tail] = ks
                                                        b_tail += 1
                                    elif fav >= trace_threshold:
                                        st[kn] = 2
                                        open_set[tail] = kn
                                        tail += 1
    for k in range(n):
        if st[k] == 2:
            st[k] = 0
    return st.reshape(rows, cols)


def extract_streams_mfd(
    flow_accum: np.ndarray,
    flow_dir: np.ndarray,
    threshold: float,
    trace_threshold_proportion: float = 1.0,
    block_size: int = 256,
) -> np.ndarray:
    """MFD streams traced upstream from outlets (reproduces ``extract_streams_mfd``).

    Pixels with accumulation >= threshold that drain off the raster or into nodata seed a
    trace upstream; upstream pixels >= threshold join, pixels >= ``proportion*threshold``
    join only if a full-threshold pixel is found further up (InVEST SDR passes 0.7).
    """
    if not 0.0 <= trace_threshold_proportion <= 1.0:
        raise ValueError(f"trace_threshold_proportion must be in [0, 1], got {trace_threshold_proportion}")
    return _extract_streams_mfd(
        np.ascontiguousarray(flow_accum, dtype=np.float64),
        np.ascontiguousarray(flow_dir, dtype=np.int32),
        float(threshold),
        float(trace_threshold_proportion),
        int(block_size),
    )


# --------------------------------------------------------------------------------------------
# distance to channel


def _weights(weight: np.ndarray) -> np.ndarray:
    """Path weights as given when float32 (read into float64 exactly, so half the memory of a copy), else
    float64."""
    dtype = np.float32 if weight.dtype == np.float32 else np.float64
    return np.ascontiguousarray(weight, dtype=dtype)


@njit(cache=True, nogil=True)
def _distance_to_channel_d8(fd2: np.ndarray, ch2: np.ndarray, weight2: np.ndarray, use_weight: bool) -> np.ndarray:
    rows, cols = fd2.shape
    n = rows * cols
    fd = fd2.ravel()
    ch = ch2.ravel()
    weight = weight2.ravel()
    out = np.full(n, np.nan, dtype=np.float64)
    st_k = np.empty(4096, dtype=np.int64)
    st_v = np.empty(4096, dtype=np.float64)
    for k0 in range(n):
        if ch[k0] != 1:
            continue
        st_k[0] = k0
        st_v[0] = 0.0
        top = 1
        while top > 0:
            top -= 1
            q = st_k[top]
            val = st_v[top]
            out[q] = val
            if top + 8 > st_k.shape[0]:  # room for every neighbour
                st_k = _room(st_k, top + 8)
                st_v = _room(st_v, top + 8)
            rq = q // cols
            cq = q - rq * cols
            for i in range(8):
                rn = rq + ROW_OFFSETS[i]
                cn = cq + COL_OFFSETS[i]
                if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
                    continue
                kn = rn * cols + cn
                if ch[kn] == 1:
                    continue
                if fd[kn] == INFLOW[i]:
                    if use_weight:
                        w = weight[kn]
                        if np.isnan(w):
                            w = 0.0
                    else:
                        w = SQRT2 if i % 2 else 1.0
                    st_k[top] = kn
                    st_v[top] = w + val
                    top += 1
    return out.reshape(rows, cols)


def distance_to_channel_d8(
    flow_dir: np.ndarray, streams: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """Flow-path length down to the first stream pixel (reproduces ``distance_to_channel_d8``).

    Without weight a step costs 1 or sqrt(2) pixels; with weight each pixel on the path
    (excluding the stream pixel, including the start) adds its own weight (NaN = 0).
    Stream pixels (value 1) are 0; pixels that never reach a stream are NaN.
    """
    fd = np.ascontiguousarray(flow_dir, dtype=np.uint8)
    ch = np.ascontiguousarray(streams, dtype=np.uint8)
    w = np.zeros((1, 1)) if weight is None else _weights(weight)
    return _distance_to_channel_d8(fd, ch, w, weight is not None)


@njit(cache=True, nogil=True, inline="always")
def _mfd_distance_at(fd: np.ndarray, weight: np.ndarray, use_weight: bool, out: np.ndarray, q: int,
                     rows: int, cols: int) -> float:
    """d_q from its downstream neighbours' final distances, summed in neighbour order (NaN when none reaches a
    stream)."""
    v = fd[q]
    rq = q // cols
    cq = q - rq * cols
    sw = 0.0
    swd = 0.0
    for i in range(8):
        fw = (v >> (i * 4)) & 0xF
        if fw == 0:
            continue
        rn = rq + ROW_OFFSETS[i]
        cn = cq + COL_OFFSETS[i]
        if rn < 0 or rn >= rows or cn < 0 or cn >= cols:
            continue
        kn = rn * cols + cn
        nd = out[kn]
        if np.isnan(nd):
            continue
        if use_weight:
            w = float(weight[kn])
            if np.isnan(w):
                w = 0.0
        else:
            w = SQRT2 if i % 2 else 1.0
        sw += fw
        swd += fw * (w + nd)
    return swd / sw if sw != 0 else np.nan


@njit(cache=True, nogil=True)
def _distance_to_channel_mfd(fd2: np.ndarray, ch2: np.ndarray, weight2: np.ndarray, use_weight: bool) -> np.ndarray:
    """Upstream from the streams in topological order: a pixel is computed once every downstream neighbour is
    final (`waiting` counts those left; 255 marks a pixel taken). Each pixel is visited once and its sum runs in
    neighbour order, so the result is the depth-first recursion's, bit for bit."""
    rows, cols = fd2.shape
    n = rows * cols
    fd = fd2.ravel()
    ch = ch2.ravel()
    weight = weight2.ravel()
    out = np.full(n, np.nan, dtype=np.float64)
    waiting = np.zeros(n, dtype=np.uint8)
    for k in range(n):
        v = fd[k]
        if ch[k] == 1 or v == 0:
            continue
        r = k // cols
        c = k - r * cols
        count = 0
        for i in range(8):
            if (v >> (i * 4)) & 0xF == 0:
                continue
            rn = r + ROW_OFFSETS[i]
            cn = c + COL_OFFSETS[i]
            if 0 <= rn < rows and 0 <= cn < cols:
                count += 1
        waiting[k] = count
    stack = np.empty(4096, dtype=np.int64)
    for k0 in range(n):
        if waiting[k0] != 0:
            continue  # not ready yet, or taken
        waiting[k0] = 255
        stack[0] = k0
        top = 1
        while top > 0:
            top -= 1
            q = stack[top]
            if ch[q] == 1:
                out[q] = 0.0
            elif fd[q] != 0:
                out[q] = _mfd_distance_at(fd, weight, use_weight, out, q, rows, cols)
            if top + 8 > stack.shape[0]:
                stack = _room(stack, top + 8)
            rq = q // cols
            cq = q - rq * cols
            for j in range(8):
                ru = rq + ROW_OFFSETS[j]
                cu = cq + COL_OFFSETS[j]
                if ru < 0 or ru >= rows or cu < 0 or cu >= cols:
                    continue
                u = ru * cols + cu
                left = waiting[u]
                if left == 0 or left == 255:
                    continue
                if (fd[u] >> (INFLOW[j] * 4)) & 0xF != 0:  # u drains into q
                    left -= 1
                    if left == 0:
                        left = 255
                        stack[top] = u
                        top += 1
                    waiting[u] = left
    return out.reshape(rows, cols)


def distance_to_channel_mfd(
    flow_dir: np.ndarray, streams: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """Flow-weighted mean path length to a stream (reproduces ``distance_to_channel_mfd``).

    d_i = sum_n p(i,n) (w_n + d_n) over downstream neighbours that reach a stream, where
    w_n is the downstream neighbour's weight (NaN = 0) or the 1 / sqrt(2) step without
    weights. Stream pixels are 0; pixels draining to no stream are NaN.
    """
    fd = np.ascontiguousarray(flow_dir, dtype=np.int32)
    ch = np.ascontiguousarray(streams, dtype=np.uint8)
    w = np.zeros((1, 1)) if weight is None else _weights(weight)
    return _distance_to_channel_mfd(fd, ch, w, weight is not None)


# --------------------------------------------------------------------------------------------
# slope


@njit(cache=True, inline="always")
def _nb(dem: np.ndarray, mask: np.ndarray, r: int, c: int) -> tuple[float, bool]:
    rows, cols = dem.shape
    if r < 0 or r >= rows or c < 0 or c >= cols or mask[r, c]:
        return 0.0, False
    return dem[r, c], True


@njit(cache=True, inline="always")
def _outer_term(p: float, op: bool, q: float, oq: bool, m: float, om: bool, e: float,
                r2: float) -> tuple[float, int]:
    """Difference across a corner pair (p, q) with middle m, falling back to half pairs or the centre e."""
    if op and oq:
        return p - q, 2
    if op and om:
        return p - m, 1
    if om and oq:
        return m - q, 1
    if op:
        return (p - e) * r2, 1
    if oq:
        return (e - q) * r2, 1
    return 0.0, 0


@njit(cache=True, inline="always")
def _middle_term(p: float, op: bool, q: float, oq: bool, e: float) -> tuple[float, int]:
    """Difference across the edge pair (p, q), weighted 2, falling back to the centre e."""
    if op and oq:
        return 2 * (p - q), 4
    if op:
        return 2 * (p - e), 2
    if oq:
        return 2 * (e - q), 2
    return 0.0, 0


@njit(cache=True, inline="always")
def _slope_row(dem: np.ndarray, mask: np.ndarray, xcs: float, ycs: float, r: int, out: np.ndarray) -> None:
    cols = dem.shape[1]
    r2 = 2**0.5
    for c in range(cols):
        if mask[r, c]:
            out[r, c] = np.nan
            continue
        e = dem[r, c]
        a, oa = _nb(dem, mask, r - 1, c - 1)
        b, ob = _nb(dem, mask, r - 1, c)
        cv, oc = _nb(dem, mask, r - 1, c + 1)
        d, od = _nb(dem, mask, r, c - 1)
        f, of = _nb(dem, mask, r, c + 1)
        g, og = _nb(dem, mask, r + 1, c - 1)
        h, oh = _nb(dem, mask, r + 1, c)
        i, oi = _nb(dem, mask, r + 1, c + 1)
        # columns a-c, d-f, g-i give dz/dx; rows a-g, b-h, c-i give dz/dy (same order as before)
        t1, w1 = _outer_term(a, oa, cv, oc, b, ob, e, r2)
        t2, w2 = _middle_term(d, od, f, of, e)
        t3, w3 = _outer_term(g, og, i, oi, h, oh, e, r2)
        dx = 0.0 + t1 + t2 + t3
        xf = w1 + w2 + w3
        t1, w1 = _outer_term(a, oa, g, og, d, od, e, r2)
        t2, w2 = _middle_term(b, ob, h, oh, e)
        t3, w3 = _outer_term(cv, oc, i, oi, f, of, e, r2)
        dy = 0.0 + t1 + t2 + t3
        yf = w1 + w2 + w3
        dzdx = dx / (xf * xcs) if xf != 0 else 0.0
        dzdy = dy / (yf * ycs) if yf != 0 else 0.0
        out[r, c] = np.float32(100.0 * np.sqrt(dzdx * dzdx + dzdy * dzdy))


@njit(cache=True, parallel=True)
def _slope(dem: np.ndarray, mask: np.ndarray, xcs: float, ycs: float) -> np.ndarray:
    out = np.empty(dem.shape, dtype=np.float32)
    for r in prange(dem.shape[0]):
        _slope_row(dem, mask, xcs, ycs, r, out)
    return out


@njit(cache=True, nogil=True)
def slope_serial(dem: np.ndarray, mask: np.ndarray, xcs: float, ycs: float) -> np.ndarray:
    """:func:`slope_percent`'s kernel on one thread, for callers that run tiles on threads of their own
    (numba's default parallel layer must not be entered from two threads at once)."""
    out = np.empty(dem.shape, dtype=np.float32)
    for r in range(dem.shape[0]):
        _slope_row(dem, mask, xcs, ycs, r, out)
    return out


def slope_percent(dem: np.ndarray, mask: np.ndarray, pixel_size: tuple[float, float],
                  parallel: bool = True) -> np.ndarray:
    """Percent slope, float32, NaN on nodata (reproduces ``geoprocessing_core.calculate_slope``).

    3x3 finite differences (Zevenbergen & Thorne with diagonals); pixels outside the raster
    count as nodata, missing neighbours fall back to inline or centre differences (x sqrt(2)).
    ``pixel_size`` is the geotransform's (x, y) size; the sign does not matter. ``parallel=False``
    runs on the calling thread only (for callers running it beside numba-parallel work).
    """
    return (_slope if parallel else slope_serial)(
        np.ascontiguousarray(dem, dtype=np.float64),
        np.ascontiguousarray(mask, dtype=np.bool_),
        float(pixel_size[0]),
        float(pixel_size[1]),
    )


# --------------------------------------------------------------------------------------------
# LS factor (InVEST SDR)


LS_CHUNK_PIXELS = 1 << 18  # 2 MB per float64 temporary


def flat_blocks(size: int, *arrays: np.ndarray) -> Iterator[tuple[np.ndarray, ...]]:
    """Matching flat blocks of `size` pixels from same-shape arrays, for element-wise steps whose temporaries
    should be a block's size, not the raster's. Blocks are views of C-contiguous arrays, so writes into a block
    reach the array (write only into arrays the caller made)."""
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, flat[0].size, size):
        yield tuple(f[start:start + size] for f in flat)


def _ls_chunk(slope: np.ndarray, fa: np.ndarray, cell_size: float, l_max: float) -> np.ndarray:
    """InVEST 3.20 ``_calculate_ls_factor`` on valid pixels, with the same float32/64 mix."""
    cell_area = cell_size**2
    upslope = np.sqrt((fa - 1) * cell_area)
    theta = np.arctan(slope / 100)
    sin_t = np.sin(theta)
    x = np.fabs(sin_t) + np.fabs(np.cos(theta))
    s_factor = np.where(slope < 9, 10.8 * sin_t + 0.03, 16.8 * sin_t - 0.5)
    beta = (sin_t / 0.0896) / (3 * sin_t**0.8 + 0.56)
    steep = slope > 9.0
    m = np.empty(slope.shape, dtype=np.float32)
    m[steep] = beta[steep] / (1 + beta[steep])
    m[~steep] = np.array([0.2, 0.3, 0.4, 0.5])[np.digitize(slope[~steep], np.array([1.0, 3.5, 5.0, 9.0]), right=True)]
    length = ((upslope + cell_area) ** (m + 1) - upslope ** (m + 1)) / (
        (cell_size ** (m + 2)) * (x**m) * (22.13**m)
    )
    length[length > l_max] = l_max
    return length * s_factor


def ls_factor(
    slope: np.ndarray, flow_accum: np.ndarray, cell_size: float, l_max: float, threads: int | None = None
) -> np.ndarray:
    """InVEST SDR LS factor (Desmet & Govers with sqrt(catchment area)), float64, NaN on nodata.

    A = sqrt((FA-1)*cell_area); S = 10.8 sin(t)+0.03 below 9 %, else 16.8 sin(t)-0.5;
    m by slope class (0.2/0.3/0.4/0.5, then beta/(1+beta)); x = |sin t|+|cos t| of the
    slope angle; L capped at ``l_max``. ``slope`` is percent (float32, as calculate_slope
    writes it): the arithmetic keeps InVEST's float32 steps so results agree to ~1e-7.
    Element-wise, run on blocks in threads (numpy releases the GIL). The blocks are small
    (``LS_CHUNK_PIXELS``): each holds about fifteen temporaries, so their size, not the raster's,
    sets this step's memory above its output.
    """
    s32 = np.asarray(slope, dtype=np.float32)
    fa = np.asarray(flow_accum, dtype=np.float64)
    out = np.full(fa.shape, np.nan, dtype=np.float64)
    n_threads = threads or min(os.cpu_count() or 1, 8)

    def work(blocks: tuple[np.ndarray, ...]) -> None:
        sl, fl, block = blocks
        valid = ~(np.isnan(sl) | np.isnan(fl))
        block[valid] = _ls_chunk(sl[valid], fl[valid], float(cell_size), float(l_max))

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        list(pool.map(work, flat_blocks(LS_CHUNK_PIXELS, s32, fa, out)))
    return out
