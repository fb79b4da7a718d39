"""The four-level hierarchy (city > county > township > village) and per-zone sums in one pass.

Only the lowest level is drawn. It is rasterized once with the pixel-centre rule into a zone-index raster;
every per-pixel layer is then reduced to per-zone sums with `bincount` chunk by chunk, all layers in the
same task so each chunk of each input is read once. Upper levels are exact sums of the level below.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import dask
import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.features import rasterize

from gep.accounting.catalogue import ROW
from gep.accounting.grid import Grid
from gep.errors import N_, Problem, Word

LEVELS = ("city", "county", "township", "village")
LEVEL_NAMES = {"city": ("市", "City"), "county": ("县(市、区)", "County"),
               "township": ("乡镇(街道)", "Township"), "village": ("村(社区)", "Village")}


@dataclass
class Zones:
    """The lowest-level polygons and the table of every level's codes and names."""

    frame: gpd.GeoDataFrame  # one row per lowest-level zone, in the grid CRS
    levels: tuple[str, ...]  # e.g. ("city", "county", "township", "village")

    @property
    def lowest(self) -> str:
        return self.levels[-1]

    @property
    def codes(self) -> pd.Index:
        return pd.Index(self.frame[f"{self.lowest}_code"], name="zone_code")

    def table(self) -> pd.DataFrame:
        """Every zone of every level: level, zone_code, zone_name, parent_code."""
        rows = []
        for i, level in enumerate(self.levels):
            cols = [f"{level}_code", f"{level}_name"]
            parent = f"{self.levels[i - 1]}_code" if i else None
            sub = self.frame[cols + ([parent] if parent else [])].drop_duplicates(f"{level}_code")
            rows.append(pd.DataFrame({
                "level": level,
                "zone_code": sub[f"{level}_code"].to_numpy(),
                "zone_name": sub[f"{level}_name"].to_numpy(),
                "parent_code": sub[parent].to_numpy() if parent else "",
            }))
        return pd.concat(rows, ignore_index=True)

    def all_codes(self) -> dict[str, str]:
        """zone code -> level, for every level."""
        t = self.table()
        return dict(zip(t["zone_code"], t["level"], strict=True))

    def members(self, code: str, level: str) -> pd.Index:
        """Lowest-level codes inside the zone `code` of `level`."""
        mask = self.frame[f"{level}_code"] == code
        return pd.Index(self.frame.loc[mask, f"{self.lowest}_code"])

    def rasterize(self, grid: Grid) -> da.Array:
        """Zone index per pixel (1..n in frame order; 0 = no zone), by the pixel-centre rule, chunk by chunk.

        Each chunk burns only the polygons whose bounds meet it (an STR-tree query), so memory stays bounded
        by the chunk size however large the region.
        """
        geoms = np.asarray(self.frame.geometry.values)
        tree = shapely.STRtree(geoms)

        def block(block_info: dict | None = None) -> np.ndarray:
            assert block_info is not None
            (r0, r1), (c0, c1) = block_info[None]["array-location"]
            transform = grid.transform @ Affine.translation(c0, r0)
            x0, y0 = transform @ (0, 0)
            x1, y1 = transform @ (c1 - c0, r1 - r0)
            hits = tree.query(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            if len(hits) == 0:
                return np.zeros((r1 - r0, c1 - c0), dtype=np.int32)
            return rasterize(((geoms[i], int(i) + 1) for i in sorted(hits)), out_shape=(r1 - r0, c1 - c0),
                             transform=transform, fill=0, all_touched=False, dtype="int32")

        return da.map_blocks(block, dtype=np.int32, chunks=grid.chunks, meta=np.array((), dtype=np.int32),
                             token="zones-rasterize")

    def aggregate(self, lowest: pd.DataFrame, value_cols: Sequence[str]) -> pd.DataFrame:
        """Sum a lowest-level table (indexed by zone code) up every level; returns all levels stacked."""
        base = self.frame.set_index(f"{self.lowest}_code", drop=False)
        out = []
        for level in self.levels:
            keys = base.loc[lowest.index, f"{level}_code"].to_numpy()
            summed = lowest[list(value_cols)].groupby(keys, sort=False).sum()
            summed.index.name = "zone_code"
            summed.insert(0, "level", level)
            out.append(summed.reset_index())
        return pd.concat(out, ignore_index=True)


def validate_zones(frame: gpd.GeoDataFrame, where: str) -> tuple[tuple[str, ...], list[Problem]]:
    """Check the hierarchy columns: present, no duplicate codes, every parent known and consistent."""
    problems: list[Problem] = []
    if len(frame) == 0:
        return (), [Problem("{file}", N_("has no features: draw the lowest-level zones"), file=where)]
    levels = tuple(lv for lv in LEVELS if f"{lv}_code" in frame.columns)
    if not levels or levels[0] != "city" or levels != LEVELS[: len(levels)] or len(levels) < 2:
        problems.append(Problem("{file}", N_("needs the columns city_code, county_code (and township_code, "
                                             "village_code) with their _name columns; found {columns}"),
                                file=where, columns=str(list(frame.columns))))
        return levels, problems
    for lv in levels:
        if f"{lv}_name" not in frame.columns:
            problems.append(Problem("{file}", N_("column {level}_name is missing"), file=where, level=lv))
        blank = frame[f"{lv}_code"].isna() | (frame[f"{lv}_code"].astype(str).str.strip() == "")
        for row in np.flatnonzero(blank.to_numpy())[:10]:
            problems.append(Problem(ROW, N_("{level}_code is empty: every zone needs the codes of all its levels"),
                                    file=where, row=int(row) + 1, level=lv))
    lowest = levels[-1]
    dup = frame[f"{lowest}_code"][frame[f"{lowest}_code"].duplicated()].unique()
    for code in dup[:20]:
        problems.append(Problem("{file}", N_("duplicate {level}_code {code}: each zone must appear once"), file=where,
                                level=lowest, code=repr(code)))
    for i, lv in enumerate(levels[:-1]):
        child = levels[i + 1]
        parents = frame.groupby(f"{child}_code")[f"{lv}_code"].nunique()
        for code in parents[parents > 1].index[:20]:
            problems.append(Problem("{file}", N_("{child}_code {code} appears with several {level}_code values"),
                                    file=where, child=child, code=repr(code), level=lv))
        if f"{lv}_name" in frame.columns:
            names = frame.groupby(f"{lv}_code")[f"{lv}_name"].nunique()
            for code in names[names > 1].index[:20]:
                problems.append(Problem("{file}", N_("{level}_code {code} has different {level}_name values on "
                                                     "different rows"), file=where, level=lv, code=repr(code)))
    seen: dict[str, str] = {}
    for lv in levels:  # a code names one zone: the same code at two levels makes statistics ambiguous
        for code in frame[f"{lv}_code"].astype(str).unique():
            if code in seen and seen[code] != lv and code:
                problems.append(Problem("{file}", N_("code {code} is used at two levels ({level} and {other}); "
                                                     "codes must be unique across levels"), file=where,
                                        code=repr(code), level=Word(seen[code]), other=Word(lv)))
            seen.setdefault(code, lv)
    problems += geometry_problems(frame, where)
    return levels, problems


def geometry_problems(frame: gpd.GeoDataFrame, where: str) -> list[Problem]:
    """Each zone must be a valid, non-empty polygon or multipolygon (rows are features, 1-based)."""
    problems = []
    geoms = frame.geometry.to_numpy()
    for i, g in enumerate(geoms):
        at = {"file": where, "row": i + 1}
        if g is None or g.is_empty:
            problems.append(Problem(ROW, N_("geometry is empty"), **at))
        elif g.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(Problem(ROW, N_("geometry is a {kind}; zones must be polygons"), **at, kind=g.geom_type))
        elif not shapely.is_valid(g):
            problems.append(Problem(ROW, N_("geometry is not valid ({reason}); repair it (e.g. QGIS Fix geometries "
                                            "or shapely.make_valid)"), **at, reason=shapely.is_valid_reason(g)))
        if len(problems) >= 20:
            break
    return problems


OVERLAP_TOLERANCE = 0.001  # share of the smaller zone two zones may overlap by (digitising slivers)


def overlap_problems(frame: gpd.GeoDataFrame, where: str, code_column: str) -> list[Problem]:
    """Zones that overlap by more than OVERLAP_TOLERANCE of the smaller one (in an equal-area CRS): a pixel
    there would belong to whichever zone is drawn last."""
    geoms = frame.geometry.to_numpy()
    ok = np.array([g is not None and not g.is_empty and shapely.is_valid(g) for g in geoms])
    if not ok.all():
        return []
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    problems = []
    for a, b in zip(left, right, strict=True):
        if a >= b:
            continue
        shared = shapely.area(shapely.intersection(geoms[a], geoms[b]))
        smaller = min(shapely.area(geoms[a]), shapely.area(geoms[b]))
        if smaller > 0 and shared > OVERLAP_TOLERANCE * smaller:
            codes = frame[code_column].to_numpy()
            problems.append(Problem(ROW, N_("zone {code} overlaps zone {other} (row {other_row}) by {km2} km² "
                                            "({pct} of the smaller); zones must not overlap"), file=where,
                                    row=int(a) + 1, code=str(codes[a]), other=str(codes[b]), other_row=int(b) + 1,
                                    km2=f"{shared / 1e6:.4f}", pct=f"{shared / smaller:.1%}"))
            if len(problems) >= 20:
                break
    return problems


def _block_sums(zone: np.ndarray, *layers: np.ndarray, n_zones: int, n_classes: int,
                classes: np.ndarray | None) -> np.ndarray:
    """Per-zone sums of each layer in one chunk (NaN counts as 0), plus zone x class pixel counts."""
    flat = zone.ravel()
    out = np.zeros((len(layers) + n_classes, n_zones + 1), dtype=np.float64)
    for i, layer in enumerate(layers):
        w = np.asarray(layer, dtype=np.float64).ravel()
        w = np.where(np.isnan(w), 0.0, w)
        out[i] = np.bincount(flat, weights=w, minlength=n_zones + 1)
    if classes is not None:
        joint = flat.astype(np.int64) * n_classes + classes.ravel()
        counts = np.bincount(joint, minlength=(n_zones + 1) * n_classes)
        out[len(layers):] = counts.reshape(n_zones + 1, n_classes).T
    return out[None, None]


def zonal_sums(zone_index: da.Array, layers: dict[str, da.Array], n_zones: int,
               classes: da.Array | None = None, n_classes: int = 0,
               callbacks: Sequence[Any] | None = None, group_size: int = 24,
               scheduler: Any = "threads") -> tuple[pd.DataFrame, np.ndarray]:
    """Sum every layer per zone and count pixels per zone and class in ONE pass over the chunks (layers go in
    groups of `group_size` per task to bound memory; the groups share the chunks they read in one compute).

    Returns (sums: n_zones x layers, counts: n_zones x n_classes), zone order 1..n (index 0, outside, dropped).
    """
    names = list(layers)
    arrays = [layers[k].rechunk(zone_index.chunks) for k in names]
    groups = [list(range(i, min(i + group_size, len(names)))) for i in range(0, len(names), group_size)] or [[]]
    totals = []
    for g, members in enumerate(groups):  # bounded memory per task; every group in the same compute
        with_classes = classes is not None and g == 0
        cls_args = [classes.rechunk(zone_index.chunks)] if with_classes and classes is not None else []
        rows = len(members) + (n_classes if with_classes else 0)
        if not with_classes:
            def block(z: np.ndarray, *ls: np.ndarray) -> np.ndarray:
                return _block_sums(z, *ls, n_zones=n_zones, n_classes=0, classes=None)
        else:
            def block(z: np.ndarray, *ls: np.ndarray) -> np.ndarray:
                *vals, c = ls
                return _block_sums(z, *vals, n_zones=n_zones, n_classes=n_classes, classes=c)
        partial = da.map_blocks(block, zone_index, *(arrays[i] for i in members), *cls_args, dtype=np.float64,
                                new_axis=[2, 3], chunks=(1, 1, rows, n_zones + 1),
                                meta=np.array((), dtype=np.float64), token=f"zonal-sums-{g}")
        totals.append(partial.sum(axis=(0, 1), split_every=8))
    with dask.config.set(scheduler=scheduler), ExitStack() as stack:
        for callback in callbacks or ():  # local schedulers only: a cluster reports on its own dashboard
            stack.enter_context(callback)
        parts = dask.compute(*totals)
    counts_part = parts[0][len(groups[0]):] if classes is not None else None
    result = np.concatenate([part[: len(members)] for part, members in zip(parts, groups, strict=True)]
                            + ([counts_part] if counts_part is not None else []))
    sums = pd.DataFrame(result[: len(names), 1:].T, columns=names)
    counts = result[len(names):, 1:].T if classes is not None else np.zeros((n_zones, 0))
    return sums, counts
