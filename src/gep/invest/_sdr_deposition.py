"""InVEST 3.20's sediment deposition pass (sdr_core / sediment_deposition.h), reimplemented with numba.

For every pixel i (upslope neighbours j, downslope neighbours k, flow proportions p):

    dr_i = (Σ_k SDR_k·p(i,k) / Σ_k w(i,k) − SDR_i) / (1 − SDR_i)   (1 if SDR_i == 1; Σ_k ≥ SDR_i enforced)
    t_i  = dr_i · Σ_j f_j·p(j,i)                                    (deposition)
    f_i  = (1 − dr_i) · Σ_j f_j·p(j,i) + E'_i                        (flux passed on)

Facts reproduced because they change values:
* MFD downslope terms use the raw 4-bit weights, divided by their sum over in-raster neighbours (a neighbour
  whose SDR is nodata adds its weight to the divisor but nothing to the numerator; off-raster neighbours add
  neither); upslope proportions are float32(w_ji) / float32(Σ w_j). D8 weights are 1.
* dr_i, t_i and f_i are clamped at 0; a neighbour with SDR 0 counts as SDR 1.
* The traversal is InVEST's: seeds are pixels nobody flows into, visited block by block (256² tiles, rows
  within a block); a downslope neighbour is pushed on a LIFO stack once all its other upslope neighbours
  carry a deposition value (kept as a per-pixel counter instead of re-reading the neighbours). A pixel whose
  SDR or E' is nodata is visited (it still pushes its neighbours) but keeps nodata, which can leave pixels
  below it unvisited — exactly as in InVEST.
* Flux is kept in float64 (InVEST's block cache holds doubles; once InVEST's 64-block cache overflows, evicted
  flux blocks round-trip through float32 — a ~1e-7 relative difference on large rasters); deposition is
  returned as float32.
"""

from __future__ import annotations

import numpy as np

from gep.accounting.jit import njit
from gep.accounting.terrain import COL_OFFSETS, INFLOW, ROW_OFFSETS, _push, mfd_sum
from gep.invest._sdr_routing import weight_to

OUT_NODATA = -1.0


@njit(cache=True, inline="always")
def _is_close(x: float, y: float) -> bool:
    """pygeoprocessing's C++ is_close (NaN equals NaN)."""
    if np.isnan(x) and np.isnan(y):
        return True
    return abs(x - y) <= 1e-8 + 1e-5 * abs(y)


@njit(cache=True, inline="always")
def _flow_into(fd: np.ndarray, mfd: bool, r: int, c: int, n: int) -> int:
    """Weight with which the pixel at (r, c) (the neighbour in direction n) flows back into the centre."""
    v = int(fd[r, c])
    if mfd:
        return (v >> (4 * INFLOW[n])) & 0xF
    return 1 if v == INFLOW[n] else 0


@njit(cache=True)
def _upslope_flux(fd: np.ndarray, mfd: bool, flux: np.ndarray, r: int, c: int) -> float:
    """Σ_j f_j·p(j,i) over upslope neighbours with a flux value, in direction order."""
    rows, cols = fd.shape
    total = 0.0
    for n in range(8):
        rr, cc = r + ROW_OFFSETS[n], c + COL_OFFSETS[n]
        if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
            continue
        w = _flow_into(fd, mfd, rr, cc, n)
        if w == 0:
            continue
        prop = np.float32(1.0)
        if mfd:
            prop = np.float32(w) / np.float32(mfd_sum(int(fd[rr, cc])))
        fj = flux[rr, cc]
        if _is_close(fj, OUT_NODATA):
            continue
        total += np.float64(prop) * fj
    return total


@njit(cache=True, nogil=True)
def _deposition(fd: np.ndarray, mfd: bool, fd_nodata: int, n_up: np.ndarray, e_prime: np.ndarray,
                ep_nodata: float, sdr: np.ndarray, sdr_nodata: float, bs: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = fd.shape
    n_set = np.zeros((rows, cols), dtype=np.uint8)  # upslope neighbours that already carry a deposition value
    dep = np.full((rows, cols), np.float32(OUT_NODATA), dtype=np.float32)
    flux = np.full((rows, cols), OUT_NODATA, dtype=np.float64)
    stack = np.empty(1 << 12, dtype=np.int64)
    size = 0
    for by in range(0, rows, bs):
        for bx in range(0, cols, bs):
            for ys in range(by, min(by + bs, rows)):
                for xs in range(bx, min(bx + bs, cols)):
                    if int(fd[ys, xs]) == fd_nodata:
                        continue
                    if n_up[ys, xs] == 0 and _is_close(dep[ys, xs], OUT_NODATA):
                        stack, size = _push(stack, size, ys * cols + xs)
                    while size > 0:
                        size -= 1
                        idx = stack[size]
                        r, c = idx // cols, idx % cols
                        fsum = _upslope_flux(fd, mfd, flux, r, c)
                        dsum = 0.0
                        wsum = 0
                        v = int(fd[r, c])
                        for n in range(8):
                            w = weight_to(v, mfd, n)
                            if w == 0:
                                continue
                            rr, cc = r + ROW_OFFSETS[n], c + COL_OFFSETS[n]
                            if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
                                continue
                            wsum += w
                            sj = np.float64(sdr[rr, cc])
                            if _is_close(sj, sdr_nodata):
                                continue
                            if sj == 0.0:
                                sj = np.float64(1.0)
                            dsum += sj * np.float64(w)
                            # all other upslope neighbours set (this pixel is not yet): push it
                            if n_set[rr, cc] + 1 == n_up[rr, cc]:
                                stack, size = _push(stack, size, rr * cols + cc)
                        si = np.float64(sdr[r, c])
                        if _is_close(si, sdr_nodata):
                            continue
                        ei = np.float64(e_prime[r, c])
                        if _is_close(ei, ep_nodata):
                            continue
                        if wsum:
                            dsum /= wsum
                        if dsum < si:
                            dsum = si
                        dr = 1.0 if si == 1.0 else (dsum - si) / (1.0 - si)
                        t = dr * fsum
                        f = (1.0 - dr) * fsum + ei
                        dep[r, c] = np.float32(max(t, 0.0))
                        flux[r, c] = max(f, 0.0)
                        for n in range(8):
                            w = weight_to(v, mfd, n)
                            rr, cc = r + ROW_OFFSETS[n], c + COL_OFFSETS[n]
                            if w != 0 and 0 <= rr < rows and 0 <= cc < cols:
                                n_set[rr, cc] += 1
    return dep, flux


def sediment_deposition(flow_dir: np.ndarray, mfd: bool, n_up: np.ndarray, e_prime: np.ndarray, sdr: np.ndarray,
                        e_prime_nodata: float = OUT_NODATA, sdr_nodata: float = OUT_NODATA,
                        block_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Deposition t (float32, −1 = nodata) and flux f (float64, −1 = nodata), as InVEST's SDR computes them.

    flow_dir: MFD int32 (nodata 0) or D8 uint8 (nodata 128); n_up: upslope neighbour counts
    (`_sdr_routing.upslope_counts`); e_prime and sdr float32 with their nodata values.
    """
    fd = np.ascontiguousarray(flow_dir, dtype=np.int32 if mfd else np.uint8)
    return _deposition(fd, bool(mfd), 0 if mfd else 128, np.ascontiguousarray(n_up, dtype=np.uint8),
                       np.ascontiguousarray(e_prime, dtype=np.float32),
                       float(e_prime_nodata), np.ascontiguousarray(sdr, dtype=np.float32), float(sdr_nodata),
                       int(block_size))
