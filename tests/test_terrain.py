"""Hand-built DEMs with known routing answers for gep.accounting.terrain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gep.accounting import terrain as t

R, C = np.mgrid[0:5, 0:5]
NO_MASK = np.zeros((5, 5), dtype=bool)


def _decode(packed: int) -> list[int]:
    return [(int(packed) >> (4 * i)) & 0xF for i in range(8)]


def test_cone_flows_outward() -> None:
    cone = 10 - np.hypot(R - 2, C - 2)
    d8 = t.flow_dir_d8(cone, NO_MASK)
    # centre: straight drop 1 vs diagonal sqrt2*(1/sqrt2) = 1.0000000000000002 in floating
    # point, so the first diagonal (north-east) wins, exactly as in pygeoprocessing
    assert d8[2, 2] == 1
    assert d8[1, 2] == 2 and d8[3, 2] == 6 and d8[2, 1] == 4
    fa = t.flow_accumulation_d8(d8)
    np.testing.assert_array_equal(
        fa,
        [[6, 1, 2, 3, 9], [3, 1, 1, 2, 3], [2, 1, 1, 1, 2], [1, 1, 1, 1, 1], [4, 1, 2, 3, 6]],
    )
    fa_mfd = t.flow_accumulation_mfd(t.flow_dir_mfd(cone, NO_MASK))
    assert fa_mfd[2, 2] == 1.0  # nothing flows into the summit
    np.testing.assert_allclose(fa_mfd, fa_mfd.T)  # symmetric spread
    np.testing.assert_allclose(fa_mfd, fa_mfd[::-1, ::-1])
    mfd = t.flow_dir_mfd(cone, NO_MASK)
    assert all(v != 0 for v in mfd.ravel())


def test_v_valley_accumulates_along_channel() -> None:
    valley = np.abs(C - 2) * 1.0 + (4 - R) * 0.1
    d8 = t.flow_dir_d8(valley, NO_MASK)
    np.testing.assert_array_equal(d8, np.tile([0, 0, 6, 4, 4], (5, 1)))
    fa = t.flow_accumulation_d8(d8)
    np.testing.assert_array_equal(fa, np.tile([1, 2, 0, 2, 1], (5, 1)) + np.outer(np.arange(1, 6) * 5, [0, 0, 1, 0, 0]))
    fa_mfd = t.flow_accumulation_mfd(t.flow_dir_mfd(valley, NO_MASK))
    assert fa_mfd[4, 2] == pytest.approx(25.0)  # all 25 pixels leave through the outlet
    assert np.all(np.diff(fa_mfd[:, 2]) > 0)
    streams = t.extract_streams_d8(fa, 4.0)
    np.testing.assert_array_equal(streams, np.tile([0, 0, 1, 0, 0], (5, 1)))
    dist = t.distance_to_channel_d8(d8, streams)
    np.testing.assert_array_equal(dist, np.tile([2, 1, 0, 1, 2], (5, 1)))
    weight = np.full((5, 5), 0.5)
    np.testing.assert_array_equal(t.distance_to_channel_d8(d8, streams, weight), np.tile([1, 0.5, 0, 0.5, 1], (5, 1)))
    mfd = t.flow_dir_mfd(valley, NO_MASK)
    st_mfd = t.extract_streams_mfd(fa_mfd, mfd, 4.0, 0.7)
    assert st_mfd[:, 2].all() and not st_mfd[:, [0, 4]].any()
    d_mfd = t.distance_to_channel_mfd(mfd, st_mfd)
    assert np.all(d_mfd[:, 2] == 0) and np.all(d_mfd >= 0)


def test_plane_with_pit_is_filled_to_spill_height_then_drains() -> None:
    plane = (4 - R) * 1.0
    plane[2, 2] = 0.5
    filled = t.fill_pits(plane, NO_MASK)
    expected = (4 - R) * 1.0
    expected[2, 2] = 1.0  # spill point: the row below at height 1
    np.testing.assert_array_equal(filled, expected)
    d8 = t.flow_dir_d8(filled, NO_MASK)
    assert (d8 != t.D8_NODATA).all()
    fa = t.flow_accumulation_d8(d8)
    assert fa[4].sum() == 25  # everything leaves through the low edge


def test_flat_drains_to_every_edge_with_distances() -> None:
    flat = np.ones((3, 4))
    mask = np.zeros((3, 4), bool)
    d8 = t.flow_dir_d8(flat, mask)
    np.testing.assert_array_equal(d8, [[2, 2, 2, 0], [4, 2, 2, 0], [4, 6, 6, 0]])
    mfd = t.flow_dir_mfd(flat, mask)
    # interior (1,1): 7 edge neighbours nearer to a drain; straight 1, diagonal 1/sqrt2, x15
    assert _decode(mfd[1, 1]) == [0, 2, 3, 2, 3, 2, 3, 2]
    # corner (0,0): its 5 off-raster neighbours are the drains
    assert _decode(mfd[0, 0]) == [0, 3, 4, 3, 4, 3, 0, 0]
    fa = t.flow_accumulation_d8(d8)
    assert fa.sum() == 3 * 4 + 2  # two interior pixels add one unit to an edge pixel each


def test_nodata_hole_is_a_drain_and_stays_nodata() -> None:
    dem = (4 - R) * 1.0
    dem[2, 2] = -9999.0
    mask = t.nodata_mask(dem, -9999.0)
    filled = t.fill_pits(dem, mask)
    np.testing.assert_array_equal(filled, dem)
    d8 = t.flow_dir_d8(filled, mask)
    assert d8[2, 2] == t.D8_NODATA
    assert d8[1, 2] == 5  # nodata is no downhill neighbour; the first diagonal drop wins
    fa = t.flow_accumulation_d8(d8)
    np.testing.assert_array_equal(
        fa, [[1, 1, 1, 1, 1], [2, 2, 2, 2, 2], [3, 5, np.nan, 3, 3], [4, 6, 1, 4, 4], [5, 7, 2, 5, 5]]
    )
    mfd = t.flow_dir_mfd(filled, mask)
    assert mfd[2, 2] == 0
    assert np.isnan(t.flow_accumulation_mfd(mfd)[2, 2])
    slope = t.slope_percent(dem, mask, (30.0, -30.0))
    assert np.isnan(slope[2, 2]) and slope.dtype == np.float32


def test_pit_closed_by_nodata_is_not_filled() -> None:
    dem = np.full((5, 5), 5.0)
    dem[2, 2] = 1.0
    dem[2, 3] = -1.0
    mask = dem == -1.0
    filled = t.fill_pits(dem, mask)
    assert filled[2, 2] == 1.0  # next to nodata: drains, so nothing to fill


def test_slope_of_a_plane() -> None:
    plane = C * 3.0  # 3 m per 30 m cell -> 10 %
    slope = t.slope_percent(plane, NO_MASK, (30.0, -30.0))
    np.testing.assert_allclose(slope, 10.0, rtol=1e-6)


def test_ls_factor_matches_formula() -> None:
    slope = np.array([[0.5, 4.0, 20.0]], dtype=np.float32)
    fa = np.array([[1.0, 10.0, 1000.0]])
    cell = 30.0
    got = t.ls_factor(slope, fa, cell, l_max=122.0)
    for j in range(3):
        s = float(slope[0, j])
        theta = math.atan(s / 100)
        big_s = 10.8 * math.sin(theta) + 0.03 if s < 9 else 16.8 * math.sin(theta) - 0.5
        if s <= 1:
            m = 0.2
        elif s <= 3.5:
            m = 0.3
        elif s <= 5:
            m = 0.4
        elif s <= 9:
            m = 0.5
        else:
            beta = (math.sin(theta) / 0.0896) / (3 * math.sin(theta) ** 0.8 + 0.56)
            m = beta / (1 + beta)
        a = math.sqrt((fa[0, j] - 1) * cell**2)
        x = abs(math.sin(theta)) + abs(math.cos(theta))
        length = ((a + cell**2) ** (m + 1) - a ** (m + 1)) / (cell ** (m + 2) * x**m * 22.13**m)
        assert got[0, j] == pytest.approx(min(length, 122.0) * big_s, rel=1e-5)
    assert np.isnan(t.ls_factor(np.array([[np.nan]], np.float32), np.array([[5.0]]), cell, 122.0)[0, 0])


def test_check_fits_names_the_limit() -> None:
    assert t.check_fits((1000, 1000), available_bytes=2 * 2**30) == 1000 * 1000 * t.BYTES_PER_PIXEL
    with pytest.raises(t.TerrainTooLarge, match="limit here is about"):
        t.check_fits((20000, 20000), available_bytes=2 * 2**30)
    assert issubclass(t.TerrainTooLarge, MemoryError)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 14), st.integers(1, 14), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.1, 0.3]),
       st.sampled_from([2, 5, 256]))
def test_directions_seeded_in_parallel_equal_the_one_pass_scan(rows: int, cols: int, seed: int, holes: float,
                                                              block: int) -> None:
    """flow_dir_mfd / flow_dir_d8 take the pixels with a lower neighbour from a parallel pass and leave the
    scan the plateaus; on plateau-rich DEMs (heights 0-3) with nodata holes, the directions equal the scan's
    own from an empty start (the kernel the tiled routing runs per tile), for every scan block size."""
    rng = np.random.default_rng(seed)
    dem = rng.integers(0, 4, (rows, cols)).astype(np.float64)
    mask = rng.random((rows, cols)) < holes
    unseeded_mfd = t._flow_dir_mfd(dem, mask, block)
    unseeded_d8 = t._flow_dir_d8(dem, mask, block, np.full((rows, cols), t.D8_NODATA, dtype=np.uint8))
    assert np.array_equal(t.flow_dir_mfd(dem, mask, block), unseeded_mfd)
    assert np.array_equal(t.flow_dir_d8(dem, mask, block), unseeded_d8)


def _mfd_distance_by_recursion(mfd: np.ndarray, streams: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """The definition, followed literally: d = 0 on a stream; elsewhere the flow-weighted mean over downstream
    neighbours that reach a stream of (step or the neighbour's weight) + the neighbour's d, summed in neighbour
    order; NaN where no downstream neighbour reaches a stream."""
    rows, cols = mfd.shape
    memo: dict[tuple[int, int], float] = {}

    def d(r: int, c: int) -> float:
        if (r, c) not in memo:
            value = math.nan
            if streams[r, c] == 1:
                value = 0.0
            elif mfd[r, c] != 0:
                sw = swd = 0.0
                for i, fw in enumerate(_decode(mfd[r, c])):
                    rn, cn = r + int(t.ROW_OFFSETS[i]), c + int(t.COL_OFFSETS[i])
                    if fw == 0 or not (0 <= rn < rows and 0 <= cn < cols):
                        continue
                    nd = d(rn, cn)
                    if math.isnan(nd):
                        continue
                    w = (math.sqrt(2) if i % 2 else 1.0) if weight is None else float(weight[rn, cn])
                    sw += fw
                    swd += fw * ((0.0 if math.isnan(w) else w) + nd)
                value = swd / sw if sw else math.nan
            memo[(r, c)] = value
        return memo[(r, c)]

    return np.array([[d(r, c) for c in range(cols)] for r in range(rows)])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.1, 0.3]),
       st.booleans())
def test_mfd_distance_to_channel_equals_the_definition(rows: int, cols: int, seed: int, holes: float,
                                                       weighted: bool) -> None:
    """The topological walk (each pixel once, when its downstream neighbours are final) gives the recursive
    definition's distances bit for bit, on filled plateau-rich DEMs with nodata holes, random streams and float32
    weights with NaN."""
    rng = np.random.default_rng(seed)
    dem = rng.integers(0, 4, (rows, cols)).astype(np.float64)
    mask = rng.random((rows, cols)) < holes
    dem[mask] = float(np.finfo(np.float32).max)  # nodata pixels carry the nodata value, as SDR routes them
    mfd = t.flow_dir_mfd(t.fill_pits(dem, mask), mask)  # filled: every pixel drains
    streams = (rng.random((rows, cols)) < 0.15).astype(np.uint8)
    weight = None
    if weighted:
        weight = rng.uniform(0.5, 50, (rows, cols)).astype(np.float32)
        weight[rng.random((rows, cols)) < 0.1] = np.nan
    got = t.distance_to_channel_mfd(mfd, streams, weight)
    assert np.array_equal(got, _mfd_distance_by_recursion(mfd, streams, weight), equal_nan=True)
