"""What an indicator sees: lazy layers and lookups for pixel work, zone sums and statistics for zone work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd

from gep.accounting.catalogue import ECOSYSTEMS, ecosystems_in
from gep.accounting.indicators.base import IndicatorSpec, Skip
from gep.accounting.methods import MethodProfile, Parameter
from gep.accounting.region import Region
from gep.accounting.zones import Zones


@dataclass
class PixelContext:
    """Lazy per-pixel inputs on the region's grid for one year."""

    region: Region
    year: int
    profile: MethodProfile
    spec: IndicatorSpec | None = None
    _cache: dict[str, da.Array] = field(default_factory=dict)
    _eco: tuple[da.Array, list[str]] | None = None
    accessed: dict[str, set[str]] = field(default_factory=dict)  # indicator id -> parameters its pixels read
    scheduler: Any = None  # the run's dask.distributed Client, for pixel work done before the pass (terrain)

    def for_indicator(self, spec: IndicatorSpec) -> PixelContext:
        self.ecosystem()  # shared by every indicator (and every uncertainty scenario) of this context
        return PixelContext(self.region, self.year, self.profile, spec, self._cache, self._eco, self.accessed,
                            self.scheduler)

    def with_profile(self, profile: MethodProfile) -> PixelContext:
        """The same lazily read layers under other parameter values (an uncertainty scenario)."""
        self.ecosystem()
        return PixelContext(self.region, self.year, profile, None, self._cache, self._eco, {}, self.scheduler)

    @property
    def pixel_area_m2(self) -> float:
        return self.region.grid.pixel_area_m2

    def layer(self, name: str) -> da.Array:
        """A continuous layer, or Skip when the region has none for this year."""
        if not self.region.has_layer(name, self.year):
            raise Skip(f"layer {name!r} is not in the region package for {self.year}")
        if name not in self._cache:
            self._cache[name] = self.region.layer(name, self.year)
        return self._cache[name]

    def ecosystem(self) -> tuple[da.Array, list[str]]:
        if self._eco is None:
            self._eco = self.region.ecosystem_index(self.year)
        return self._eco

    def param(self, name: str) -> Parameter:
        assert self.spec is not None
        pid = self.spec.param_id(name)
        self.accessed.setdefault(self.spec.id, set()).add(pid)
        return self.profile.param(pid)

    def by_ecosystem(self, table: dict[str, float], default: float = 0.0) -> ClassValues:
        """A table keyed by ecosystem id or group (ids win) as per-class values; `default` elsewhere and off-map."""
        index, ids = self.ecosystem()
        lut = np.full(len(ids) + 1, default, dtype=np.float64)
        for i, eco in enumerate(ids):
            if eco in table:
                lut[i] = table[eco]
            elif ECOSYSTEMS[eco].group in table:
                lut[i] = table[ECOSYSTEMS[eco].group]
        return ClassValues(lut, index)

    def mask(self, *groups: str) -> ClassValues:
        """1.0 where the ecosystem is in the given groups or ids, else 0.0."""
        return self.by_ecosystem(dict.fromkeys(ecosystems_in(*groups), 1.0))


@dataclass(frozen=True)
class ClassValues:
    """A per-pixel quantity that depends only on the pixel's ecosystem class: one value per class.

    Its zone sums follow exactly from the zone × class pixel counts the single pass computes anyway, so
    such layers cost no pixel work; `pixels()` gives the per-pixel array when it meets a raster.
    """

    values: np.ndarray  # per class index; the last slot is "no class"
    index: da.Array  # the class-index layer

    def pixels(self) -> da.Array:
        lut = self.values
        return da.map_blocks(lambda b: lut[b], self.index, dtype=np.float64, meta=np.array((), dtype=np.float64))

    def _combine(self, other: float | ClassValues, op: str) -> ClassValues:
        rhs = other.values if isinstance(other, ClassValues) else float(other)
        return ClassValues(getattr(np, op)(self.values, rhs), self.index)

    def __mul__(self, other: float | ClassValues) -> ClassValues:
        return self._combine(other, "multiply")

    __rmul__ = __mul__

    def __truediv__(self, other: float | ClassValues) -> ClassValues:
        return self._combine(other, "divide")

    def __sub__(self, other: float | ClassValues) -> ClassValues:
        return self._combine(other, "subtract")

    def clip_min(self, low: float) -> ClassValues:
        return ClassValues(np.maximum(self.values, low), self.index)


@dataclass
class ZoneContext:
    """Per-zone sums from the single pass, ecosystem areas, statistics and parameters for one year."""

    region: Region
    year: int
    profile: MethodProfile
    layer_sums: pd.DataFrame  # index: lowest-level zone code; columns: "indicator:key"
    ecosystem_area: pd.DataFrame  # index: zone code; columns: ecosystem ids (m2)
    spec: IndicatorSpec | None = None

    def for_indicator(self, spec: IndicatorSpec) -> ZoneContext:
        return ZoneContext(self.region, self.year, self.profile, self.layer_sums, self.ecosystem_area, spec)

    @property
    def zones(self) -> Zones:
        return self.region.zones

    def sums(self, indicator: str, key: str) -> pd.Series:
        return self.layer_sums[f"{indicator}:{key}"]

    def param(self, name: str) -> Parameter:
        assert self.spec is not None
        return self.profile.param(self.spec.param_id(name))

    def area(self, *groups: str) -> pd.Series:
        """Area (m2) per zone of the given ecosystem groups or ids."""
        cols = [c for c in ecosystems_in(*groups) if c in self.ecosystem_area.columns]
        return self.ecosystem_area[cols].sum(axis=1)

    def statistic(self, item: str, proxy_groups: tuple[str, ...], proxy: pd.Series | None = None
                  ) -> tuple[pd.Series, str, str]:
        """Figures of `item` allocated to the lowest level; (values, source levels, proxy description)."""
        stats = self.region.statistics.for_year(self.year)
        if not stats.has(item):
            raise Skip(f"statistics item {item!r} has no figure for {self.year}")
        if proxy is None:
            proxy = self.area(*proxy_groups)
            label = "area of " + "+".join(proxy_groups)
        else:
            label = "+".join(proxy_groups)
        equal: list[str] = []
        values, levels = stats.allocate(item, self.zones, proxy, equal)
        source = levels if levels else "none"
        if source == self.zones.lowest:
            return values, source, ""
        if equal:  # the proxy named would be wrong for these zones: say what was done instead
            shown = ", ".join(equal[:10]) + (" …" if len(equal) > 10 else "")
            label = f"{label}; split equally in {shown} (no such land below)"
        return values, source, label

    def has_statistic(self, item: str) -> bool:
        return self.region.statistics.for_year(self.year).has(item)

    def statistics_items(self, prefix: str) -> list[str]:
        return self.region.statistics.for_year(self.year).items(prefix)

    def zone_price(self, item: str, codes: pd.Index) -> pd.Series:
        """A price per lowest-level zone: the figure of the zone itself or of its nearest ancestor."""
        figures = self.region.statistics.for_year(self.year).figures(item).set_index("zone_code")["value"]
        frame = self.zones.frame.set_index(f"{self.zones.lowest}_code", drop=False).loc[codes]
        price = pd.Series(np.nan, index=codes)
        for level in self.zones.levels:  # finer levels overwrite coarser ones
            mapped = frame[f"{level}_code"].map(figures)
            price = mapped.where(mapped.notna(), price)
        return price.fillna(0.0)
