"""A region package started from a county's own files: `gep region new`.

The county has a zones file (GPKG, SHP or GeoJSON, often in a Gauss–Krüger or UTM CRS) and a folder of rasters
(often in yet another CRS). This writes a package around them: the zones with their level columns renamed to the
package's, an equal-area Albers CRS centred on the zones (standard parallels at 1/6 and 5/6 of their latitude
span, the usual rule for a conic projection of a small area), each raster's layer and year guessed from its file
name, the land-cover classes to map, an empty statistics table, and region.toml; then it validates the package at
once, so the county sees what is still to do.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from pyproj import CRS

from gep.accounting.catalogue import LAYERS
from gep.accounting.zones import LEVELS
from gep.errors import N_, InputError

# words in file names (lower case) -> layer; Chinese and common English abbreviations
ALIASES: dict[str, str] = {
    "ecosystem": "ecosystem", "landcover": "ecosystem", "land_cover": "ecosystem", "lulc": "ecosystem",
    "lucc": "ecosystem", "lc": "ecosystem", "土地利用": "ecosystem", "生态系统": "ecosystem",
    "dem": "dem", "elevation": "dem", "srtm": "dem", "高程": "dem",
    "precipitation": "precipitation", "precip": "precipitation", "prec": "precipitation", "pre": "precipitation",
    "rain": "precipitation", "rainfall": "precipitation", "降水": "precipitation", "降雨": "precipitation",
    "storm_precipitation": "storm_precipitation", "storm": "storm_precipitation", "暴雨": "storm_precipitation",
    "evapotranspiration": "evapotranspiration", "aet": "evapotranspiration", "et": "evapotranspiration",
    "蒸散": "evapotranspiration",
    "vegetation_cover": "vegetation_cover", "fvc": "vegetation_cover", "植被覆盖": "vegetation_cover",
    "npp": "npp", "净初级生产力": "npp",
    "rainfall_erosivity": "rainfall_erosivity", "erosivity": "rainfall_erosivity",
    "soil_erodibility": "soil_erodibility", "erodibility": "soil_erodibility",
    "sand": "sand", "silt": "silt", "clay": "clay", "organic_matter": "organic_matter", "som": "organic_matter",
    "reference_et": "reference_et", "et0": "reference_et", "pet": "reference_et",
    "soil_depth": "soil_depth", "pawc": "pawc",
}
YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
RASTER_SUFFIXES = (".tif", ".tiff", ".img", ".vrt")


@dataclass(frozen=True)
class RasterGuess:
    path: Path
    layer: str
    year: int | None


def guess_layer(path: Path) -> RasterGuess | None:
    """The layer (and year) a raster's file name names, or None: the longest alias found as a word wins."""
    stem = path.stem.lower()
    year_match = YEAR.search(stem)
    words = re.sub(YEAR, " ", stem)
    best = None
    for alias, layer in ALIASES.items():
        if re.search(rf"(?<![a-z]){re.escape(alias)}(?![a-z])", words) and (best is None or len(alias) > len(best[0])):
            best = (alias, layer)
    if best is None:
        return None
    return RasterGuess(path, best[1], int(year_match.group(1)) if year_match else None)


def albers_for(zones: gpd.GeoDataFrame) -> CRS:
    """An Albers equal-area CRS centred on the zones: central meridian at their middle longitude, standard
    parallels at 1/6 and 5/6 of their latitude span, metres, WGS 84."""
    lon0, lat0, lon1, lat1 = zones.to_crs(4326).total_bounds
    span = max(lat1 - lat0, 0.5)  # a very small area still gets parallels a little apart
    mid = (lat0 + lat1) / 2
    p1, p2 = mid - span / 3, mid + span / 3
    return CRS.from_proj4(f"+proj=aea +lat_0={mid:.4f} +lon_0={(lon0 + lon1) / 2:.4f} +lat_1={p1:.4f} "
                          f"+lat_2={p2:.4f} +datum=WGS84 +units=m +no_defs")


def scaffold(zones_path: Path, rasters: Path, dest: Path, region_id: str, name: str, resolution: float,
             columns: dict[str, str] | None = None, classes: Path | None = None, method: str = "zhejiang-2020",
             link: bool = False) -> tuple[Path, list[RasterGuess], list[Path]]:
    """Write the package into `dest` (new or empty); returns it, the rasters placed and the ones not recognised."""
    import tomlkit

    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise InputError(N_("{folder} is not empty; choose a new folder for the package"), folder=str(dest))
    if not resolution > 0:
        raise InputError(N_("the resolution must be a positive number of metres, got {value}"), value=resolution)
    zones = gpd.read_file(zones_path)
    if zones.crs is None:
        raise InputError(N_("{file} has no CRS; set the CRS its coordinates are in"), file=zones_path.name)
    renamed = {src: dst for dst, src in (columns or {}).items()}
    zones = zones.rename(columns=renamed)
    wanted = [f"{lv}_{k}" for lv in LEVELS for k in ("code", "name")]
    missing = [c for c in wanted[:4] if c not in zones.columns]
    if missing:
        raise InputError(N_("{file} lacks the columns {columns}; map the county's own with --column, e.g. "
                            "--column city_code=SHI_DM (found: {found})"), file=zones_path.name,
                         columns=", ".join(missing), found=", ".join(map(str, zones.columns)))
    guesses, unknown = [], []
    for path in sorted(p for p in Path(rasters).rglob("*") if p.suffix.lower() in RASTER_SUFFIXES):
        guess = guess_layer(path)
        if guess is None:
            unknown.append(path)
        else:
            guesses.append(guess)
    if not any(g.layer == "ecosystem" for g in guesses):
        raise InputError(N_("no land-cover raster among {folder} (a name with landcover, lulc, ecosystem or 土地利用)"),
                         folder=str(rasters))
    years = sorted({g.year for g in guesses if g.year is not None}) or [2020]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "rasters").mkdir()
    (dest / "statistics").mkdir()
    keep = [c for c in wanted if c in zones.columns]
    zones[[*keep, zones.geometry.name]].to_file(dest / "zones.gpkg", layer="zones")
    layers = tomlkit.table(is_super_table=True)
    per_layer: dict[str, list[RasterGuess]] = {}
    for g in guesses:
        per_layer.setdefault(g.layer, []).append(g)
    placed = []
    for layer, found in per_layer.items():
        dated = LAYERS[layer].per_year and all(g.year is not None for g in found)
        for g in found if dated else found[:1]:
            target = dest / "rasters" / (f"{layer}_{g.year}{g.path.suffix.lower()}" if dated else
                                         f"{layer}{g.path.suffix.lower()}")
            if link:
                os.symlink(g.path.resolve(), target)
            else:
                shutil.copy2(g.path, target)
            placed.append(g)
        entry = tomlkit.table()
        entry["file"] = f"rasters/{layer}_{{year}}{found[0].path.suffix.lower()}" if dated else \
            f"rasters/{layer}{found[0].path.suffix.lower()}"
        entry["unit"] = LAYERS[layer].unit
        entry["source"] = ", ".join(g.path.name for g in found)
        entry["note"] = f"layer guessed from the file name by gep region new; check the unit ({LAYERS[layer].unit})"
        layers[layer] = entry
    _classes(dest, per_layer["ecosystem"][0].path, classes)
    pd.DataFrame(columns=["zone_code", "year", "item", "value", "unit", "source"]).to_csv(
        dest / "statistics" / "statistics.csv", index=False)
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Region package started by `gep region new` from {zones_path.name} and {rasters}; "
                            "see docs/region-package.md"))
    head = tomlkit.table()
    head["id"], head["name"] = region_id, name
    head["crs"] = albers_for(zones).to_proj4()
    head["resolution"], head["years"], head["method"] = float(resolution), years, method
    doc["region"] = head
    doc["zones"] = {"file": "zones.gpkg", "layer": "zones", "source": zones_path.name}
    doc["ecosystem_classes"] = {"file": "ecosystem_classes.csv"}
    doc["layers"] = layers
    doc["statistics"] = {"files": ["statistics/statistics.csv"]}
    (dest / "region.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    return dest, placed, unknown


def _classes(dest: Path, raster: Path, given: Path | None) -> None:
    """ecosystem_classes.csv: the given table, or every code of the land-cover raster with an empty ecosystem
    column for the county to fill (validation names each row until it is filled)."""
    if given is not None:
        shutil.copy2(given, dest / "ecosystem_classes.csv")
        return
    with rasterio.open(raster) as src:
        data = src.read(1, masked=True)
    codes = sorted(int(c) for c in np.unique(data.compressed()))
    pd.DataFrame({"code": codes, "ecosystem": [""] * len(codes), "name": [""] * len(codes)}).to_csv(
        dest / "ecosystem_classes.csv", index=False)
