"""Tiled terrain (issue 16) equals the in-memory kernels exactly: fill, MFD directions, MFD accumulation, slope
and LS, on DEMs with pits across tile edges, flats, nodata holes and edge outlets, with tiles of a few pixels so
every kind of stitching happens; and soil retention routed tile by tile gives the same accounts."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gep.accounting import routing, terrain
from gep.accounting import terrain_tiled as tt
from gep.accounting.indicators import soil_retention
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.errors import InputError
from gep.testing import TinyRegion

NODATA_HEIGHT = float(np.finfo(np.float32).max)


def in_memory(dem: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    z = np.where(mask, NODATA_HEIGHT, dem)
    filled = terrain.fill_pits(z, mask)
    fd = terrain.flow_dir_mfd(filled, mask)
    return {"F": filled, "fd": fd, "acc": terrain.flow_accumulation_mfd(fd),
            "slope": terrain.slope_percent(filled, mask, (30.0, -30.0))}


def tiled(dem: np.ndarray, mask: np.ndarray, tile: int, tmp: Path) -> dict[str, np.ndarray]:
    store = tt.store_from_arrays(np.where(mask, NODATA_HEIGHT, dem), mask, tile, parent=tmp)
    out = {}
    with ThreadPoolExecutor(2) as pool:
        tt.tiled_fill(store, pool)
        out["F"] = tt.assemble(store, "F")
        tt.tiled_flow_dir_mfd(store, pool)
        out["fd"] = tt.assemble(store, "fd")
        tt.tiled_slope(store, pool, (30.0, -30.0))
    tt.tiled_accumulation_mfd(store, resident=3)  # fewer tiles in memory than there are: some wait on disk
    out["acc"] = tt.assemble(store, "acc")
    out["slope"] = tt.assemble(store, "slope")
    shutil.rmtree(store.root)
    return out


def assert_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for name in ("F", "fd", "acc", "slope"):
        assert a[name].dtype == b[name].dtype, name
        assert np.array_equal(a[name], b[name], equal_nan=True), (name, np.argwhere(~((a[name] == b[name]) | (
            np.isnan(a[name].astype(float)) & np.isnan(b[name].astype(float)))))[:5])


@pytest.mark.slow  # compiling the tiled kernels takes ~15 s on a fresh clone: CI runs it with the slow tests
def test_a_hand_made_dem_with_every_kind_of_stitch(tmp_path: Path) -> None:
    """Tiles of 4 px: a pit straddling a tile corner, a lake (one flat) across four tiles, a nodata hole on a tile
    edge, a plateau draining off the raster's edge, and a valley that crosses tile edges back and forth."""
    rows, cols = 18, 21
    y, x = np.mgrid[0:rows, 0:cols]
    dem = 50.0 + 2.0 * x + np.abs(y - 9) * 3.0 + 4.0 * np.sin(y / 1.5)  # a valley along row 9 that winds
    dem = np.round(dem)
    dem[3:5, 3:5] = 0.0  # pit across the corner of tiles (0,0), (0,1), (1,0), (1,1)
    dem[6:12, 6:11] = 40.0  # a lake, flat, across tiles (1,1), (1,2), (2,1), (2,2)
    dem[0:3, 15:21] = 90.0  # a plateau at the raster's top edge: drains off it
    mask = np.zeros(dem.shape, dtype=bool)
    mask[13:15, 7:9] = True  # a hole astride the edge between tiles (3,1) and (3,2)
    a, b = in_memory(dem, mask), tiled(dem, mask, 4, tmp_path)
    assert_identical(a, b)
    assert (a["F"][3:5, 3:5] > 0).all()  # the pit was filled from outside its tiles
    assert len(np.unique(a["fd"][6:12, 6:11])) > 3  # the lake has plateau directions


@st.composite
def dems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    rows, cols = draw(st.integers(4, 26)), draw(st.integers(4, 26))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dem = rng.normal(size=(rows, cols)).cumsum(0).cumsum(1) * draw(st.sampled_from([0.1, 1.0]))
    dem = np.round(dem + rng.normal(size=dem.shape), draw(st.sampled_from([0, 1])))  # ties and flats
    for _ in range(draw(st.integers(0, 3))):  # pits and flat blocks anywhere, often across tile edges
        r, c = rng.integers(0, rows), rng.integers(0, cols)
        dem[r : r + rng.integers(1, 6), c : c + rng.integers(1, 6)] = rng.choice([dem.min() - 2, np.median(dem)])
    mask = rng.random(dem.shape) < draw(st.sampled_from([0.0, 0.03, 0.15]))
    return dem, mask, draw(st.integers(2, 9))


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=dems())
def test_tiled_equals_in_memory_on_any_dem(case: tuple[np.ndarray, np.ndarray, int], tmp_path: Path) -> None:
    dem, mask, tile = case
    assert_identical(in_memory(dem, mask), tiled(dem, mask, tile, tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("tile", [64, 100])
def test_a_larger_rough_dem(tmp_path: Path, tile: int) -> None:
    """300×260 px, heights rounded to the metre (many flats), a lake and holes; the whole chain and LS."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(tile)
    dem = np.round(gaussian_filter(rng.normal(size=(300, 260)), 6) * 400 + np.linspace(0, 80, 260)[None, :])
    dem[100:160, 40:200] = np.round(dem[100:160, 40:200].mean())
    mask = np.zeros(dem.shape, dtype=bool)
    mask[60:64, 10:250] = True
    mask[rng.random(dem.shape) < 0.002] = True
    a, b = in_memory(dem, mask), tiled(dem, mask, tile, tmp_path)
    assert_identical(a, b)
    assert np.array_equal(terrain.ls_factor(a["slope"], a["acc"], 30.0, 122.0),
                          terrain.ls_factor(b["slope"], b["acc"], 30.0, 122.0), equal_nan=True)


def sloped_region(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:40, 0:36]
    classes = rng.choice([11, 12, 21, 31, 41, 42, 61], size=(40, 36))
    dem = np.round(300 + 8 * x - 5 * np.abs(y - 20) + rng.normal(0, 6, size=(40, 36)))
    dem[10:16, 10:18] = 200.0  # a depression and a lake-flat across tile edges
    layers = {"dem": dem, "vegetation_cover": rng.uniform(0.2, 0.95, (40, 36)),
              "rainfall_erosivity": np.full((40, 36), 5000.0), "soil_erodibility": np.full((40, 36), 0.03)}
    return TinyRegion(classes, layers).write(tmp_path / "sloped")


@pytest.mark.slow
def test_soil_retention_routed_tile_by_tile_gives_the_same_accounts(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = sloped_region(tmp_path)
    soil_retention._ROUTED_CACHE.clear()
    monkeypatch.setenv("GEP_TERRAIN", "memory")
    local = account(load_region(root), 2019).table
    monkeypatch.setenv("GEP_TERRAIN", "tiled")
    monkeypatch.setenv("GEP_TERRAIN_TILE", "7")
    monkeypatch.setenv("GEP_TERRAIN_DIR", str(tmp_path / "routed"))
    far = account(load_region(root), 2019).table
    stores = [p for p in (tmp_path / "routed").iterdir() if (p / "complete").exists()]
    assert len(stores) == 1
    assert {p.name for p in stores[0].iterdir()} == {"slope", "acc", "mask", "mask.ring", "complete"}
    again = account(load_region(root), 2019).table  # the routed tiles are found, not routed again
    assert len(list((tmp_path / "routed").iterdir())) == 1
    soil = local[local.indicator == "soil_retention"]
    assert soil["quantity"].sum() > 0
    assert np.array_equal(local["quantity"].to_numpy(), far["quantity"].to_numpy(), equal_nan=True)
    assert np.array_equal(far["quantity"].to_numpy(), again["quantity"].to_numpy(), equal_nan=True)
    soil_retention._ROUTED_CACHE.clear()


def test_the_engine_picks_by_size_and_names_a_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import dask.array as da

    monkeypatch.delenv("GEP_TERRAIN", raising=False)
    monkeypatch.delenv("GEP_TERRAIN_MEMORY_MB", raising=False)
    assert routing.mode((4400, 4400)) == "memory"  # Lishui at 30 m: 1.8 GB in memory
    assert routing.mode((11000, 11000)) == "tiled"  # a province: 11.6 GB
    monkeypatch.delenv("GEP_TERRAIN_DIR", raising=False)
    assert routing.mode((100, 100), distributed=True) == "memory"  # no folder the workers share: in memory
    with pytest.raises(InputError, match="GEP_TERRAIN_DIR"):  # too large for that: the folder must be named
        routing.mode((11000, 11000), distributed=True)
    monkeypatch.setenv("GEP_TERRAIN_DIR", "/shared/gep-terrain")
    assert routing.mode((100, 100), distributed=True) == "tiled"
    monkeypatch.setenv("GEP_TERRAIN_MEMORY_MB", "1")
    assert routing.mode((200, 200)) == "tiled"
    monkeypatch.setenv("GEP_TERRAIN_DIR", "/proc/no-such-folder")
    with pytest.raises(InputError, match="GEP_TERRAIN_DIR"):
        routing.routed_store(da.zeros((4, 4), chunks=2), {"dem": "x"}, 30.0, tile=2)
    monkeypatch.setenv("GEP_TERRAIN", "in-memory")
    with pytest.raises(InputError, match="GEP_TERRAIN"):
        routing.mode((10, 10))


@pytest.mark.slow
def test_the_routed_tiles_are_kept_found_and_a_broken_leftover_is_not_used(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import dask.array as da

    monkeypatch.setenv("GEP_TERRAIN_DIR", str(tmp_path / "routed"))
    rng = np.random.default_rng(5)
    dem = np.round(rng.normal(size=(20, 23)).cumsum(1) * 3 + 100)
    dem[4:6, 4:6] = np.nan
    lazy = da.from_array(dem, chunks=(8, 8))
    key = {"dem": "test", "n": 1}
    store = routing.routed_store(lazy, key, 30.0, tile=7)
    expected = in_memory(np.nan_to_num(dem), np.isnan(dem))
    assert np.array_equal(tt.assemble(store, "acc"), expected["acc"], equal_nan=True)
    assert routing.routed_store(lazy, key, 30.0, tile=7).root == store.root  # found, not routed again
    (store.root / "complete").unlink()  # e.g. removed half-way by another run's pruning
    (store.root / "acc" / "0_0.npy").unlink()
    again = routing.routed_store(lazy, key, 30.0, tile=7)
    assert np.array_equal(tt.assemble(again, "acc"), expected["acc"], equal_nan=True)
