"""Compiled (numba) building blocks that reproduce the numpy steps of the InVEST runners exactly, faster.

Why: the numpy versions make many full-raster passes (isclose nodata tests, boolean gathers, np.full) and
sort the LULC to find its codes; at 4000² pixels that costs seconds. These kernels do one pass each with
the same float32 operations, so their results equal the numpy ones bit for bit (checked by the tests).

* `NodataTest` — pygeoprocessing's float nodata test, numpy.isclose(x, nodata, equal_nan=True) for a float32
  array and a Python-float nodata, as numpy ≥ 2 evaluates it: `|x − f32(nd)| <= f32(1e-8 + 1e-5·|nd|)` in
  float32 (and nd finite), or `x == f32(nd)`, or both NaN.
* `CodeTable` — a reclassification table as a lookup table indexed by LULC code (integer LULC, modest code
  range), replacing np.unique + searchsorted; unknown codes raise `reclassify`'s error.
* `masked_sum` — count and float64 sum of the non-nodata pixels under a zone mask, for zonal means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gep.accounting.jit import njit, prange
from gep.invest._raster import Band, equals_nodata, reclassify
from gep.invest.errors import InvestCompatError

MAX_LUT_CODES = 1 << 16  # integer LULC whose codes span more than this use the numpy reclassification
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class NodataTest:
    """numpy.isclose(float32 array, nodata, equal_nan=True) as three float32 numbers for the kernels.

    value/tolerance are the float32 numbers numpy compares with (a Python float is cast to the array's
    float32, NEP 50). The test is |x − value| <= tolerance, or x == value, or (nan and x is NaN); without
    nodata value is NaN and tolerance −1, so nothing matches; a non-finite nodata has tolerance −1 too
    (numpy requires isfinite(nodata) for the tolerance clause).
    """

    value: np.float32
    tolerance: np.float32
    nan: bool

    @staticmethod
    def of(nodata: float | None) -> NodataTest | None:
        """The test for this nodata, or None when the kernels cannot reproduce numpy's (use numpy then).

        Only Python ints/floats within float32 range (numpy scalars, e.g. np.float64, take another path
        through numpy's type promotion, in float64).
        """
        if nodata is None:
            return NodataTest(np.float32(np.nan), np.float32(-1), False)
        if type(nodata) not in (int, float):
            return None
        nd = float(nodata)
        if math.isfinite(nd) and abs(nd) > FLOAT32_MAX:
            return None
        tolerance = np.float32(1e-8 + 1e-5 * abs(nd)) if math.isfinite(nd) else np.float32(-1)
        return NodataTest(np.float32(nd), tolerance, math.isnan(nd))

    def params(self) -> np.ndarray:
        """[[value, tolerance, nan]] as float32, the form the kernels take (see `is_nodata`)."""
        return np.array([[self.value, self.tolerance, self.nan]], dtype=np.float32)


@njit(inline="always", cache=True)
def is_nodata(x: np.float32, tests: np.ndarray, k: int) -> bool:  # pragma: no cover - compiled
    """One pixel of the NodataTest whose params are row k of tests (a stack of NodataTest.params); no branches."""
    value, tolerance = tests[k, 0], tests[k, 1]
    return (abs(x - value) <= tolerance) | (x == value) | ((tests[k, 2] != 0) & (x != x))


@njit(parallel=True, cache=True)
def _nodata_mask(values: np.ndarray, params: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    out = np.empty(values.shape, dtype=np.bool_)
    for i in prange(values.shape[0]):
        for j in range(values.shape[1]):
            out[i, j] = is_nodata(values[i, j], params, 0)
    return out


def nodata_mask(values: np.ndarray, nodata: float | None) -> np.ndarray:
    """equals_nodata(values, nodata) in one parallel pass for 2-D float32 (numpy otherwise)."""
    test = NodataTest.of(nodata)
    if values.dtype != np.float32 or values.ndim != 2 or test is None:
        return equals_nodata(values, nodata)
    return _nodata_mask(values, test.params())


# ----------------------------------------------------------------------------------- LULC lookup tables


@njit(parallel=True, cache=True)
def _code_range(data: np.ndarray) -> tuple[int, int]:  # pragma: no cover - compiled
    """(min, max) of an integer raster, per row in parallel."""
    rows = data.shape[0]
    lo = np.empty(rows, dtype=np.int64)
    hi = np.empty(rows, dtype=np.int64)
    for i in prange(rows):
        a = np.int64(data[i, 0])
        b = a
        for j in range(data.shape[1]):
            v = np.int64(data[i, j])
            a = min(a, v)
            b = max(b, v)
        lo[i] = a
        hi[i] = b
    return lo.min(), hi.max()


@njit(parallel=True, cache=True)
def _code_counts(data: np.ndarray, offset: int, size: int, chunks: int) -> np.ndarray:  # pragma: no cover
    """How many pixels hold each code (code − offset indexes the result), in row chunks in parallel."""
    rows = data.shape[0]
    counts = np.zeros((chunks, size), dtype=np.int64)
    step = (rows + chunks - 1) // chunks
    for c in prange(chunks):
        for i in range(c * step, min(rows, (c + 1) * step)):
            for j in range(data.shape[1]):
                counts[c, np.int64(data[i, j]) - offset] += 1
    return counts.sum(axis=0)


@njit(parallel=True, cache=True)
def _gather(data: np.ndarray, offset: int, lut: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    out = np.empty(data.shape, dtype=lut.dtype)
    for i in prange(data.shape[0]):
        for j in range(data.shape[1]):
            out[i, j] = lut[np.int64(data[i, j]) - offset]
    return out


@dataclass(frozen=True)
class CodeTable:
    """The LULC codes present in a raster, as the index space of lookup tables: code − offset.

    `present[k]` marks codes found in the raster (LULC nodata included), `nodata[k]` the LULC nodata code.
    """

    offset: int
    present: np.ndarray
    nodata: np.ndarray

    @staticmethod
    def of(lulc: Band) -> CodeTable | None:
        """Count the raster's codes in one pass; None for float LULC or codes spanning > MAX_LUT_CODES."""
        data = lulc.data
        if not np.issubdtype(data.dtype, np.integer) or data.ndim != 2 or data.size == 0:
            return None
        if data.dtype.itemsize == 1:
            lo, hi = int(np.iinfo(data.dtype).min), int(np.iinfo(data.dtype).max)
        else:
            lo, hi = (int(v) for v in _code_range(data))
        if hi - lo + 1 > MAX_LUT_CODES:
            return None
        chunks = max(1, min(8, data.shape[0]))
        counts = _code_counts(data, lo, hi - lo + 1, chunks)
        codes = np.arange(lo, hi + 1, dtype=np.int64)
        # the integer nodata test of equals_nodata: exact equality with the (float) nodata
        is_nodata = np.zeros(codes.shape, dtype=bool) if lulc.nodata is None else codes == lulc.nodata
        return CodeTable(lo, counts > 0, is_nodata)

    def lut(self, table: Mapping[int, float], out_nodata: float, table_name: str,
            column: str = "lucode") -> np.ndarray:
        """float32 value per code as `reclassify` maps it (nodata code -> out_nodata); unknown codes raise
        reclassify's error."""
        codes = range(self.offset, self.offset + self.present.size)
        needed = self.present & ~self.nodata
        missing = [c for c, need in zip(codes, needed, strict=True) if need and c not in table]
        if missing:
            raise InvestCompatError(
                f"Values in the LULC raster were found that are not represented under the '{column}' key column "
                f"of the {table_name} table. The missing values found in the LULC raster but not the table are: "
                f"{missing}")
        values = [table[c] if need else out_nodata for c, need in zip(codes, needed, strict=True)]
        return np.asarray(values, dtype=np.float32)

    def reclassify(self, lulc: Band, table: Mapping[int, float], out_nodata: float, table_name: str,
                   column: str = "lucode") -> np.ndarray:
        """`reclassify`'s result by a lookup-table gather (O(n), no sort)."""
        return _gather(lulc.data, self.offset, self.lut(table, out_nodata, table_name, column))


def reclassify_fast(lulc: Band, table: Mapping[int, float], out_nodata: float, table_name: str,
                    column: str = "lucode") -> np.ndarray:
    """`_raster.reclassify` with a lookup table when the LULC allows it (same values, same errors)."""
    codes = CodeTable.of(lulc)
    if codes is None:
        return reclassify(lulc, table, out_nodata, table_name, column)
    return codes.reclassify(lulc, table, out_nodata, table_name, column)


code_range = _code_range  # public names for other models (SDR)
gather = _gather


# ----------------------------------------------------------------------------------- zonal sums


@njit(parallel=True, cache=True)
def _masked_row_sums(values: np.ndarray, mask: np.ndarray,
                     params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Per row of the window: count and float64 sum of masked, non-nodata pixels."""
    rows = values.shape[0]
    counts = np.zeros(rows, dtype=np.int64)
    sums = np.zeros(rows, dtype=np.float64)
    for i in prange(rows):
        n = 0
        s = 0.0
        for j in range(values.shape[1]):
            if mask[i, j] and not is_nodata(values[i, j], params, 0):
                n += 1
                s += np.float64(values[i, j])
        counts[i] = n
        sums[i] = s
    return counts, sums


def masked_sum(values: np.ndarray, mask: np.ndarray, nodata: float | None) -> tuple[int, float] | None:
    """(count, sum) of values under mask that are not nodata, for float32 windows; None if numpy must do it.

    Sums are float64 per row, then math.fsum over rows: as accurate as numpy's pairwise sum (the two can
    differ in the last bits, far below the CSV's 11 decimals' relevance to InVEST's block-wise sums).
    """
    test = NodataTest.of(nodata)
    if values.dtype != np.float32 or test is None:
        return None
    counts, sums = _masked_row_sums(values, mask, test.params())
    return int(counts.sum()), math.fsum(sums)


# ----------------------------------------------------------------------------------- GDAL's nodata snapping


@njit(parallel=True, cache=True)
def _snap(out: np.ndarray, consts: np.ndarray) -> None:  # pragma: no cover - compiled
    nd, eps, two = consts[0], consts[1], consts[2]
    for i in prange(out.shape[0]):
        for j in range(out.shape[1]):
            x = out[i, j]
            if x == nd or abs(x - nd) < eps * abs(x + nd) * two:
                out[i, j] = nd


def snap_to_gdal_nodata(out: np.ndarray, nodata: float) -> bool:
    """Set, in place, the float pixels GDAL's warper treats as nodata (ARE_REAL_EQUAL: equal, or within
    2·FLT_EPSILON relative, in the raster's own float type) to exactly nodata. False if not handled here."""
    if out.ndim != 2 or out.dtype not in (np.float32, np.float64) or math.isnan(nodata):
        return False
    consts = np.array([nodata, np.finfo(np.float32).eps, 2], dtype=out.dtype)
    with np.errstate(all="ignore"):
        _snap(out, consts)
    return True
