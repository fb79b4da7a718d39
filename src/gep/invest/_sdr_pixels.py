"""SDR's per-pixel products in compiled passes: RKLS, USLE and avoided erosion; sediment export and E'; avoided
export.

Why: the numpy form masks every array with boolean indexing (a gather and a scatter per operand, and a
temporary for each), about 1.5 s and several hundred MB at 16 M pixels. Each pass here reads a pixel once and
does InVEST's arithmetic in the same dtypes and order (float64 products rounded to float32, float32 after), so
the outputs equal the numpy form's bit for bit.
"""

from __future__ import annotations

import numpy as np

from gep.accounting.jit import njit, prange


@njit(parallel=True, cache=True)
def erosion(valid: np.ndarray, ls: np.ndarray, streams: np.ndarray, erosivity: np.ndarray,
            erodibility: np.ndarray, cp: np.ndarray, rkls_nodata: float,
            usle_nodata: float) -> tuple[np.ndarray, ...]:  # pragma: no cover - compiled
    """(land, RKLS, USLE, avoided erosion): land = valid, LS defined and off streams; RKLS = LS·R·K in float64
    stored as float32, USLE = RKLS·CP and avoided = RKLS − USLE in float32; nodata elsewhere."""
    rows, cols = ls.shape
    land = np.empty((rows, cols), dtype=np.bool_)
    rkls = np.empty((rows, cols), dtype=np.float32)
    usle = np.empty((rows, cols), dtype=np.float32)
    avoided = np.empty((rows, cols), dtype=np.float32)
    r_nd, u_nd = np.float32(rkls_nodata), np.float32(usle_nodata)
    for i in prange(rows):
        for j in range(cols):
            value = ls[i, j]
            ok = valid[i, j] & (not np.isnan(value)) & (streams[i, j] == 0)
            land[i, j] = ok
            if ok:
                v = np.float32(value * erosivity[i, j] * erodibility[i, j])
                u = v * cp[i, j]
                rkls[i, j], usle[i, j], avoided[i, j] = v, u, v - u
            else:
                rkls[i, j], usle[i, j], avoided[i, j] = r_nd, u_nd, u_nd
    return land, rkls, usle, avoided


@njit(parallel=True, cache=True)
def export(land: np.ndarray, usle: np.ndarray, sdr: np.ndarray, streams: np.ndarray, sdr_nodata: float,
           export_nodata: float, e_prime_nodata: float) -> tuple[np.ndarray, ...]:  # pragma: no cover - compiled
    """(exported, sediment export, E'): exported = land with an SDR; export = USLE·SDR; E' = USLE·(1 − SDR),
    0 on streams (sediment on a stream is not retained upslope); nodata elsewhere."""
    rows, cols = usle.shape
    exported = np.empty((rows, cols), dtype=np.bool_)
    sed_export = np.empty((rows, cols), dtype=np.float32)
    e_prime = np.empty((rows, cols), dtype=np.float32)
    s_nd, x_nd, e_nd = np.float32(sdr_nodata), np.float32(export_nodata), np.float32(e_prime_nodata)
    one = np.float32(1)
    for i in prange(rows):
        for j in range(cols):
            s = sdr[i, j]
            ok = land[i, j] & (s != s_nd)
            exported[i, j] = ok
            sed_export[i, j] = usle[i, j] * s if ok else x_nd
            e = usle[i, j] * (one - s) if ok else e_nd
            e_prime[i, j] = np.float32(0) if streams[i, j] == 1 else e
    return exported, sed_export, e_prime


@njit(parallel=True, cache=True)
def avoided_export(exported: np.ndarray, avoided_erosion: np.ndarray, sdr: np.ndarray, deposition: np.ndarray,
                   deposition_nodata: float, nodata: float) -> np.ndarray:  # pragma: no cover - compiled
    """Avoided erosion·SDR + deposition where both are defined (float32, in that order), nodata elsewhere."""
    rows, cols = sdr.shape
    out = np.empty((rows, cols), dtype=np.float32)
    d_nd, nd = np.float32(deposition_nodata), np.float32(nodata)
    for i in prange(rows):
        for j in range(cols):
            d = deposition[i, j]
            ok = exported[i, j] & (d != d_nd)
            out[i, j] = avoided_erosion[i, j] * sdr[i, j] + d if ok else nd
    return out
