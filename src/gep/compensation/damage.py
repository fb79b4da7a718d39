"""Ecological damage valued by GEP (生态环境损害赔偿): what the damaged pixels yielded a year before the damage and
what they yield after it, per category and per indicator, from the stored accounts' value-density raster; and
the loss over the recovery period, discounted.

Before: each changed pixel's own value density (the accounts' pixels, by the pixel-centre rule). After: the
mean value density of the new ecosystem type over the reference zone (the county, or the zone of the level below
the top, around the damage; the whole region when the zone has no such pixel): the damaged land is valued as
land of that type nearby is valued. Pixels inside the polygon whose mapped ecosystem is not the one said to have
changed keep their value. Services accounted from statistics (output values, tourism) do not change with land
cover in the engine; a case adds such losses as items of its own, each with its source.

Recovery: the recovered share rises from 0 at the damage to 1 at the end of the recovery period, along a path
— `step` (nothing recovers until the end: the loss is the full yearly loss every year, as in the Qingtian ruling's
rule), `linear`, or a `curve` of the recovered share at the end of each year. The loss of year t is the yearly
loss times the share still unrecovered on average over that year (the trapezoid of the path), discounted to the
damage date as (1 + r)^t."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from rasterio.errors import WindowError
from rasterio.features import rasterize
from rasterio.windows import Window, from_bounds
from shapely.geometry.base import BaseGeometry

from gep.accounting.catalogue import ECOSYSTEM_GROUPS, ECOSYSTEMS, ecosystems_in
from gep.errors import N_, InputError

CATEGORIES = ("material", "regulating", "cultural")
PATHS = {"step": N_("no recovery until the end of the period"), "linear": N_("linear recovery"),
         "curve": N_("recovery along a curve")}


# -- the schedule (plain arithmetic) -----------------------------------------------------------------------------

def unrecovered_shares(path: str, years: int, curve: list[float] | None = None) -> list[float]:
    """The share of the yearly loss still suffered in each year 1..years."""
    if not 1 <= years <= 100:
        raise InputError(N_("the recovery period is 1 to 100 years, not {years}"), years=years)
    if path == "step":
        return [1.0] * years
    if path == "linear":
        recovered = [t / years for t in range(years + 1)]
    elif path == "curve":
        if not curve or len(curve) != years:
            raise InputError(N_("a recovery curve gives the recovered share at the end of each of the {years} years"),
                             years=years)
        recovered = [0.0, *(float(c) for c in curve)]
        if any(not 0 <= c <= 1 for c in recovered) or any(b < a for a, b in itertools.pairwise(recovered)):
            raise InputError(N_("a recovery curve rises from 0 to at most 1 and never falls"))
    else:
        raise InputError(N_("unknown recovery path {path}; expected one of {expected}"), path=repr(path),
                         expected=", ".join(PATHS))
    return [1.0 - (recovered[t - 1] + recovered[t]) / 2 for t in range(1, years + 1)]


@dataclass(frozen=True)
class YearLoss:
    year: int  # 1 = the first year after the damage
    share: float
    loss_yuan: float
    factor: float  # discount factor 1 / (1 + r)^t
    present_yuan: float


def schedule(yearly_loss_yuan: float, shares: list[float], rate: Decimal) -> list[YearLoss]:
    if not Decimal(0) <= rate < Decimal(1):
        raise InputError(N_("the discount rate is a fraction from 0 to below 1, not {rate}"), rate=str(rate))
    r = float(rate)
    out = []
    for t, share in enumerate(shares, start=1):
        loss = yearly_loss_yuan * share
        factor = 1.0 / (1.0 + r) ** t
        out.append(YearLoss(t, share, loss, factor, loss * factor))
    return out


def ecosystem_ids(name: str) -> tuple[str, ...]:
    """An ecosystem type or group (forest, bare …) as the ids it covers."""
    if name not in ECOSYSTEMS and name not in ECOSYSTEM_GROUPS:
        raise InputError(N_("unknown ecosystem {name}; expected a group ({groups}) or a type"), name=repr(name),
                         groups=", ".join(ECOSYSTEM_GROUPS))
    return ecosystems_in(name)


# -- the pixels ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Affected:
    """Yuan a year of the changed pixels, before and after, per band (categories, then sub-indicators)."""

    pixels: int  # pixel centres inside the polygon
    changed: int  # of which of the ecosystem said to have changed
    pixel_ha: float
    bands: list[str]
    before: dict[str, float]
    after: dict[str, float]
    after_density: dict[str, float]  # yuan/ha of the new ecosystem in the reference zone
    reference: str  # zone code, or "" for the whole region
    reference_pixels: int

    @property
    def changed_ha(self) -> float:
        return self.changed * self.pixel_ha

    def loss(self, band: str) -> float:
        return self.before.get(band, 0.0) - self.after.get(band, 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {"pixels": self.pixels, "changed": self.changed, "pixel_ha": self.pixel_ha,
                "changed_ha": self.changed_ha, "bands": self.bands, "before": self.before, "after": self.after,
                "after_density": self.after_density, "reference": self.reference,
                "reference_pixels": self.reference_pixels}


def band_names(src: rasterio.io.DatasetReader) -> list[str]:
    """The density raster's band names: total, material, regulating, cultural, then indicator:sub bands (runs
    written before per-indicator bands existed have only the first four)."""
    names = []
    for i, d in enumerate(src.descriptions, start=1):
        names.append((d or f"band{i}").removesuffix(" (yuan/ha)"))
    return names


def window_of(src: rasterio.io.DatasetReader, geom: BaseGeometry) -> Window:
    """The raster window of whole pixels around a geometry, clipped to the raster (empty when outside)."""
    full = Window(0, 0, src.width, src.height)
    w = from_bounds(*geom.bounds, transform=src.transform)
    c0, r0 = math.floor(w.col_off), math.floor(w.row_off)
    try:
        return Window(c0, r0, math.ceil(w.col_off + w.width) - c0 + 1,
                      math.ceil(w.row_off + w.height) - r0 + 1).intersection(full)
    except WindowError:  # no overlap at all
        return Window(0, 0, 0, 0)


def _mask(src: rasterio.io.DatasetReader, window: Window, geom: BaseGeometry) -> np.ndarray:
    shape = (int(window.height), int(window.width))
    return rasterize([(geom, 1)], out_shape=shape, transform=src.window_transform(window), fill=0,
                     all_touched=False, dtype="uint8").astype(bool)


def affected(density: Path, ecosystem: Any, ids: list[str], geom: BaseGeometry, from_: str, to: str,
             reference_geom: BaseGeometry | None, reference_code: str) -> Affected:
    """Value the change of the pixels of ecosystem `from_` inside `geom` to ecosystem `to`. `ecosystem` is the
    region's per-pixel index into `ids` on the same grid as the density raster (a numpy or dask array)."""
    from_ids, to_ids = set(ecosystem_ids(from_)), set(ecosystem_ids(to))
    from_codes = np.array([i for i, e in enumerate(ids) if e in from_ids], dtype=np.int64)
    to_codes = np.array([i for i, e in enumerate(ids) if e in to_ids], dtype=np.int64)
    with rasterio.open(density) as src:
        if ecosystem.shape != (src.height, src.width):
            raise InputError(N_("the ecosystem map ({shape}) is not on the grid of the value-density raster "
                                "({grid}); account the region again"), shape=str(ecosystem.shape),
                             grid=str((src.height, src.width)))
        names = band_names(src)
        bands = [n for n in names if n != "total"]
        index = [names.index(n) + 1 for n in bands]
        pixel_ha = abs(src.transform.a * src.transform.e) / 1e4
        window = window_of(src, geom)
        if window.width <= 0 or window.height <= 0:
            raise InputError(N_("the damaged area lies outside the region"))
        inside = _mask(src, window, geom)
        eco = np.asarray(ecosystem[int(window.row_off):int(window.row_off + window.height),
                                   int(window.col_off):int(window.col_off + window.width)])
        changed = inside & np.isin(eco, from_codes)
        data = src.read(index, window=window).astype(np.float64)
        before = {b: float(np.nansum(data[k][changed])) * pixel_ha for k, b in enumerate(bands)}
        dens, ref_pixels, ref_code = _reference(src, ecosystem, to_codes, index, reference_geom, reference_code,
                                                 to)
    n_changed = int(changed.sum())
    after_density = {b: float(dens[k]) for k, b in enumerate(bands)}
    after = {b: after_density[b] * n_changed * pixel_ha for b in bands}
    return Affected(int(inside.sum()), n_changed, pixel_ha, bands, before, after, after_density, ref_code, ref_pixels)


def _reference(src: rasterio.io.DatasetReader, ecosystem: Any, to_codes: np.ndarray, index: list[int],
               geom: BaseGeometry | None, code: str, to: str) -> tuple[np.ndarray, int, str]:
    """Mean density (yuan/ha) per band over the pixels of the new ecosystem in the reference zone, or in the
    whole region when the zone has none."""
    for g, c in ((geom, code), (None, "")):
        if g is None and c:
            continue
        window = window_of(src, g) if g is not None else Window(0, 0, src.width, src.height)
        eco = np.asarray(ecosystem[int(window.row_off):int(window.row_off + window.height),
                                   int(window.col_off):int(window.col_off + window.width)])
        pick = np.isin(eco, to_codes)
        if g is not None:
            pick &= _mask(src, window, g)
        data = src.read(index, window=window).astype(np.float64)
        pick &= np.isfinite(data[0])
        if pick.any():
            return np.array([np.nanmean(data[k][pick]) for k in range(len(index))]), int(pick.sum()), c
    raise InputError(N_("no pixel of the region is of ecosystem type {to}: there is nothing to take the value "
                        "after the damage from"), to=to)


def reference_zone(zones: Any, levels: tuple[str, ...], geom: BaseGeometry
                   ) -> tuple[str, str, BaseGeometry | None]:
    """The zone (code, name, outline) of the level below the top that holds the damage's centre (a county in a
    city's package)."""
    if len(levels) < 2:
        return "", "", None
    level = levels[1]
    point = geom.representative_point()
    frame = zones.frame
    hit = frame[frame.geometry.contains(point)]
    if hit.empty:
        return "", "", None
    code, name = str(hit.iloc[0][f"{level}_code"]), str(hit.iloc[0][f"{level}_name"])
    return code, name, shapely.union_all(frame[frame[f"{level}_code"].astype(str) == code].geometry.to_numpy())
