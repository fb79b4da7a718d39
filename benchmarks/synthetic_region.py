"""Generate a synthetic region package (docs/region-package.md) of any size, for benchmarks.

The package mimics Lishui in shape and magnitudes (a mountainous, mostly forested city of 9 counties,
~170 townships and ~1,700 villages) but every number in it is generated from a seed. The rasters are
written ALREADY ON the accounting grid (same CRS, origin, resolution and size as the zones' bounding box)
so a benchmark measures the accounting, not a reprojection.

Rasters are tiled 256×256 GeoTIFFs, uncompressed by default: reading an uncompressed tile from the page
cache is a memcpy, so the benchmark is not dominated by DEFLATE decoding (smooth float32 fields compress
poorly anyway). Pass `compress="deflate"` for small files.

Fields are written window by window (256×1024 pixels), so generating a 4400×4400 region needs a few tens
of MB and takes seconds.

    python benchmarks/synthetic_region.py --size 200 --out /tmp/x
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.transform import from_origin
from rasterio.windows import Window

CRS = "+proj=aea +lat_0=0 +lon_0=119.6 +lat_1=27.5 +lat_2=29 +datum=WGS84 +units=m +no_defs"
# Roughly Lishui's north-west corner in the CRS above; snapped to the resolution in `_origin`.
ORIGIN_X, ORIGIN_Y = -90_000.0, 3_180_000.0
YEAR = 2019
FLOAT_NODATA = -9999.0
CLASS_NODATA = 255
BLOCK = 256

# Land-cover code -> (ecosystem id from gep.accounting.catalogue.ECOSYSTEMS, label).
# Codes follow the style of the Chinese 2-level land-use classification.
CLASSES: dict[int, tuple[str, str]] = {
    11: ("paddy", "水田"),
    12: ("dry_farmland", "旱地"),
    13: ("shrub_orchard", "茶园"),
    21: ("evergreen_broadleaf_forest", "常绿阔叶林"),
    22: ("evergreen_needleleaf_forest", "常绿针叶林"),
    23: ("mixed_forest", "针阔混交林"),
    24: ("sparse_forest", "疏林地"),
    31: ("evergreen_shrub", "灌木林"),
    41: ("tussock", "草丛"),
    51: ("river", "河流"),
    52: ("reservoir", "水库坑塘"),
    61: ("urban", "城镇建设用地"),
}
# Per-class vegetation cover (fraction) and NPP (gC/m2/a) around which the fields vary.
_COVER = {11: 0.55, 12: 0.5, 13: 0.7, 21: 0.92, 22: 0.88, 23: 0.9, 24: 0.6, 31: 0.75, 41: 0.6,
          51: 0.03, 52: 0.03, 61: 0.15}
_NPP = {11: 560, 12: 480, 13: 520, 21: 720, 22: 660, 23: 690, 24: 480, 31: 520, 41: 420,
        51: 40, 52: 40, 61: 130}

# Layer name -> file name (per-year layers carry `{year}` in region.toml).
FLOAT_LAYERS = {
    "dem": ("m", "rasters/dem.tif"),
    "precipitation": ("mm", "rasters/precipitation_{year}.tif"),
    "storm_precipitation": ("mm", "rasters/storm_precipitation_{year}.tif"),
    "evapotranspiration": ("mm", "rasters/evapotranspiration_{year}.tif"),
    "vegetation_cover": ("fraction", "rasters/vegetation_cover_{year}.tif"),
    "npp": ("gC/m2", "rasters/npp_{year}.tif"),
}

# The layers soil retention needs besides the DEM and cover (written with `soil=True`, as for a province).
SOIL_LAYERS = {
    "rainfall_erosivity": ("MJ·mm/(ha·h·a)", "rasters/rainfall_erosivity_{year}.tif"),
    "soil_erodibility": ("t·ha·h/(ha·MJ·mm)", "rasters/soil_erodibility.tif"),
}

# Townships per county as (columns, rows): 170 townships in all, as in Lishui (~173).
_TOWNSHIP_GRIDS = [(4, 4), (4, 5), (5, 4), (4, 4), (5, 5), (3, 5), (4, 5), (5, 4), (3, 6)]
# Villages per township as (columns, rows), drawn per township: ~9.8 on average -> ~1,670 villages.
_VILLAGE_GRIDS = [(3, 3), (3, 4), (4, 3), (2, 4), (4, 2)]
# A province (`province=True`): 10 × 9 = 90 counties, ~14.3 townships a county (~1,290), ~19.8 villages a
# township (~25,500), the sizes the issue asks of a province-size benchmark.
_PROVINCE_COUNTIES = (10, 9)
_PROVINCE_TOWNSHIP_GRIDS = [(4, 4), (3, 4), (4, 3), (3, 5), (5, 3), (4, 4)]
_PROVINCE_VILLAGE_GRIDS = [(4, 5), (5, 4), (4, 4), (5, 5), (3, 6), (4, 5)]

# County-level statistics: item -> (typical value per county in `unit`, relative spread, unit as published).
# Magnitudes are Lishui 2019 city figures / 9 (output values from the statistical yearbook order of
# magnitude, water use from the 2019 water resources bulletin, hydropower from ~2.7 GW installed).
STATISTICS: dict[str, tuple[float, float, str]] = {
    "agriculture.output_value": (120_000, 0.4, "万元"),
    "forestry.output_value": (45_000, 0.5, "万元"),
    "animal_husbandry.output_value": (30_000, 0.4, "万元"),
    "fishery.output_value": (8_000, 0.6, "万元"),
    "water_supply.domestic": (950, 0.4, "万m3"),
    "water_supply.industrial": (960, 0.6, "万m3"),
    "water_supply.agricultural": (4_300, 0.4, "万m3"),
    "hydropower.generation": (90_000, 0.6, "万kWh"),
    "air_purification.emission.so2": (450, 0.5, "t"),
    "air_purification.emission.nox": (1_400, 0.5, "t"),
    "air_purification.emission.dust": (800, 0.5, "t"),
    "water_purification.emission.cod": (3_000, 0.4, "t"),
    "water_purification.emission.nh3n": (300, 0.4, "t"),
    "water_purification.emission.tp": (60, 0.4, "t"),
    "flood_regulation.reservoir_capacity": (50_000, 0.8, "万m3"),
    "tourism.visitors": (1_100, 0.4, "万人次"),
    "tourism.revenue": (110, 0.4, "亿元"),
    "landscape_value.benefiting_area": (5_000_000, 0.4, "m2"),
    "landscape_value.house_price": (12_000, 0.3, "元/m2"),
    "gdp": (164, 0.4, "亿元"),
    "population": (28, 0.3, "万人"),
}


def _origin(resolution: float) -> tuple[float, float]:
    """Top-left corner at a multiple of the resolution, so the grid snaps onto itself."""
    return (np.floor(ORIGIN_X / resolution) * resolution, np.floor(ORIGIN_Y / resolution) * resolution)


# --------------------------------------------------------------------------------------------------
# Smooth random fields, evaluated window by window
# --------------------------------------------------------------------------------------------------


@dataclass
class SmoothField:
    """Sum of a few octaves of value noise in [0, 1], evaluable on any window without the whole array.

    Each octave is a coarse grid of uniform random nodes interpolated with a smoothstep; node spacings are
    fractions of the region's size, so a 200-pixel region looks like a shrunk 4400-pixel one.
    """

    grids: list[tuple[np.ndarray, float, float]]  # (nodes, spacing in pixels, weight)

    @classmethod
    def make(cls, rng: np.random.Generator, height: int, width: int,
             scales: tuple[float, ...] = (1 / 6, 1 / 24, 1 / 96),
             weights: tuple[float, ...] = (1.0, 0.45, 0.2)) -> SmoothField:
        size = max(height, width)
        grids = []
        for scale, weight in zip(scales, weights, strict=True):
            spacing = max(2.0, size * scale)
            shape = (int(height / spacing) + 3, int(width / spacing) + 3)
            grids.append((rng.random(shape), spacing, weight))
        return cls(grids)

    def window(self, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
        """Field values (float64, ~[0, 1]) at the centres of pixels [row0, row1) × [col0, col1)."""
        total = np.zeros((row1 - row0, col1 - col0))
        wsum = 0.0
        for nodes, spacing, weight in self.grids:
            iy, wy = _axis(row0, row1, spacing)
            ix, wx = _axis(col0, col1, spacing)
            rows = nodes[iy] * (1 - wy)[:, None] + nodes[iy + 1] * wy[:, None]
            total += weight * (rows[:, ix] * (1 - wx) + rows[:, ix + 1] * wx)
            wsum += weight
        total /= wsum
        # Stretch the sum (which clusters around 0.5) back towards [0, 1].
        return np.clip((total - 0.5) * 1.7 + 0.5, 0.0, 1.0)


def _axis(start: int, stop: int, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    pos = (np.arange(start, stop) + 0.5) / spacing
    idx = np.floor(pos).astype(np.intp)
    w = pos - idx
    return idx, w * w * (3 - 2 * w)


def _window(fields: dict[str, SmoothField], r0: int, r1: int, c0: int, c1: int) -> dict[str, np.ndarray]:
    """All layers on one window: ecosystem from elevation and noise, the rest from fields and class."""
    f = {name: fld.window(r0, r1, c0, c1) for name, fld in fields.items()}
    dem = 30.0 + 1770.0 * f["relief"] ** 1.6
    e, w = f["landuse"], f["water"]
    river = (np.abs(f["river"] - 0.5) < 0.008) & (dem < 700)
    conds = [
        river,
        (w > 0.93) & (dem > 120) & (dem < 800),
        (dem < 130) & (e > 0.68),
        (dem < 130) & (e > 0.3),
        dem < 130,
        (dem < 350) & (e > 0.72),
        (dem < 900) & (e < 0.15),
        (dem > 1300) & (e < 0.35),
        (e > 0.45) & (e < 0.49),
        (dem > 900) & (e < 0.5),
        e < 0.56,
    ]
    codes = np.select(conds, [51, 52, 61, 11, 12, 13, 31, 41, 24, 22, 23], default=21).astype(np.uint8)
    lut_cover = np.zeros(256)
    lut_npp = np.zeros(256)
    for code in CLASSES:
        lut_cover[code], lut_npp[code] = _COVER[code], _NPP[code]
    v = f["vigour"]
    precip = 1550 + 550 * f["rain"] + 0.25 * dem
    out = {
        "ecosystem": codes,
        "dem": dem,
        "precipitation": precip,
        "storm_precipitation": 0.12 * precip + 180 * f["storm"],
        "evapotranspiration": 560 + 180 * v - 0.05 * dem + 80 * (codes >= 51) * (codes <= 52),
        "vegetation_cover": np.clip(lut_cover[codes] * (0.85 + 0.25 * v), 0, 1),
        "npp": lut_npp[codes] * (0.8 + 0.4 * v),
    }
    if "soil" in f:  # RUSLE R around Zhejiang's 3,500–6,500 MJ·mm/(ha·h·a), K 0.02–0.04
        out["rainfall_erosivity"] = 3500 + 3000 * f["rain"]
        out["soil_erodibility"] = 0.02 + 0.02 * f["soil"]
    return {k: (a if k == "ecosystem" else a.astype(np.float32)) for k, a in out.items()}


# --------------------------------------------------------------------------------------------------
# Zones: nested rectangles, city > 9 counties > townships > villages
# --------------------------------------------------------------------------------------------------


def _breaks(rng: np.random.Generator, a: float, b: float, n: int, jitter: float = 0.3) -> np.ndarray:
    """n+1 increasing cut positions from a to b, evenly spaced ± jitter·step, so parts differ in size."""
    step = (b - a) / n
    inner = a + step * np.arange(1, n) + rng.uniform(-jitter, jitter, n - 1) * step
    return np.concatenate([[a], inner, [b]])


def make_zones(rng: np.random.Generator, width: int, height: int, resolution: float,
               province: bool = False) -> gpd.GeoDataFrame:
    """Village rectangles with the codes and names of every level above (docs: zones.gpkg).

    Cuts are at arbitrary (not pixel-aligned) coordinates inside the region, so the pixel-centre rule
    matters as with real boundaries; the outer boundary is the raster extent exactly. A province has 90
    counties (its top level is still the package's "city" level, named 合成省).
    """
    x0, y0 = _origin(resolution)
    x1, y1 = x0 + width * resolution, y0 - height * resolution
    rows: list[dict[str, object]] = []
    boxes: list[tuple[float, float, float, float]] = []
    city_code, city_name = "339900", "合成省" if province else "合成市"
    ncols, nrows = _PROVINCE_COUNTIES if province else (3, 3)
    cx, cy = _breaks(rng, x0, x1, ncols), _breaks(rng, y1, y0, nrows)
    for county_i in range(ncols * nrows):
        ci, cj = county_i % ncols, nrows - 1 - county_i // ncols  # county 1 in the north-west
        county_code = f"3399{county_i + 1:02d}"
        county_name = f"合成县{county_i + 1}"
        tcols, trows = (_PROVINCE_TOWNSHIP_GRIDS[rng.integers(len(_PROVINCE_TOWNSHIP_GRIDS))] if province
                        else _TOWNSHIP_GRIDS[county_i])
        tx = _breaks(rng, cx[ci], cx[ci + 1], tcols)
        ty = _breaks(rng, cy[cj], cy[cj + 1], trows)
        for town_i in range(tcols * trows):
            ti, tj = town_i % tcols, trows - 1 - town_i // tcols
            township_code = f"{county_code}{town_i + 1:03d}"
            township_name = f"{county_name}{town_i + 1}镇"
            grids = _PROVINCE_VILLAGE_GRIDS if province else _VILLAGE_GRIDS
            vcols, vrows = grids[rng.integers(len(grids))]
            vx = _breaks(rng, tx[ti], tx[ti + 1], vcols)
            vy = _breaks(rng, ty[tj], ty[tj + 1], vrows)
            for vil_i in range(vcols * vrows):
                vi, vj = vil_i % vcols, vrows - 1 - vil_i // vcols
                rows.append({
                    "city_code": city_code, "city_name": city_name,
                    "county_code": county_code, "county_name": county_name,
                    "township_code": township_code, "township_name": township_name,
                    "village_code": f"{township_code}{vil_i + 1:03d}",
                    "village_name": f"{township_name}{vil_i + 1}村",
                })
                boxes.append((vx[vi], vy[vj], vx[vi + 1], vy[vj + 1]))
    b = np.array(boxes)
    geom = shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3])
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geom, crs=CRS)


def make_statistics(rng: np.random.Generator, county_codes: list[str], seed: int) -> pd.DataFrame:
    """County-level rows for every fixed-unit statistics item, in published units (万元, 万m3, ...)."""
    records = []
    source = f"generated by benchmarks/synthetic_region.py, seed {seed}"
    for code in county_codes:
        for item, (typical, spread, unit) in STATISTICS.items():
            value = typical * float(np.exp(rng.normal(0.0, spread)))
            records.append({"zone_code": code, "year": YEAR, "item": item, "value": round(value, 2),
                            "unit": unit, "source": source,
                            "synthetic": "true"})
    return pd.DataFrame(records)


# --------------------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------------------


def _manifest(width: int, height: int, resolution: float, seed: int, chunk_size: int,
              province: bool = False) -> str:
    source = f"generated by benchmarks/synthetic_region.py, seed {seed}"
    kind, kind_en = ("合成省", "Synthetic province") if province else ("合成市", "Synthetic")
    note = ("nested rectangles: 90 counties, ~1,300 townships, ~25,000 villages" if province
            else "nested rectangles: 9 counties, ~170 townships, ~1,700 villages")
    lines = [
        "# Synthetic region: every file in this package is generated; nothing here is real data.",
        "[region]",
        f'id = "synthetic-{"province-" if province else ""}{width}x{height}"',
        f'name = "{kind} ({width}×{height} px)"',
        f'name_en = "{kind_en} {width}x{height}"',
        f'crs = "{CRS}"',
        f"resolution = {float(resolution)}",
        f"years = [{YEAR}]",
        'method = "zhejiang-2020"',
        f"chunk_size = {chunk_size}",
        "synthetic = true",
        f'source = "{source}"',
        "",
        "[zones]",
        'file = "zones.gpkg"',
        'layer = "villages"',
        f'source = "{source}"',
        "synthetic = true",
        f'note = "{note}"',
        "",
        "[ecosystem_classes]",
        'file = "ecosystem_classes.csv"',
    ]
    layers = {"ecosystem": ("class", "rasters/ecosystem.tif"), **FLOAT_LAYERS, **(SOIL_LAYERS if province else {})}
    for name, (unit, file) in layers.items():
        lines += ["", f"[layers.{name}]", f'file = "{file}"', f'unit = "{unit}"', f'source = "{source}"',
                  "synthetic = true"]
    lines += ["", "[statistics]", 'files = ["statistics/statistics.csv"]', ""]
    return "\n".join(lines)


def make_synthetic_region(dest: Path, width: int, height: int, resolution: float = 30.0, seed: int = 0,
                          chunk_size: int = 1024, compress: str | None = None,
                          overwrite: bool = False, province: bool = False) -> Path:
    """Write a complete region package to `dest` and return `dest`.

    `province`: 90 counties, ~1,300 townships, ~25,000 villages, and the layers soil retention needs
    (rainfall erosivity and soil erodibility besides the DEM and cover), as for the scale benchmark.

    The package is assembled in a sibling `.partial` folder and renamed at the end, so a folder that exists
    under `dest` is always complete (callers may reuse it).
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{dest} exists; pass overwrite=True to replace it")
        shutil.rmtree(dest)
    elif dest.exists():
        dest.rmdir()  # an empty folder: replaced by the finished package
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "rasters").mkdir(parents=True)
    (tmp / "statistics").mkdir()
    rng = np.random.default_rng(seed)

    zones = make_zones(rng, width, height, resolution, province)
    zones.to_file(tmp / "zones.gpkg", layer="villages", driver="GPKG")
    pd.DataFrame([{"code": c, "ecosystem": e, "name": n} for c, (e, n) in CLASSES.items()]).to_csv(
        tmp / "ecosystem_classes.csv", index=False)
    make_statistics(rng, sorted(zones["county_code"].unique()), seed).to_csv(
        tmp / "statistics" / "statistics.csv", index=False)
    (tmp / "region.toml").write_text(_manifest(width, height, resolution, seed, chunk_size, province),
                                     encoding="utf-8")

    field_names = ("relief", "landuse", "water", "river", "rain", "storm", "vigour")
    fields = {name: SmoothField.make(rng, height, width) for name in field_names}
    fields["water"] = SmoothField.make(rng, height, width, scales=(1 / 40, 1 / 120), weights=(1.0, 0.3))
    if province:
        fields["soil"] = SmoothField.make(rng, height, width)

    x0, y0 = _origin(resolution)
    base = {"driver": "GTiff", "width": width, "height": height, "count": 1, "crs": CRS,
            "transform": from_origin(x0, y0, resolution, resolution), "tiled": True,
            "blockxsize": BLOCK, "blockysize": BLOCK, "BIGTIFF": "IF_SAFER"}
    if compress:
        base["compress"] = compress
    paths = {"ecosystem": "rasters/ecosystem.tif"} | {k: v[1] for k, v in FLOAT_LAYERS.items()}
    if province:
        paths |= {k: v[1] for k, v in SOIL_LAYERS.items()}
    # A small GDAL block cache: strips are written in full tile rows, so nothing needs to linger there.
    with rasterio.Env(GDAL_CACHEMAX=64 * 2**20):
        _write_rasters(tmp, paths, base, compress, fields, width, height)
    tmp.rename(dest)
    return dest


def _write_rasters(tmp: Path, paths: dict[str, str], base: dict[str, object], compress: str | None,
                   fields: dict[str, SmoothField], width: int, height: int) -> None:
    dsets = {}
    try:
        for name, rel in paths.items():
            is_class = name == "ecosystem"
            profile = base | {"dtype": "uint8" if is_class else "float32",
                              "nodata": CLASS_NODATA if is_class else FLOAT_NODATA}
            if compress:
                profile["predictor"] = 2 if is_class else 3
            dsets[name] = rasterio.open(tmp / rel.format(year=YEAR), "w", **profile)
        # Windows of whole tiles (256 rows × 1024 columns): every tile is written once, complete.
        for r0 in range(0, height, BLOCK):
            r1 = min(height, r0 + BLOCK)
            for c0 in range(0, width, 4 * BLOCK):
                c1 = min(width, c0 + 4 * BLOCK)
                for name, arr in _window(fields, r0, r1, c0, c1).items():
                    dsets[name].write(arr, 1, window=Window(c0, r0, c1 - c0, r1 - r0))
    finally:
        for ds in dsets.values():
            ds.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200, help="width = height in pixels")
    parser.add_argument("--width", type=int, help="overrides --size")
    parser.add_argument("--height", type=int, help="overrides --size")
    parser.add_argument("--resolution", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--compress", choices=["deflate", "lzw", "zstd"], default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--province", action="store_true",
                        help="90 counties, ~1,300 townships, ~25,000 villages, and soil retention's layers")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()) and not args.overwrite:
        parser.error(f"{args.out} exists and is not empty; pass --overwrite to replace it")
    t0 = time.perf_counter()
    path = make_synthetic_region(args.out, args.width or args.size, args.height or args.size,
                                 args.resolution, args.seed, args.chunk_size, args.compress, args.overwrite,
                                 args.province)
    print(f"wrote {path} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
