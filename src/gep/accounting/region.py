"""Region = Grid + Zones + Layers + Statistics, loaded from a region package and validated at once.

`load_region` reads the manifest, the zones, the headers of every raster (and a thin sample of their
pixels), and the statistics; it collects every problem before raising a single RegionError, so a user
fixes a package in one round. See docs/region-package.md.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import xarray as xr
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from gep.accounting.catalogue import (
    CARBON_PRICE_UNITS,
    CARBON_PRICES,
    ECOSYSTEMS,
    LAYER_UNIT_SPELLINGS,
    LAYERS,
    ROW,
    item_spec,
    layer_unit_ok,
)
from gep.accounting.grid import Grid, LayerSource, categorical_layer, continuous_layer, is_equal_area
from gep.accounting.location import RasterLocation, locate, shown
from gep.accounting.location import exists as raster_exists
from gep.accounting.methods import (
    MethodProfile,
    Parameter,
    ProfileError,
    load_profile,
    parse_parameter,
    suggest,
)
from gep.accounting.statistics import Statistics, allocate
from gep.accounting.zones import Zones, overlap_problems, validate_zones
from gep.errors import N_, InputError, MethodError, Problem, RegionError, Word

NO_FILE_KEY = N_("the key file is missing (the path of the file, relative to the package)")

BAND = N_("{file}, band {band}")  # where a problem is: a band of a raster file


@dataclass(frozen=True)
class LayerEntry:
    name: str
    file: str  # may contain {year}
    band: int
    unit: str
    source: str
    synthetic: bool
    note: str = ""

    def path(self, root: Path, year: int) -> RasterLocation:
        """The raster of a year: a file in the package at root, or a URL (`gep.accounting.location`)."""
        return locate(root, self.file.format(year=year))


@dataclass
class Region:
    root: Path
    id: str
    name: str
    name_en: str
    years: tuple[int, ...]
    method: str
    grid: Grid
    zones: Zones
    layers: dict[str, LayerEntry]
    ecosystem_codes: dict[int, str]
    statistics: Statistics
    overrides: dict[str, Parameter]
    provenance: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def has_layer(self, name: str, year: int) -> bool:
        entry = self.layers.get(name)
        return entry is not None and raster_exists(entry.path(self.root, year))

    def layer(self, name: str, year: int) -> da.Array:
        """A continuous layer on the grid (float64, NaN = nodata), lazily."""
        entry = self.layers[name]
        path = entry.path(self.root, year)
        label = f"{name} ({shown(path, self.root)})"
        return continuous_layer(LayerSource(path, entry.band, False, LAYERS[name].valid_range, label), self.grid)

    def dataset(self, year: int) -> xr.Dataset:
        """Every single-band layer of a year on the grid, lazily, as an xarray Dataset (x/y pixel centres).

        For researchers who want to explore inputs with xarray; the engine itself works on the dask arrays.
        """
        g = self.grid
        x, y = g.centres()
        data: dict[str, xr.DataArray] = {}
        for name, entry in self.layers.items():
            if name in ("ecosystem", "daily_precipitation") or not self.has_layer(name, year):
                continue
            data[name] = xr.DataArray(self.layer(name, year), dims=("y", "x"), attrs={"units": entry.unit})
        index, ids = self.ecosystem_index(year)
        data["ecosystem"] = xr.DataArray(index, dims=("y", "x"),
                                         attrs={"classes": [*ids, "none"], "description": "index into classes"})
        return xr.Dataset(data, coords={"x": x, "y": y}, attrs={"crs": g.crs.to_wkt(), "year": year,
                                                               "resolution_m": g.resolution})

    def bands(self, name: str, year: int) -> list[da.Array]:
        """Every band of a multi-band layer (e.g. daily precipitation), each lazily on the grid."""
        path = self.layers[name].path(self.root, year)
        with rasterio.open(path) as src:
            count = src.count
        rel = shown(path, self.root)
        return [continuous_layer(LayerSource(path, b, False, LAYERS[name].valid_range, f"{name} ({rel}, band {b})"),
                                 self.grid) for b in range(1, count + 1)]

    def ecosystem_index(self, year: int) -> tuple[da.Array, list[str]]:
        """Per-pixel index into the returned list of ecosystem ids; len(list) means 'no class'."""
        ids = sorted(set(self.ecosystem_codes.values()), key=list(ECOSYSTEMS).index)
        max_code = max(self.ecosystem_codes)
        lut = np.full(max_code + 1, len(ids), dtype=np.int16)
        for code, eco in self.ecosystem_codes.items():
            lut[code] = ids.index(eco)
        entry = self.layers["ecosystem"]
        source = LayerSource(entry.path(self.root, year), entry.band, True)
        return categorical_layer(source, self.grid, lut, len(ids)), ids

    def profile(self, method: str | None = None) -> MethodProfile:
        """The method profile with this region's overrides applied."""
        profile = load_profile(method or self.method)
        problems = override_problems(profile, self.overrides)
        if problems:
            raise ProfileError("region.toml", problems)
        return profile.with_overrides(self.overrides)


def override_problems(profile: MethodProfile, overrides: dict[str, Parameter]) -> list[Problem]:
    """What is wrong with a region's parameter overrides against a profile: unknown parameters (with a
    suggestion) and units other than the profile's."""
    problems = []
    for pid, p in overrides.items():
        where = "region.toml [parameters.{parameter}]"
        if pid not in profile.parameters:
            problems.append(Problem(where, N_("method {method} has no such parameter{suggestion}"), parameter=pid,
                                    method=profile.id, suggestion=suggest(pid, profile.parameters)))
        elif p.unit != profile.parameters[pid].unit:
            hint = N_(" (a price per tonne of carbon, yuan/tC, is converted to yuan per tonne of CO₂ × 12/44)") \
                if pid in CARBON_PRICES else ""
            problems.append(Problem(where, N_("unit {unit} differs from the method's {expected}{hint}"), parameter=pid,
                                    unit=repr(p.unit), expected=repr(profile.parameters[pid].unit), hint=Word(hint)))
    return problems


def _load_manifest(root: Path) -> dict[str, Any]:
    manifest = root / "region.toml"
    if not manifest.exists():
        raise RegionError(str(root), [Problem("region.toml",
                                              N_("region.toml is missing: this is not a region package"))])
    try:
        return tomllib.loads(manifest.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problem = Problem("region.toml", N_("not valid TOML: {detail}"), detail=str(exc))
        raise RegionError(str(root), [problem]) from None


def _region_grid_crs(head: dict[str, Any], problems: list[Problem]) -> tuple[CRS | None, float]:
    try:
        crs = CRS.from_user_input(head["crs"])
    except KeyError:
        problems.append(Problem("region.toml [region]", N_("crs is missing; give an equal-area projected CRS")))
        crs = None
    except Exception as exc:  # pyproj raises CRSError; anything else is the same user error
        problems.append(Problem("region.toml [region] crs", N_("not a valid CRS: {detail}"), detail=str(exc)))
        crs = None
    if crs is not None and not is_equal_area(crs):
        problems.append(Problem("region.toml [region] crs", N_("{crs} is not an equal-area projection; use Albers or "
                                                                "Lambert azimuthal equal-area"), crs=repr(crs.name)))
        crs = None
    resolution = head.get("resolution")
    if not isinstance(resolution, int | float) or resolution <= 0:
        problems.append(Problem("region.toml [region] resolution", N_("must be a positive number of metres, got "
                                                                       "{value}"), value=repr(resolution)))
        resolution = 0.0
    return crs, float(resolution)


def _load_zones(root: Path, spec: dict[str, Any], crs: CRS | None, problems: list[Problem]) -> Zones | None:
    file = spec.get("file")
    if not file:
        problems.append(Problem("region.toml [zones]", NO_FILE_KEY))
        return None
    path = root / file
    try:
        frame = gpd.read_file(path, layer=spec.get("layer")) if spec.get("layer") else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own errors for missing/corrupt files
        problems.append(Problem("{file}", N_("cannot read zones: {detail}"), file=str(file),
                                detail=str(exc).replace(str(path), str(file))))
        return None
    if frame.crs is None:
        problems.append(Problem(str(file), N_("has no CRS; set one (e.g. EPSG:4326 or the region's CRS)")))
        return None
    frame = frame.rename(columns=_dbf_names(frame.columns))
    for col in frame.columns:
        if col.endswith("_code"):
            frame[col] = frame[col].astype(str).str.strip().replace({"nan": "", "None": ""})
    levels, found = validate_zones(frame, str(file))
    problems += found
    if found or crs is None:
        return None
    projected = frame.to_crs(crs)
    found = overlap_problems(projected, str(file), f"{levels[-1]}_code")
    problems += found
    return None if found else Zones(projected, levels)


def _dbf_names(columns: Any) -> dict[str, str]:
    """A Shapefile's DBF cuts column names to 10 characters (township_code -> township_c): map them back."""
    wanted = [f"{lv}_{kind}" for lv in ("city", "county", "township", "village") for kind in ("code", "name")]
    present = set(columns)
    return {w[:10]: w for w in wanted if w not in present and w[:10] in present}


def _check_raster(root: Path, entry: LayerEntry, year: int, grid: Grid, zone_bounds: tuple[float, ...],
                  problems: list[Problem], notes: list[str], values: bool = True) -> None:
    path = entry.path(root, year)
    rel = shown(path, root)
    try:
        src = rasterio.open(path)
    except Exception as exc:  # a URL can also fail in rasterio's cloud session (boto3's credential errors)
        if isinstance(path, Path) and not isinstance(exc, RasterioIOError):
            raise
        if isinstance(path, Path) and not path.exists():  # a URL's failure is GDAL's or boto3's to tell
            problems.append(Problem("{file}", N_("layer {layer}: file not found"), file=rel, layer=entry.name))
            return
        problems.append(Problem("{file}", N_("layer {layer}: cannot open as a raster ({detail})"), file=rel,
                                layer=entry.name, detail=str(exc).replace(str(path), rel)))
        return
    with src:
        if entry.band < 1 or entry.band > src.count:
            problems.append(Problem("{file}", N_("layer {layer}: band {band} does not exist (file has {count})"),
                                    file=rel, layer=entry.name, band=entry.band, count=src.count))
            return
        if src.crs is None:
            problems.append(Problem(BAND, N_("layer {layer} has no CRS; assign the CRS the data are in"), file=rel,
                                    band=entry.band, layer=entry.name))
            return
        if src.crs.is_geographic:
            notes.append(f"{rel}: layer {entry.name} is in a geographic CRS ({src.crs.to_string()}); "
                         f"it is reprojected onto the region's equal-area grid")
        left, bottom, right, top = transform_bounds(src.crs, grid.crs, *src.bounds, densify_pts=21)
        zx0, zy0, zx1, zy1 = zone_bounds
        tol = grid.resolution
        if left > zx0 + tol or bottom > zy0 + tol or right < zx1 - tol or top < zy1 - tol:
            problems.append(Problem("{file}", N_("layer {layer} does not cover the zones: raster extent {raster} vs "
                                                 "zones {zones} in the region CRS"), file=rel, layer=entry.name,
                                    raster=f"({left:.0f}, {bottom:.0f}, {right:.0f}, {top:.0f})",
                                    zones=f"({zx0:.0f}, {zy0:.0f}, {zx1:.0f}, {zy1:.0f})"))
            return
        try:
            sample = _sample_inside(src, entry.band, grid.crs, zone_bounds)
        except RasterioIOError as exc:  # a truncated or corrupt file opens but fails on read
            problems.append(Problem(BAND, N_("layer {layer}: cannot read the pixels ({detail}); the file may be "
                                             "truncated or corrupt"), file=rel, band=entry.band, layer=entry.name,
                                    detail=str(exc).replace(str(path), rel)))
            return
        if sample is None:
            problems.append(Problem(BAND, N_("layer {layer} holds only nodata over the zones"), file=rel,
                                    band=entry.band, layer=entry.name))
            return
        if values:
            problems += sample_problems(entry.name, sample, rel, entry.band)


def sample_problems(layer: str, sample: np.ndarray, file: str, band: int) -> list[Problem]:
    """What a thin sample of a layer's pixels already shows: values that are not finite or outside the layer's
    physical range, and percent given for a fraction (or the reverse). The pass over the chunks checks every
    pixel again; this names most mistakes before any computing starts."""
    spec = LAYERS[layer]
    if spec.kind != "continuous" or spec.valid_range is None:
        return []
    v = sample.astype(np.float64)
    lo, hi = spec.valid_range
    bad = ~np.isfinite(v) | (v < lo) | (v > hi)
    if not bad.any():
        return []
    at = {"file": file, "band": band, "layer": layer}
    finite = v[np.isfinite(v)]
    vmin, vmax = (f"{finite.min():g}", f"{finite.max():g}") if finite.size else ("–", "–")
    if spec.unit == "fraction" and finite.size and finite.min() >= 0 and finite.max() <= 100:
        return [Problem(BAND, N_("layer {layer} looks like percent (values up to {max}); give a fraction from 0 to 1 "
                                 "(divide by 100)"), **at, max=vmax)]
    return [Problem(BAND, N_("layer {layer}: {count} of {total} sampled pixels are not finite or outside its range "
                             "{low}–{high} {unit} (sample min {min}, max {max}); check the unit and the nodata "
                             "value"), **at, count=int(bad.sum()), total=int(v.size), low=f"{lo:g}", high=f"{hi:g}",
                    unit=spec.unit, min=vmin, max=vmax)]


def _sample_inside(src: rasterio.io.DatasetReader, band: int, grid_crs: CRS,
                   zone_bounds: tuple[float, ...]) -> np.ndarray | None:
    """Valid pixels of the raster over the zones (a decimated read; a full read only if that finds none)."""
    bounds = transform_bounds(grid_crs, src.crs, *zone_bounds, densify_pts=21)
    window = from_bounds(*bounds, transform=src.transform).round_offsets().round_lengths()
    window = window.intersection(Window(0, 0, src.width, src.height))
    step = max(1, math.ceil(max(window.width, window.height) / 1024))
    for out_shape in ((max(1, window.height // step), max(1, window.width // step)), None):
        data = src.read(band, window=window, out_shape=out_shape, masked=True)
        valid = data.compressed()
        if np.issubdtype(valid.dtype, np.floating):
            valid = valid[~np.isnan(valid)]
        if valid.size:
            return valid
    return None


def _unique_codes(src_path: RasterLocation, band: int, grid_crs: CRS, zone_bounds: tuple[float, ...]) -> set[int]:
    """Every class code over the zones' bounding box, read block by block."""
    with rasterio.open(src_path) as src:
        bounds = transform_bounds(grid_crs, src.crs, *zone_bounds, densify_pts=21)
        window = from_bounds(*bounds, transform=src.transform).round_offsets().round_lengths()
        window = window.intersection(Window(0, 0, src.width, src.height))
        codes: set[int] = set()
        step = 2048
        for r in range(int(window.row_off), int(window.row_off + window.height), step):
            h = min(step, int(window.row_off + window.height) - r)
            data = src.read(band, window=Window(window.col_off, r, window.width, h), masked=True)
            codes.update(int(c) for c in np.unique(data.compressed()))
        return codes


def _load_classes(root: Path, spec: dict[str, Any], problems: list[Problem]) -> dict[int, str]:
    file = spec.get("file")
    if not file:
        problems.append(Problem("region.toml [ecosystem_classes]", NO_FILE_KEY))
        return {}
    try:
        table = pd.read_csv(root / file, dtype=str, encoding="utf-8-sig")
    except OSError as exc:
        problems.append(Problem("{file}", N_("cannot read: {detail}"), file=str(file),
                                detail=str(exc).replace(str(root / file), str(file))))
        return {}
    missing = [c for c in ("code", "ecosystem") if c not in table.columns]
    if missing:
        problems.append(Problem("{file}", N_("missing column(s) {columns}"), file=str(file),
                                columns=", ".join(missing)))
        return {}
    classes: dict[int, str] = {}
    for i, row in table.iterrows():
        at = {"file": str(file), "row": int(str(i)) + 2}
        try:
            code = int(str(row["code"]))
        except ValueError:
            problems.append(Problem(ROW, N_("column code: {value} is not an integer"), **at, value=repr(row["code"])))
            continue
        eco = str(row["ecosystem"]).strip()
        if eco not in ECOSYSTEMS:
            problems.append(Problem(ROW, N_("column ecosystem: unknown ecosystem type {ecosystem}; expected one of "
                                            "{expected}"), **at, ecosystem=repr(eco), expected=", ".join(ECOSYSTEMS)))
            continue
        if code in classes:
            problems.append(Problem(ROW, N_("column code: code {code} is listed twice"), **at, code=code))
        classes[code] = eco
    return classes


def _layer_entries(spec: dict[str, Any], problems: list[Problem]) -> dict[str, LayerEntry]:
    entries = {}
    for name, raw in spec.items():
        where = "region.toml [layers.{layer}]"  # a key, not words: filled, not translated
        if name not in LAYERS:
            problems.append(Problem(where, N_("unknown layer; expected one of {expected}"), layer=name,
                                    expected=", ".join(LAYERS)))
            continue
        if "file" not in raw:
            problems.append(Problem(where, NO_FILE_KEY, layer=name))
            continue
        unit = str(raw.get("unit", ""))
        if not layer_unit_ok(name, unit):
            expected = LAYERS[name].unit
            problems.append(Problem(where, N_("unit {unit} does not match the layer's unit {expected} (accepted: "
                                              "{accepted})"), layer=name, unit=repr(unit), expected=repr(expected),
                                    accepted=", ".join(sorted(LAYER_UNIT_SPELLINGS[expected]))))
        entries[name] = LayerEntry(name, str(raw["file"]), int(raw.get("band", 1)), unit,
                                   str(raw.get("source", "")), bool(raw.get("synthetic", False)),
                                   str(raw.get("note", "")))
    if "ecosystem" not in entries and not any(p.place().endswith("[layers.ecosystem]") for p in problems):
        problems.append(Problem("region.toml [layers]", N_("the ecosystem layer is required")))
    return entries


def _check_prices(stats: Statistics, zones: Zones, problems: list[Problem]) -> None:
    """Every product quantity and landscape area needs a non-negative price at its zone or an ancestor."""
    frame = stats.frame
    if frame.empty:
        return
    ancestors = _ancestors(zones)
    prices = {(r.zone_code, r.year, r.item): r.unit for r in frame.itertuples() if item_spec(r.item) and
              item_spec(r.item).is_price}  # type: ignore[union-attr]
    for r in frame.itertuples():
        if ".product." in r.item:
            price_item = r.item.replace(".product.", ".price.")
            expected = f"yuan/{r.unit}"
        elif r.item == "landscape_value.benefiting_area":
            price_item, expected = "landscape_value.house_price", "yuan/m2"
        else:
            continue
        found = [prices[(z, r.year, price_item)] for z in [r.zone_code, *ancestors[r.zone_code]]
                 if (z, r.year, price_item) in prices]
        at = {"file": str(r.file), "row": int(r.row)}
        if not found:
            problems.append(Problem(ROW, N_("{item} has no price: add {price_item} for zone {zone} (or a zone above "
                                            "it) and year {year}"), **at, item=r.item, price_item=price_item,
                                    zone=r.zone_code, year=int(r.year)))
        elif found[0] != expected:
            problems.append(Problem(ROW, N_("{price_item} is in {price_unit} but {item} is in {unit}; expected a price "
                                            "in {expected}"), **at, price_item=price_item, price_unit=repr(found[0]),
                                    item=r.item, unit=repr(r.unit), expected=repr(expected)))


def _ancestors(zones: Zones) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    f = zones.frame
    for i in range(len(zones.levels)):
        for row in f[[f"{lv}_code" for lv in zones.levels[: i + 1]]].drop_duplicates().itertuples(index=False):
            out[row[-1]] = list(reversed(row[:-1]))
    return out


def _parse_overrides(spec: dict[str, Any], problems: list[Problem]) -> dict[str, Parameter]:
    out = {}
    for pid, raw in spec.items():
        if isinstance(raw, dict) and pid in CARBON_PRICES and str(raw.get("unit", "")).lower() in CARBON_PRICE_UNITS:
            factor = CARBON_PRICE_UNITS[str(raw["unit"]).lower()]
            value = raw.get("value")
            if isinstance(value, int | float):
                note = f"given as {value:g} {raw['unit']}; × 12/44 = per tonne of CO₂" if factor != 1 else ""
                raw = {**raw, "value": value * factor, "unit": "yuan/t",
                       "note": "; ".join(x for x in (str(raw.get("note", "")), note) if x)}
        try:
            p = parse_parameter(pid, raw, "region.toml")
        except ProfileError as exc:
            problems += exc.problems
            continue
        if p.unit.startswith("yuan") and isinstance(p.value, float) and p.value < 0:
            problems.append(Problem("region.toml [parameters.{parameter}]", N_("negative price {value}; expected >= 0"),
                                    parameter=pid, value=p.value))
        out[pid] = Parameter(**{**p.__dict__, "overridden_by": "region.toml"})
    return out


MANIFEST_KEYS: dict[str, tuple[str, ...]] = {  # every key region.toml may hold, per table (docs/region-package.md)
    "": ("region", "zones", "ecosystem_classes", "layers", "statistics", "parameters"),
    "region": ("id", "name", "name_en", "crs", "resolution", "years", "method", "chunk_size", "source", "synthetic",
               "note"),
    "zones": ("file", "layer", "source", "synthetic", "note"),
    "ecosystem_classes": ("file", "source", "synthetic", "note"),
    "layers.*": ("file", "band", "unit", "source", "synthetic", "note"),
    "statistics": ("files", "source", "synthetic", "note"),
}


def _unknown_manifest_keys(data: dict[str, Any]) -> list[Problem]:
    """Keys region.toml does not know (a typo would otherwise pass silently), each with a suggestion."""
    problems = []

    def check(table: Any, known: tuple[str, ...], where: str) -> None:
        if not isinstance(table, dict):
            problems.append(Problem(where, N_("expected a table, got {value}"), value=repr(table)))
            return
        for key in table:
            if key not in known:
                problems.append(Problem(where, N_("unknown key {key}{suggestion}; known keys: {known}"),
                                        key=repr(key), suggestion=suggest(key, known), known=", ".join(known)))

    check(data, MANIFEST_KEYS[""], "region.toml")
    for name in ("region", "zones", "ecosystem_classes", "statistics"):
        if name in data:
            check(data[name], MANIFEST_KEYS[name], f"region.toml [{name}]")
    layers = data.get("layers", {})
    if not isinstance(layers, dict):
        check(layers, (), "region.toml [layers]")
        return problems
    for layer, table in layers.items():
        check(table, MANIFEST_KEYS["layers.*"], f"region.toml [layers.{layer}]")
    if "parameters" in data and not isinstance(data["parameters"], dict):
        check(data["parameters"], (), "region.toml [parameters]")
    return problems


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    """A table of the manifest, or {} when it is something else (already reported as such)."""
    value = data.get(key, {})
    return value if isinstance(value, dict) else {}


def _years(head: dict[str, Any], problems: list[Problem]) -> tuple[int, ...]:
    raw = head.get("years")
    where = "region.toml [region] years"
    if raw is None:
        problems.append(Problem("region.toml [region]", N_("years is missing: list the years that have data")))
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(y, int) and not isinstance(y, bool) for y in raw):
        problems.append(Problem(where, N_("must be a list of years, e.g. {example}; got {value}"),
                                example="years = [2019, 2020]", value=repr(raw)))
        return ()
    bad = [y for y in raw if not 1900 <= y <= 2100]
    if bad:
        problems.append(Problem(where, N_("{value} is not a plausible year (1900–2100)"), value=repr(bad[0])))
        return ()
    return tuple(raw)


def _chunk_size(head: dict[str, Any], problems: list[Problem]) -> int:
    raw = head.get("chunk_size", 1024)
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 65536:
        problems.append(Problem("region.toml [region] chunk_size", N_("must be a whole number of pixels from 1 to "
                                                                       "65536, got {value}"), value=repr(raw)))
        return 1024
    return raw


def _check_method(head: dict[str, Any], overrides: dict[str, Parameter], stats: Statistics | None,
                  zones: Zones | None, problems: list[Problem]) -> None:
    """The method profile loads, the overrides fit it, every parameter its indicators need is there, and the
    statistics' given quantities and value items belong to it: all named at once."""
    from gep.accounting.run import check_profile  # run imports this module

    method = str(head.get("method", "national-2022"))
    try:
        profile = load_profile(method)
    except ProfileError as exc:
        problems += exc.problems
        return
    except MethodError as exc:
        problems.append(Problem("region.toml [region] method", exc.template, **exc.params))
        return
    found = override_problems(profile, overrides)
    problems += found
    if found:
        return
    profile = profile.with_overrides(overrides)
    try:
        classes = check_profile(profile)
    except ProfileError as exc:
        problems += exc.problems
        return
    if stats is None or zones is None or stats.frame.empty:
        return
    outputs = {f"{cls.SPEC.id}.{o.id}": o.unit for cls in classes for o in cls.SPEC.outputs}
    for r in stats.frame.drop_duplicates("item").itertuples():
        at = {"file": str(r.file), "row": int(r.row)}
        if r.item.startswith("quantity."):
            key = r.item.removeprefix("quantity.")
            if key not in outputs:
                problems.append(Problem(ROW, N_("{item}: method {method} has no sub-indicator {key}{suggestion}"),
                                        **at, item=r.item, method=profile.id, key=repr(key),
                                        suggestion=suggest(key, outputs)))
            elif outputs[key] != r.unit:
                problems.append(Problem(ROW, N_("{item} is in {unit}; the sub-indicator is counted in {expected}"),
                                        **at, item=r.item, unit=repr(r.unit), expected=repr(outputs[key])))
        elif r.item.startswith("value_item."):
            iid = r.item.removeprefix("value_item.")
            item = profile.value_items.get(iid)
            if item is None:
                problems.append(Problem(ROW, N_("{item}: method {method} declares no value item {id}{suggestion} "
                                                "(add [value_items.{id}] to a profile)"), **at, item=r.item,
                                        method=profile.id, id=iid, suggestion=suggest(iid, profile.value_items)))
            elif item.unit != r.unit:
                problems.append(Problem(ROW, N_("{item} is in {unit}; the value item is counted in {expected}"),
                                        **at, item=r.item, unit=repr(r.unit), expected=repr(item.unit)))


def consistency_problems(stats: Statistics, zones: Zones) -> list[Problem]:
    """Figures given below a zone that exceed its own figure (or leave it no zone to take the rest), each named by
    the file and row of the zone's figure."""
    problems = []
    frame = stats.frame
    for (_year, item), figures in frame.groupby(["year", "item"]):
        spec = item_spec(str(item))
        if spec is None or spec.is_price or figures["level"].nunique() < 2:
            continue
        try:
            allocate(dict(zip(figures["zone_code"], figures["value"], strict=True)), zones,
                     pd.Series(dtype=np.float64), str(item))
        except InputError as exc:
            row = figures[figures["zone_code"] == exc.params.get("code")].iloc[0]
            problems.append(Problem(ROW, exc.template, file=str(row["file"]), row=int(row["row"]), **exc.params))
    return problems


def load_region(path: str | Path) -> Region:
    """Load and validate a region package; raises RegionError listing every problem found."""
    root = Path(path).resolve()
    data = _load_manifest(root)
    problems: list[Problem] = _unknown_manifest_keys(data)
    notes: list[str] = []
    head = _table(data, "region")
    crs, resolution = _region_grid_crs(head, problems)
    years = _years(head, problems)
    chunk_size = _chunk_size(head, problems)
    zones = _load_zones(root, _table(data, "zones"), crs, problems)
    classes = _load_classes(root, _table(data, "ecosystem_classes"), problems)
    entries = _layer_entries({k: v for k, v in _table(data, "layers").items() if isinstance(v, dict)}, problems)
    overrides = _parse_overrides(_table(data, "parameters"), problems)
    if zones is None or crs is None or not resolution or not years:
        _check_method(head, overrides, None, None, problems)
        raise RegionError(str(root), problems)
    minx, miny, maxx, maxy = (float(v) for v in zones.frame.total_bounds)
    bounds = (minx, miny, maxx, maxy)
    grid = Grid.covering(bounds, crs, resolution, chunk_size)
    for entry in entries.values():
        for year in (years if LAYERS[entry.name].per_year or "{year}" in entry.file else years[:1]):
            _check_raster(root, entry, year, grid, bounds, problems, notes)
    if "ecosystem" in entries and classes and not any(p.place().startswith(entries["ecosystem"].file)
                                                      for p in problems):
        eco_path = entries["ecosystem"].path(root, years[0]) if years else None
        if eco_path and raster_exists(eco_path):
            unknown = sorted(_unique_codes(eco_path, entries["ecosystem"].band, crs, bounds) - set(classes))
            if unknown:
                problems.append(Problem(BAND, N_("land-cover codes {codes} occur over the zones but are not in "
                                                 "{classes}; add them with their ecosystem type"),
                                        file=entries["ecosystem"].file, band=entries["ecosystem"].band,
                                        codes=str(unknown), classes=str(data["ecosystem_classes"]["file"])))
    stat_spec = _table(data, "statistics")
    stat_files = [root / f for f in stat_spec.get("files", [])] if isinstance(stat_spec.get("files", []), list) \
        else []
    stats, found = Statistics.load(stat_files, zones, root)
    problems += found
    _check_prices(stats, zones, problems)
    problems += consistency_problems(stats, zones)
    _check_method(head, overrides, stats, zones, problems)
    if problems:
        raise RegionError(str(root), problems)
    provenance = {"zones": {k: v for k, v in _table(data, "zones").items() if k in ("source", "synthetic", "note")}}
    provenance.update({f"layer:{e.name}": {"file": e.file, "source": e.source, "synthetic": e.synthetic,
                                            "note": e.note} for e in entries.values()})
    return Region(
        root=root, id=str(head.get("id", root.name)), name=str(head.get("name", root.name)),
        name_en=str(head.get("name_en", head.get("name", root.name))), years=years,
        method=str(head.get("method", "national-2022")), grid=grid, zones=zones, layers=entries,
        ecosystem_codes=classes, statistics=stats, overrides=overrides, provenance=provenance, notes=notes,
    )


def load_zones(path: str | Path) -> Zones:
    """Only the zones of a region package, in the region's CRS (the platform places parcels in them): the
    manifest and the zones file are validated, the rasters and statistics are not read."""
    root = Path(path).resolve()
    data = _load_manifest(root)
    problems: list[Problem] = []
    crs, _resolution = _region_grid_crs(data.get("region", {}), problems)
    zones = _load_zones(root, data.get("zones", {}), crs, problems)
    if zones is None or problems:
        raise RegionError(str(root), problems)
    return zones


@dataclass(frozen=True)
class PackageFrame:
    """What a package's rasters are checked against: its grid, zones and land-cover classes (no rasters read)."""

    root: Path
    grid: Grid
    zones: Zones
    ecosystem_codes: dict[int, str]


def package_frame(path: str | Path) -> PackageFrame:
    root = Path(path).resolve()
    data = _load_manifest(root)
    problems: list[Problem] = []
    head = data.get("region", {})
    crs, resolution = _region_grid_crs(head, problems)
    zones = _load_zones(root, data.get("zones", {}), crs, problems)
    classes = _load_classes(root, data.get("ecosystem_classes", {}), problems)
    if zones is None or crs is None or problems:
        raise RegionError(str(root), problems)
    grid = Grid.covering(tuple(float(v) for v in zones.frame.total_bounds), crs, resolution,  # type: ignore[arg-type]
                         int(head.get("chunk_size", 1024)))
    return PackageFrame(root, grid, zones, classes)


WINDOW = N_("{file}, rows {row0}–{row1}, columns {col0}–{col1}")  # where bad pixels are


def check_year_raster(frame: PackageFrame, layer: str, path: Path, name: str) -> list[Problem]:
    """Whether a raster can be a year of `layer` for this package, every problem at once: it opens as a raster,
    lies on the package's grid (same CRS, pixel size and pixel edges), covers the zones with data, and holds only
    values the layer can take (land-cover codes of the package's classes; finite values in the layer's range),
    a bad value named by the pixel window it is in."""
    spec = LAYERS[layer]
    grid = frame.grid
    problems: list[Problem] = []
    try:
        src = rasterio.open(path)
    except RasterioIOError:
        return [Problem("{file}", N_("not a raster file GDAL can read (GeoTIFF expected)"), file=name)]
    with src:
        if src.crs is None:
            return [Problem("{file}", N_("has no CRS; it must be on the region's grid ({crs})"), file=name,
                            crs=grid.crs.to_string())]
        if CRS.from_user_input(src.crs) != grid.crs:
            problems.append(Problem("{file}", N_("its CRS {crs} is not the region's {expected}; reproject it onto the "
                                                 "region's grid"), file=name, crs=src.crs.to_string(),
                                    expected=grid.crs.to_string()))
        res = grid.resolution
        if abs(src.transform.a - res) > 1e-6 * res or abs(src.transform.e + res) > 1e-6 * res:
            problems.append(Problem("{file}", N_("its pixels are {x} × {y} m, the region's {res} m"), file=name,
                                    x=f"{src.transform.a:g}", y=f"{-src.transform.e:g}", res=f"{res:g}"))
        else:
            dx, dy = (src.transform.c - grid.transform.c) / res, (src.transform.f - grid.transform.f) / res
            if abs(dx - round(dx)) > 1e-6 or abs(dy - round(dy)) > 1e-6:
                problems.append(Problem("{file}", N_("its pixel edges are off the region's grid by ({dx}, {dy}) "
                                                     "pixels"), file=name, dx=f"{dx - round(dx):.3f}",
                                        dy=f"{dy - round(dy):.3f}"))
        if problems:
            return problems
    entry = LayerEntry(layer, path.name, 1, spec.unit, "", False)
    notes: list[str] = []
    found: list[Problem] = []
    _check_raster(path.parent, entry, 0, grid, tuple(float(v) for v in frame.zones.frame.total_bounds), found, notes,
                  values=False)  # every pixel is checked below, window by window
    problems += [Problem(p.where, p.message, **{**p.params, "file": name}) for p in found]
    if problems:
        return problems
    return problems + _bad_pixels(path, name, spec.kind, spec.valid_range, set(frame.ecosystem_codes))


def _bad_pixels(path: Path, name: str, kind: str, valid_range: tuple[float, float] | None,
                codes: set[int]) -> list[Problem]:
    """The first pixel windows (512 × 512) holding values the layer cannot take; nodata is allowed."""
    problems: list[Problem] = []
    with rasterio.open(path) as src:
        step = 512
        for r in range(0, src.height, step):
            for c in range(0, src.width, step):
                win = Window(c, r, min(step, src.width - c), min(step, src.height - r))
                data = src.read(1, window=win, masked=True)
                values = data.compressed()
                if kind == "categorical":
                    bad = ~np.isin(values, list(codes)) if codes else np.zeros(values.shape, bool)
                    what = N_("{count} pixels with land-cover codes not in the classes ({codes})")
                    extra = {"codes": ", ".join(map(str, sorted(set(np.unique(values[bad]).tolist()))[:10]))}
                else:
                    v = values.astype(np.float64)
                    lo, hi = valid_range or (-np.inf, np.inf)
                    bad = ~np.isfinite(v) | (v < lo) | (v > hi)
                    what = N_("{count} pixels not finite or outside {low}–{high}")
                    extra = {"low": f"{lo:g}", "high": f"{hi:g}"}
                if bad.any():
                    problems.append(Problem(WINDOW, what, file=name, row0=r, row1=r + win.height - 1, col0=c,
                                            col1=c + win.width - 1, count=int(bad.sum()), **extra))
                    if len(problems) >= 20:
                        return problems
    return problems
