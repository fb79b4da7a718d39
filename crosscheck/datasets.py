"""Deterministic synthetic InVEST-ready datasets for the InVEST cross-check and benchmark.

Run with the project venv (numpy + rasterio + shapely/pyogrio; no GDAL Python bindings needed):

    /tmp/venv/bin/python crosscheck/datasets.py DEST --n 200 --seed 42

Layout written to ``DEST`` (all rasters share one grid: N x N pixels, 30 m, EPSG:32650,
north-up, origin (500000, 3500000 + N*30); tiled 256x256 LZW GeoTIFFs):

    dem.tif              float32, nodata -9999, metres. Fractal (spectral synthesis) relief on a
                         regional slope towards the south-east, plus carved pits (closed
                         depressions, exercise fill_pits) and exactly-flat areas (a plateau and a
                         lake surface, exercise plateau draining in flow_dir_*).
    lulc.tif             uint8, nodata 255. 1 forest, 2 grass, 3 crop, 4 urban, 5 water
                         (~27/20/40/10/3 %; water = the lake flat + the lowest cells).
    lulc_alt.tif         uint8, nodata 255. Alternate scenario for carbon: part of the forest
                         converted to crop and part of the crop to urban.
    precip.tif           float32, nodata -1, mm/yr, 1200-1850.
    eto.tif              float32, nodata -1, mm/yr, 950-1150.
    depth_root.tif       float32, nodata -1, mm, 600-2000 (depth to root-restricting layer).
    pawc.tif             float32, nodata -1, fraction 0.1-0.3.
    erosivity.tif        float32, nodata -1, R, MJ mm/(ha h yr), 3000-6000.
    erodibility.tif      float32, nodata -1, K, t ha h/(ha MJ mm), 0.02-0.05.
    watersheds.shp       (+ .shx/.dbf/.prj/.cpg) 2 polygons, integer field ws_id (1, 2). Both inset
                         5 px from the raster edge; ws 1's edges lie on pixel boundaries, ws 2's
                         west, east and south edges cut through pixels (0.37 / 0.45 / 0.61 px), so
                         "pixel centre inside polygon" vs "polygon area" differ.
    biophysical_awy.csv  lucode,description,lulc_veg,root_depth,kc
    biophysical_sdr.csv  lucode,description,usle_c,usle_p
    carbon_pools.csv     lucode,description,c_above,c_below,c_soil,c_dead
    awy.invs.json, sdr_mfd.invs.json, sdr_d8.invs.json, carbon.invs.json
                         InVEST parameter sets ("datastacks"): {"args": {...}, "invest_version",
                         "model_id"}; paths are relative to the JSON's folder (InVEST resolves
                         them that way in natcap.invest.datastack.extract_parameter_set).
    dataset.json         the generator's parameters (n, seed, ...), for cache keys.

Optional ``nodata_holes=True`` adds a few nodata pixels (LULC nodata block, a DEM nodata block,
a P = 0 block and scattered nodata in the climate/soil rasters) to exercise masking; it is off
by default because InVEST's nodata handling is itself something to be matched deliberately.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

EPSG = 32650
PIXEL = 30.0
X0 = 500000.0
Y0_BASE = 3500000.0
INSET_PX = 5
INVEST_VERSION = "3.20.2"

LULC_NODATA = 255
DEM_NODATA = -9999.0
FLOAT_NODATA = -1.0

# lucode -> (description, share)
CLASSES = {
    1: ("forest", 0.27),
    2: ("grass", 0.20),
    3: ("crop", 0.40),
    4: ("urban", 0.10),
    5: ("water", 0.03),
}
AWY_TABLE = [  # lucode, description, lulc_veg, root_depth (mm), kc
    (1, "forest", 1, 3000, 1.0),
    (2, "grass", 1, 1500, 0.65),
    (3, "crop", 1, 1200, 0.75),
    (4, "urban", 0, 500, 0.3),
    (5, "water", 0, 1, 1.0),
]
SDR_TABLE = [  # lucode, description, usle_c, usle_p
    (1, "forest", 0.003, 1.0),
    (2, "grass", 0.02, 1.0),
    (3, "crop", 0.25, 0.6),
    (4, "urban", 0.001, 1.0),
    (5, "water", 0.0, 1.0),
]
CARBON_TABLE = [  # lucode, description, c_above, c_below, c_soil, c_dead (t/ha)
    (1, "forest", 140.0, 70.0, 35.0, 12.0),
    (2, "grass", 15.0, 30.0, 20.0, 1.5),
    (3, "crop", 10.0, 5.0, 25.0, 0.0),
    (4, "urban", 5.0, 1.0, 15.0, 0.0),
    (5, "water", 0.0, 0.0, 0.0, 0.0),
]

AWY_SEASONALITY = 5.0
SDR_PARAMS = {  # NatCap's Gura sample datastack (PEERS.md §6)
    "threshold_flow_accumulation": 1000,
    "k_param": 2,
    "ic_0_param": 0.5,
    "sdr_max": 0.8,
    "l_max": 122,
}

RASTERS = ["dem", "lulc", "lulc_alt", "precip", "eto", "depth_root", "pawc", "erosivity", "erodibility"]


# ---------------------------------------------------------------------------------------
# fields


def _fractal(rng: np.random.Generator, n: int, beta: float) -> np.ndarray:
    """Gaussian random field with power spectrum ~ 1/f**beta, zero mean, unit std (float32)."""
    noise = rng.standard_normal((n, n), dtype=np.float32)
    spec = np.fft.rfft2(noise)
    del noise
    fy = np.fft.fftfreq(n).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(n).astype(np.float32)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    filt = f ** np.float32(-beta / 2.0)
    filt[0, 0] = 0.0
    spec *= filt
    del f, filt
    field = np.fft.irfft2(spec, s=(n, n)).astype(np.float32)
    del spec
    field -= field.mean()
    field /= field.std()
    return field


def _smooth(rng: np.random.Generator, n: int) -> np.ndarray:
    """Smooth field scaled to [0, 1]."""
    f = _fractal(rng, n, 4.0)
    lo, hi = f.min(), f.max()
    return (f - lo) / (hi - lo)


def _gradient(n: int, ax: float, ay: float) -> np.ndarray:
    """Linear ramp in [0, 1] along direction (ax, ay) in pixel index space."""
    r = np.arange(n, dtype=np.float32) / max(n - 1, 1)
    g = ax * r[None, :] + ay * r[:, None]
    g -= g.min()
    m = g.max()
    return g / m if m > 0 else g


def _quantile_classes(score: np.ndarray, shares: list[float], codes: list[int]) -> np.ndarray:
    """Assign classes by quantiles of ``score`` so the shares are matched exactly-ish."""
    cuts = np.quantile(score, np.cumsum(shares)[:-1])
    idx = np.searchsorted(cuts, score, side="right")
    return np.asarray(codes, dtype=np.uint8)[idx]


def _dem(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """DEM (float32) + mask of the lake flat + a description of the features."""
    extent_m = n * PIXEL
    relief = _fractal(rng, n, 4.0)
    amp = 50.0 * (extent_m / 6000.0) ** 0.85  # relief grows with extent (self-affine)
    regional = 0.02 * extent_m * (1.0 - _gradient(n, 1.0, 0.6))  # 2 % slope down to the SE
    dem = (regional + amp * relief + 200.0).astype(np.float32)
    del relief, regional

    features = {"pits": [], "plateau": None, "lake": None}

    def window(cy, cx, r):
        y0, y1 = max(cy - r, 0), min(cy + r + 1, n)
        x0, x1 = max(cx - r, 0), min(cx + r + 1, n)
        return slice(y0, y1), slice(x0, x1)

    # closed depressions (pits): gaussian bowls, depth 3-15 m, radius 2-8 px (and single-pixel pits)
    n_pits = max(4, n * n // 40000)
    for _ in range(n_pits):
        cy, cx = (int(v) for v in rng.integers(2, n - 2, size=2))
        r = int(rng.integers(2, 9))
        depth = float(rng.uniform(3.0, 15.0))
        sy, sx = window(cy, cx, 3 * r)
        gy = np.arange(sy.start, sy.stop, dtype=np.float32)[:, None] - cy
        gx = np.arange(sx.start, sx.stop, dtype=np.float32)[None, :] - cx
        dem[sy, sx] -= depth * np.exp(-(gx * gx + gy * gy) / (2.0 * r * r)).astype(np.float32)
        features["pits"].append([cy, cx, r, round(depth, 3)])
    n_single = max(3, n * n // 100000)
    for _ in range(n_single):
        cy, cx = (int(v) for v in rng.integers(1, n - 1, size=2))
        dem[cy, cx] = dem[cy - 1 : cy + 2, cx - 1 : cx + 2].min() - float(rng.uniform(0.5, 3.0))
        features["pits"].append([cy, cx, 0, None])

    # an exactly flat plateau (a raised flat top that drains at its edges) and a flat lake
    # surface (part of it below the surrounding rim -> filled, part of it a drained flat)
    r = max(4, n // 25)
    cy, cx = int(n * 0.3), int(n * 0.7)
    sy, sx = window(cy, cx, r)
    dem[sy, sx] = np.float32(dem[sy, sx].max() + 2.0)
    features["plateau"] = [sy.start, sy.stop, sx.start, sx.stop]

    r = max(4, n // 20)
    cy, cx = int(n * 0.65), int(n * 0.35)
    sy, sx = window(cy, cx, r)
    gy = np.arange(sy.start, sy.stop, dtype=np.float32)[:, None] - cy
    gx = np.arange(sx.start, sx.stop, dtype=np.float32)[None, :] - cx
    disk = (gx * gx + gy * gy) <= r * r
    lake = np.zeros((n, n), dtype=bool)
    lake[sy, sx] = disk
    level = np.float32(np.percentile(dem[sy, sx][disk], 20))
    dem[lake] = level  # flat water surface (part of it below the surrounding rim)
    features["lake"] = [cy, cx, r, float(level)]
    return dem, lake, features


def _lulc(rng: np.random.Generator, n: int, dem: np.ndarray, lake: np.ndarray) -> np.ndarray:
    score = _smooth(rng, n) + 0.15 * rng.random((n, n), dtype=np.float32)
    # forest prefers high ground: shift the score by elevation rank
    elev = (dem - dem.min()) / max(float(np.ptp(dem)), 1e-6)
    score = score + 0.6 * elev
    codes = [4, 3, 2, 1]  # low score -> urban ... high score -> forest
    water_share = CLASSES[5][1]
    lake_share = float(lake.mean())
    extra_water = max(water_share - lake_share, 0.0)
    shares = [CLASSES[c][1] for c in codes]
    tot = sum(shares)
    shares = [s / tot for s in shares]
    lulc = _quantile_classes(score, shares, codes)
    lulc[lake] = 5
    if extra_water > 0:
        # lowest cells become water (river flats)
        thr = np.quantile(dem, extra_water)
        lulc[dem <= thr] = 5
    return lulc


def _lulc_alt(rng: np.random.Generator, n: int, lulc: np.ndarray) -> np.ndarray:
    f = _smooth(rng, n)
    alt = lulc.copy()
    alt[(lulc == 1) & (f > 0.6)] = 3  # deforestation -> crop
    alt[(lulc == 3) & (f < 0.25)] = 4  # urban expansion
    return alt


def _scaled(rng, n, lo, hi, grad=(0.0, 0.0), w_grad=0.5):
    s = _smooth(rng, n)
    if grad != (0.0, 0.0):
        s = (1 - w_grad) * s + w_grad * _gradient(n, *grad)
    return (lo + (hi - lo) * s).astype(np.float32)


# ---------------------------------------------------------------------------------------
# writing


def _profile(n: int, dtype: str, nodata: float):
    from rasterio.crs import CRS
    from rasterio.transform import from_origin

    tiled = n >= 256
    prof = {
        "driver": "GTiff",
        "width": n,
        "height": n,
        "count": 1,
        "dtype": dtype,
        "nodata": nodata,
        "crs": CRS.from_epsg(EPSG),
        "transform": from_origin(X0, Y0_BASE + n * PIXEL, PIXEL, PIXEL),
        "compress": "lzw",
    }
    if tiled:
        prof.update(tiled=True, blockxsize=256, blockysize=256)
    if n * n * 4 > 2**31:
        prof["BIGTIFF"] = "YES"
    return prof


def _write(path: Path, arr: np.ndarray, nodata: float) -> None:
    import rasterio

    with rasterio.open(path, "w", **_profile(arr.shape[0], arr.dtype.name, nodata)) as dst:
        dst.write(arr, 1)


def _write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(r)


def watershed_polygons(n: int) -> list[tuple[int, tuple[float, float, float, float]]]:
    """(ws_id, (xmin, ymin, xmax, ymax)) in map units."""
    top = Y0_BASE + n * PIXEL
    half = n // 2
    # ws 1: whole pixels, cols [5, half-1), rows [5, n-5)
    ws1 = (X0 + INSET_PX * PIXEL, top - (n - INSET_PX) * PIXEL, X0 + (half - 1) * PIXEL, top - INSET_PX * PIXEL)
    # ws 2: west edge at col half+0.37, east edge at col n-5-0.45, south edge at row n-5-0.61:
    # these cut through pixels (the east/south ones also decide how the bbox is snapped)
    ws2 = (
        X0 + (half + 0.37) * PIXEL,
        top - (n - INSET_PX - 0.61) * PIXEL,
        X0 + (n - INSET_PX - 0.45) * PIXEL,
        top - INSET_PX * PIXEL,
    )
    return [(1, ws1), (2, ws2)]


def _write_watersheds(path: Path, n: int) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    polys = watershed_polygons(n)
    gdf = gpd.GeoDataFrame(
        {"ws_id": np.array([p[0] for p in polys], dtype=np.int32)},
        geometry=[box(*p[1]) for p in polys],
        crs=f"EPSG:{EPSG}",
    )
    for old in path.parent.glob(path.stem + ".*"):
        if old.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix"):
            old.unlink()
    gdf.to_file(path, driver="ESRI Shapefile")


def _datastack(model_id: str, args: dict) -> dict:
    return {"args": args, "invest_version": INVEST_VERSION, "model_id": model_id}


def write_datastacks(dest: Path, flow_dir: str = "MFD") -> dict[str, Path]:
    """(Re)write the four parameter sets; paths are relative to ``dest``."""
    common_ws = "watersheds.shp"
    awy = _datastack(
        "annual_water_yield",
        {
            "lulc_path": "lulc.tif",
            "depth_to_root_rest_layer_path": "depth_root.tif",
            "precipitation_path": "precip.tif",
            "pawc_path": "pawc.tif",
            "eto_path": "eto.tif",
            "watersheds_path": common_ws,
            "sub_watersheds_path": "",
            "biophysical_table_path": "biophysical_awy.csv",
            "seasonality_constant": AWY_SEASONALITY,
            "demand_table_path": "",
            "valuation_table_path": "",
            "results_suffix": "",
            "n_workers": -1,
        },
    )
    carbon = _datastack(
        "carbon",
        {
            "lulc_bas_path": "lulc.tif",
            "lulc_alt_path": "lulc_alt.tif",
            "carbon_pools_path": "carbon_pools.csv",
            "calc_sequestration": True,
            "lulc_bas_year": 2020,
            "lulc_alt_year": 2030,
            "do_valuation": False,
            "results_suffix": "",
            "n_workers": -1,
        },
    )

    def sdr(fd):
        return _datastack(
            "sdr",
            {
                "dem_path": "dem.tif",
                "erosivity_path": "erosivity.tif",
                "erodibility_path": "erodibility.tif",
                "lulc_path": "lulc.tif",
                "watersheds_path": common_ws,
                "biophysical_table_path": "biophysical_sdr.csv",
                **SDR_PARAMS,
                "drainage_path": "",
                "flow_dir_algorithm": fd,
                "results_suffix": "",
                "n_workers": -1,
            },
        )

    out = {}
    stacks = {"awy": awy, "carbon": carbon, "sdr_mfd": sdr("MFD"), "sdr_d8": sdr("D8"), "sdr": sdr(flow_dir)}
    for name, ds in stacks.items():
        p = dest / f"{name}.invs.json"
        p.write_text(json.dumps(ds, indent=4, sort_keys=False) + "\n")
        out[name] = p
    return out


def make_dataset(
    dest, n: int, seed: int = 42, flow_dir: str = "MFD", nodata_holes: bool = False, force: bool = False
) -> Path:
    """Generate the dataset into ``dest`` (created). Deterministic in (n, seed, nodata_holes).

    ``flow_dir`` selects the algorithm of the generic ``sdr.invs.json``; ``sdr_mfd.invs.json``
    and ``sdr_d8.invs.json`` are always written. If ``dest/dataset.json`` already records the
    same parameters and all files exist, the rasters are not regenerated (only the JSON
    parameter sets are rewritten), unless ``force``.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if flow_dir not in ("MFD", "D8"):
        raise ValueError("flow_dir must be 'MFD' or 'D8'")
    meta = {
        "generator": "crosscheck/datasets.py v2",
        "n": int(n),
        "seed": int(seed),
        "nodata_holes": bool(nodata_holes),
        "epsg": EPSG,
        "pixel_size": PIXEL,
    }
    meta_path = dest / "dataset.json"
    files = [f"{r}.tif" for r in RASTERS] + [
        "watersheds.shp",
        "biophysical_awy.csv",
        "biophysical_sdr.csv",
        "carbon_pools.csv",
    ]
    if not force and meta_path.exists():
        try:
            old = json.loads(meta_path.read_text())
        except ValueError:
            old = {}
        if all(old.get(k) == v for k, v in meta.items()) and all((dest / f).exists() for f in files):
            write_datastacks(dest, flow_dir)
            return dest

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    # independent sub-streams so each field does not depend on the others' draw counts
    seeds = rng.spawn(10)
    dem, lake, features = _dem(np.random.default_rng(seeds[0]), n)
    lulc = _lulc(np.random.default_rng(seeds[1]), n, dem, lake)
    lulc_alt = _lulc_alt(np.random.default_rng(seeds[2]), n, lulc)
    precip = _scaled(np.random.default_rng(seeds[3]), n, 1200.0, 1850.0, grad=(0.3, 1.0))
    eto = _scaled(np.random.default_rng(seeds[4]), n, 950.0, 1150.0, grad=(1.0, -0.5))
    depth = _scaled(np.random.default_rng(seeds[5]), n, 600.0, 2000.0)
    pawc = _scaled(np.random.default_rng(seeds[6]), n, 0.1, 0.3)
    r_fac = _scaled(np.random.default_rng(seeds[7]), n, 3000.0, 6000.0, grad=(0.0, 1.0))
    k_fac = _scaled(np.random.default_rng(seeds[8]), n, 0.02, 0.05)

    if nodata_holes:
        h = np.random.default_rng(seeds[9])
        b = max(2, n // 50)

        def block():
            cy, cx = (int(v) for v in h.integers(INSET_PX + b, n - INSET_PX - b, size=2))
            return slice(cy, cy + b), slice(cx, cx + b)

        lulc[block()] = LULC_NODATA
        lulc_alt[block()] = LULC_NODATA
        dem[block()] = DEM_NODATA
        precip[block()] = 0.0  # P == 0 -> fractp nodata in AWY
        for arr in (precip, eto, depth, pawc, r_fac, k_fac):
            m = h.random((n, n)) < 2e-4
            arr[m] = FLOAT_NODATA

    _write(dest / "dem.tif", dem, DEM_NODATA)
    _write(dest / "lulc.tif", lulc, LULC_NODATA)
    _write(dest / "lulc_alt.tif", lulc_alt, LULC_NODATA)
    for name, arr in (
        ("precip", precip),
        ("eto", eto),
        ("depth_root", depth),
        ("pawc", pawc),
        ("erosivity", r_fac),
        ("erodibility", k_fac),
    ):
        _write(dest / f"{name}.tif", arr, FLOAT_NODATA)
    _write_watersheds(dest / "watersheds.shp", n)
    _write_csv(dest / "biophysical_awy.csv", ["lucode", "description", "lulc_veg", "root_depth", "kc"], AWY_TABLE)
    _write_csv(dest / "biophysical_sdr.csv", ["lucode", "description", "usle_c", "usle_p"], SDR_TABLE)
    _write_csv(
        dest / "carbon_pools.csv", ["lucode", "description", "c_above", "c_below", "c_soil", "c_dead"], CARBON_TABLE
    )

    valid = lulc != LULC_NODATA
    meta["class_shares"] = {CLASSES[c][0]: round(float((lulc[valid] == c).mean()), 4) for c in CLASSES}
    meta["features"] = features
    meta["seconds"] = round(time.perf_counter() - t0, 2)
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    write_datastacks(dest, flow_dir)
    return dest


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dest")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--flow-dir", default="MFD", choices=["MFD", "D8"])
    ap.add_argument("--nodata-holes", action="store_true")
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    d = make_dataset(a.dest, a.n, a.seed, a.flow_dir, a.nodata_holes, a.force)
    print(f"{d} ({a.n}x{a.n}, seed {a.seed}) in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
