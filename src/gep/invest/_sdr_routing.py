"""SDR's three flow accumulations (pixels, W, S) in one topological pass, and the upslope-neighbour counts.

InVEST runs pygeoprocessing's accumulation three times (flow_accumulation, w_accumulation, s_accumulation).
Each value is a pure function of its upslope values, summed in a fixed order — the pixel's own weight first,
then neighbours 0..7, each passing ``acc · w / Σw`` (MFD, 4-bit weights) or ``acc`` (D8) — so one pass in any
topological order that keeps that per-pixel order gives the same floats as `gep.accounting.terrain`'s kernels
(which reproduce pygeoprocessing), at a third of the memory traffic.
"""

from __future__ import annotations

import numpy as np

from gep.accounting.jit import njit
from gep.accounting.terrain import COL_OFFSETS, INFLOW, ROW_OFFSETS, mfd_sum


@njit(cache=True, inline="always")
def weight_to(v: int, mfd: bool, n: int) -> int:
    """Weight a pixel with direction value v sends to its neighbour n (D8: 1 for its one direction)."""
    if mfd:
        return (v >> (4 * n)) & 0xF
    return 1 if v == n else 0


@njit(cache=True, nogil=True)
def _upslope_counts(fd: np.ndarray, mfd: bool) -> np.ndarray:
    rows, cols = fd.shape
    counts = np.zeros((rows, cols), dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            v = int(fd[r, c])
            for n in range(8):
                if weight_to(v, mfd, n) == 0:
                    continue
                rr, cc = r + ROW_OFFSETS[n], c + COL_OFFSETS[n]
                if 0 <= rr < rows and 0 <= cc < cols:
                    counts[rr, cc] += 1
    return counts


def upslope_counts(flow_dir: np.ndarray, mfd: bool) -> np.ndarray:
    """Number of in-raster neighbours flowing into each pixel (uint8; MFD nodata 0 and D8 128 send nothing)."""
    return _upslope_counts(np.ascontiguousarray(flow_dir), bool(mfd))


@njit(cache=True)
def _weight(w: np.ndarray, r: int, c: int) -> float:
    x = np.float64(w[r, c])
    return 0.0 if np.isnan(x) else x


@njit(cache=True, nogil=True)
def _accumulate3(fd: np.ndarray, mfd: bool, nodata: int, counts: np.ndarray, w: np.ndarray,
                 s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = fd.shape
    fa = np.full((rows, cols), np.nan)
    wa = np.full((rows, cols), np.nan)
    sa = np.full((rows, cols), np.nan)
    left = counts.copy()
    stack = np.empty(rows * cols, dtype=np.int64)  # each pixel once at most; only touched pages cost memory
    for r0 in range(rows):
        for c0 in range(cols):
            if int(fd[r0, c0]) == nodata or left[r0, c0] != 0 or not np.isnan(fa[r0, c0]):
                continue
            stack[0] = r0 * cols + c0
            size = 1
            while size > 0:
                size -= 1
                r, c = stack[size] // cols, stack[size] % cols
                a, b, d = 1.0, _weight(w, r, c), _weight(s, r, c)
                for n in range(8):
                    rr, cc = r + ROW_OFFSETS[n], c + COL_OFFSETS[n]
                    if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
                        continue
                    up = int(fd[rr, cc])
                    if up == nodata:
                        continue
                    k = weight_to(up, mfd, INFLOW[n])
                    if k == 0:
                        continue
                    if mfd:
                        total = float(mfd_sum(up))
                        a += fa[rr, cc] * k / total
                        b += wa[rr, cc] * k / total
                        d += sa[rr, cc] * k / total
                    else:
                        a += fa[rr, cc]
                        b += wa[rr, cc]
                        d += sa[rr, cc]
                fa[r, c], wa[r, c], sa[r, c] = a, b, d
                v = int(fd[r, c])
                for n in range(8):
                    if weight_to(v, mfd, n) == 0:
                        continue
                    rr, cc = r + ROW_OFFSETS[n], c + COL_OFFSETS[n]
                    if rr < 0 or rr >= rows or cc < 0 or cc >= cols or int(fd[rr, cc]) == nodata:
                        continue
                    left[rr, cc] -= 1
                    if left[rr, cc] == 0:
                        stack[size] = rr * cols + cc
                        size += 1
    return fa, wa, sa


def accumulate3(flow_dir: np.ndarray, mfd: bool, counts: np.ndarray, w: np.ndarray,
                s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flow accumulation, W accumulation, S accumulation), float64 with NaN where there is no direction.

    w and s are float32 weights with NaN for nodata (counted as 0, as pygeoprocessing counts weight nodata).
    """
    fd = np.ascontiguousarray(flow_dir)
    return _accumulate3(fd, bool(mfd), 0 if mfd else 128, counts, np.ascontiguousarray(w),
                        np.ascontiguousarray(s))
