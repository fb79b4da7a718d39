"""Annual Water Yield's per-pixel maths in compiled passes: fractp, AET, water yield and PET together.

Why: the numpy form (`annual_water_yield.fractp` and three raster_map calls) makes ~40 full-raster passes,
each nodata test an isclose with temporaries, plus three sorted reclassifications of the LULC. Here each
pixel is read once: its LULC code indexes lookup tables (kc, root depth, lulc_veg), the nodata tests are
`_fast.is_nodata` (numpy.isclose's arithmetic), and the formulas are InVEST's in the same order and in
float32, so every output pixel equals the numpy path's bit for bit (for float32 inputs; other dtypes take the
numpy path, whose type promotions differ). The two powers are left to numpy: its float32 power (SIMD, e.g.
SVML on AVX-512) differs from libm's powf in the last bit for ~1/4 of pixels, and InVEST uses numpy's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gep.accounting.jit import njit, prange
from gep.invest._fast import CodeTable, NodataTest, is_nodata
from gep.invest._raster import Band, equals_nodata

ETO, PRECIP, SOIL, PAWC, ZERO, OUT = range(6)  # rows of the kernels' nodata tests (ZERO: precip ≈ 0)


@dataclass(frozen=True)
class AwyLayers:
    """The per-pixel results, float32 with nodata −1: the three output rasters and PET (for PET_mn)."""

    fractp: np.ndarray
    aet: np.ndarray
    wyield: np.ndarray
    pet: np.ndarray


@njit(inline="always", cache=True)
def _fractp_valid(ok: bool, e: np.float32, p: np.float32, s: np.float32, w: np.float32,
                  tests: np.ndarray) -> bool:  # pragma: no cover - compiled
    """fractp's valid mask: no input nodata (ok: the reclassified values) and P not ≈ 0."""
    bad = (is_nodata(e, tests, ETO) | is_nodata(p, tests, PRECIP) | is_nodata(p, tests, ZERO)
           | is_nodata(s, tests, SOIL) | is_nodata(w, tests, PAWC))
    return ok & (not bad)  # bitwise: short-circuits would keep the pixel loops from vectorizing


@njit(parallel=True, cache=True)
def _power_operands(lulc: np.ndarray, offset: int, kc_lut: np.ndarray, root_lut: np.ndarray, veg_lut: np.ndarray,
                    all_ok: np.ndarray, eto: np.ndarray, precip: np.ndarray, soil: np.ndarray, pawc: np.ndarray,
                    tests: np.ndarray, z: np.float32, base: np.ndarray,
                    omega_out: np.ndarray) -> None:  # pragma: no cover - compiled
    """PET/P and ω for the vegetated valid pixels (the only ones whose power terms are used); 1 elsewhere.

    Both sides of every choice are computed and one is selected: branch-free, as LULC classes interleave.
    """
    one, cap, shift = np.float32(1), np.float32(5), np.float32(1.25)
    for i in prange(lulc.shape[0]):
        for j in range(lulc.shape[1]):
            code = np.int64(lulc[i, j]) - offset
            e, p, s, w = eto[i, j], precip[i, j], soil[i, j], pawc[i, j]
            r = root_lut[code]
            awc = (r if r < s else s) * w
            omega = ((awc / p) * z) + shift
            omega = cap if omega > cap else omega
            used = (veg_lut[code] == one) & _fractp_valid(all_ok[code] != 0, e, p, s, w, tests)
            base[i, j] = (kc_lut[code] * e) / p if used else one
            omega_out[i, j] = omega if used else one


@njit(parallel=True, cache=True)
def _second_power_operands(power: np.ndarray, omega: np.ndarray) -> None:  # pragma: no cover - compiled
    """In place: (PET/P)^ω -> 1 + (PET/P)^ω, ω -> 1/ω."""
    one = np.float32(1)
    for i in prange(power.shape[0]):
        for j in range(power.shape[1]):
            power[i, j] = one + power[i, j]
            omega[i, j] = one / omega[i, j]


@njit(parallel=True, cache=True)
def _awy_pixels(lulc: np.ndarray, offset: int, kc_lut: np.ndarray, veg_lut: np.ndarray, kc_ok: np.ndarray,
                all_ok: np.ndarray, eto: np.ndarray, precip: np.ndarray, soil: np.ndarray, pawc: np.ndarray,
                tests: np.ndarray, fractp: np.ndarray, aet: np.ndarray, wyield: np.ndarray,
                pet: np.ndarray) -> None:  # pragma: no cover - compiled
    """Rows in parallel; fractp holds (1 + (PET/P)^ω)^(1/ω) on entry (numpy's power) and is overwritten.

    Branch-free like _power_operands; tests rows: ETO, PRECIP, SOIL, PAWC, ZERO (precip ≈ 0), OUT (−1).
    """
    one, out_nd = np.float32(1), np.float32(-1)
    for i in prange(lulc.shape[0]):
        for j in range(lulc.shape[1]):
            code = np.int64(lulc[i, j]) - offset
            k, e, p, s, w = kc_lut[code], eto[i, j], precip[i, j], soil[i, j], pawc[i, j]
            pet_v = k * e
            # PET = raster_map(multiply, eto, kc)
            pet[i, j] = pet_v if (kc_ok[code] != 0) & (not is_nodata(e, tests, ETO)) else out_nd
            # fractp, as annual_water_yield.fractp: φ = PET/P (the same float32 quotient as phi there)
            phi = pet_v / p
            aet_p = (one + phi) - fractp[i, j]
            veg_result = phi if phi < aet_p else aet_p
            nonveg = p if p < pet_v else pet_v
            f = veg_result if veg_lut[code] == one else nonveg / p
            f = f if _fractp_valid(all_ok[code] != 0, e, p, s, w, tests) else out_nd
            fractp[i, j] = f
            # wyield = raster_map((1 − fractp)·P), aet = raster_map(fractp·P)
            bad = is_nodata(p, tests, PRECIP) | is_nodata(f, tests, OUT)
            wyield[i, j] = out_nd if bad else (one - f) * p
            aet[i, j] = out_nd if bad else f * p


def awy_pixels(lulc: Band, kc: Mapping[int, float], root: Mapping[int, float], veg: Mapping[int, float],
               inputs: Mapping[str, tuple[np.ndarray, float | None]], z: float,
               out_nodata: float) -> AwyLayers | None:
    """The per-pixel layers in one pass, or None when the inputs need the numpy path (non-float32 rasters,
    float or wide-ranging LULC codes, nodata values numpy would promote). inputs: 'eto', 'precip', 'soil',
    'pawc' -> (aligned array, nodata). Unknown LULC codes raise reclassify's error."""
    eto, precip, soil, pawc = arrays = [inputs[key][0] for key in ("eto", "precip", "soil", "pawc")]
    if any(a.dtype != np.float32 or a.shape != lulc.data.shape for a in arrays):
        return None
    nodata = [inputs[key][1] for key in ("eto", "precip", "soil", "pawc")]
    tests = [NodataTest.of(nd) for nd in (*nodata, 0, out_nodata)]
    codes = CodeTable.of(lulc)
    if codes is None or any(t is None for t in tests):
        return None
    kc_lut = codes.lut(kc, out_nodata, "Biophysical")
    root_lut = codes.lut(root, out_nodata, "Biophysical")
    veg_lut = codes.lut(veg, out_nodata, "Biophysical")
    # per code, reclassify's values then raster_map's / fractp's nodata tests on them (numpy's isclose)
    kc_ok = ~equals_nodata(kc_lut, out_nodata)
    all_ok = kc_ok & ~equals_nodata(root_lut, out_nodata) & ~equals_nodata(veg_lut, out_nodata)
    # as float32 (1 = usable): gathers from bool tables would keep the loops from vectorizing
    kc_ok, all_ok = kc_ok.astype(np.float32), all_ok.astype(np.float32)
    shape = lulc.data.shape
    out = AwyLayers(*(np.empty(shape, dtype=np.float32) for _ in range(4)))
    params = np.concatenate([t.params() for t in tests if t is not None])
    # (1 + (PET/P)^ω)^(1/ω) with numpy's float32 power (its SIMD power differs from libm's in the last bit),
    # computed in the fractp and wyield buffers before they receive their own values
    power, omega = out.fractp, out.wyield
    _power_operands(lulc.data, codes.offset, kc_lut, root_lut, veg_lut, all_ok, eto, precip, soil, pawc, params,
                    np.float32(z), power, omega)
    np.power(power, omega, out=power)
    _second_power_operands(power, omega)
    np.power(power, omega, out=power)
    _awy_pixels(lulc.data, codes.offset, kc_lut, veg_lut, kc_ok, all_ok, eto, precip, soil, pawc, params,
                out.fractp, out.aet, out.wyield, out.pet)
    return out
