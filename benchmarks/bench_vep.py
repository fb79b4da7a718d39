"""VEP of a polygon on a county-sized (and a city-sized) value surface: time per polygon against reading the same
window of the density raster (the least any pixel-exact valuation must do), measured in the same run.

    python benchmarks/bench_vep.py [--size 4400] [--workdir /tmp/gep-bench-vep] [--repeat 5]

The surface is synthetic (seeded): a 4-band value-density COG (total, material, regulating, cultural; float32,
DEFLATE, 512² tiles), about 1,700 village zones tiling it, and statistics-based values per village. Polygons are
a village (~10 km²), a township (~100 km²) and a county (~2,000 km²) at 30 m, plus a jagged 50-vertex
polygon of ~20 km² (a drawn one). Timings are medians of `--repeat` warm calls (the surface loaded once, as
the platform keeps it); the baseline reads the polygon's window, bands 2–4, and sums it with numpy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

RES = 30.0
ORIGIN = (500_000.0, 3_200_000.0)
CRS = "+proj=aea +lat_0=0 +lon_0=119.6 +lat_1=27.5 +lat_2=29 +datum=WGS84 +units=m +no_defs"


def make_surface(folder: Path, size: int, seed: int = 0) -> None:
    """density tif + zones.gpkg + accounts.parquet, as a run's accounts folder holds them."""
    import geopandas as gpd
    import pandas as pd
    import rasterio
    import rasterio.shutil
    from affine import Affine
    from shapely.geometry import box

    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "accounts.parquet").exists():
        return
    rng = np.random.default_rng(seed)
    transform = Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1])
    tmp = folder / "density.tmp.tif"
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 4, "dtype": "float32", "crs": CRS,
               "transform": transform, "nodata": np.nan, "tiled": True, "blockxsize": 512, "blockysize": 512,
               "compress": "deflate"}
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, size, 1024):
            h = min(1024, size - r0)
            cats = rng.gamma(2.0, [[[200.0]], [[40000.0]], [[3000.0]]], size=(3, h, size)).astype(np.float32)
            block = np.concatenate([cats.sum(axis=0, keepdims=True), cats])
            dst.write(block, window=rasterio.windows.Window(0, r0, size, h))
    rasterio.shutil.copy(tmp, folder / "value_density_2019.tif", driver="COG", compress="deflate")
    tmp.unlink()
    n = max(1, round(size * RES / 3200))  # ~3.2 km villages
    step = size * RES / n
    rows, values = [], []
    for i in range(n):
        for j in range(n):
            code = f"339901{i // 10:03d}{(i % 10) * n + j:03d}"
            x0, y1 = ORIGIN[0] + j * step, ORIGIN[1] - i * step
            rows.append({"city_code": "339900", "county_code": "339901", "township_code": code[:9],
                         "village_code": code, "geometry": box(x0, y1 - step, x0 + step, y1)})
            for cat in ("material", "regulating", "cultural"):
                values.append({"level": "village", "zone_code": code, "category": cat, "source_level": "county",
                               "value_yuan": float(rng.uniform(1e5, 1e7))})
    gpd.GeoDataFrame(rows, crs=CRS).to_file(folder / "zones.gpkg")
    pd.DataFrame(values).to_parquet(folder / "accounts.parquet")


def polygons(size: int) -> dict[str, object]:
    import shapely

    cx, cy = ORIGIN[0] + size * RES / 2, ORIGIN[1] - size * RES / 2
    angles = np.linspace(0, 2 * np.pi, 50, endpoint=False)
    radii = 2500 * (1 + 0.3 * np.sin(7 * angles))
    jagged = shapely.Polygon(np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)]))
    side = {"village ~10 km²": 3200, "township ~100 km²": 10_000, "county ~2,000 km²": 45_000}
    out: dict[str, object] = {k: shapely.box(cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2) for k, s in side.items()}
    out["drawn, 50 vertices ~20 km²"] = jagged
    return out


def baseline(path: Path, geom: object) -> float:
    """Read the polygon's window (bands 2–4) and sum it: no rasterizing, no zones."""
    import rasterio
    from rasterio.windows import from_bounds

    with rasterio.open(path) as src:
        window = from_bounds(*geom.bounds, transform=src.transform).round_offsets().round_lengths()  # type: ignore[attr-defined]
        data = src.read([2, 3, 4], window=window)
    return float(np.nansum(data))


def timed(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4400, help="pixels a side (4400 ≈ Lishui at 30 m)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gep-bench-vep"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from gep.registry import vep

    folder = args.workdir / str(args.size)
    t0 = time.perf_counter()
    make_surface(folder, args.size)
    print(f"surface {args.size}² px ({args.size ** 2 / 1e6:.1f} M) at {RES:g} m in {folder} "
          f"({time.perf_counter() - t0:.1f} s to make or reuse)")
    t0 = time.perf_counter()
    surface = vep.surface(1, str(folder), 2019, 2019, "synthetic")
    print(f"loading the surface (zones, statistics, index), once per run: {time.perf_counter() - t0:.2f} s")
    density = folder / "value_density_2019.tif"
    print(f"{'polygon':<28} {'pixels':>10} {'VEP s':>8} {'baseline s':>11} {'ratio':>6}  GEP (亿元)")
    for name, geom in polygons(args.size).items():
        result = vep.value(surface, geom)  # type: ignore[arg-type]
        t_vep = timed(lambda g=geom: vep.value(surface, g), args.repeat)  # type: ignore[misc]
        t_base = timed(lambda g=geom: baseline(density, g), args.repeat)
        print(f"{name:<28} {result.pixels:>10,} {t_vep:>8.3f} {t_base:>11.3f} {t_vep / t_base:>6.2f}  "
              f"{result.gep / 1e8:,.2f}")


if __name__ == "__main__":
    main()
