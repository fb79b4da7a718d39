"""Flood regulation (洪水调蓄): storm water held by vegetation, reservoirs, lakes and marshes.

Vegetation: (P_storm − R_storm) × A on vegetated land (formula not found in a source; METHODS.md §2.6 marks it
unverified). Reservoirs: flood-control share × total capacity. Lakes: C = e^a · A^b · T (万m³, A in km²; the
Qinghai-Tibet regression of 饶恩明 et al., the only one found) applied to each county's lake area.
Marshes: water depth held × marsh area. All valued at reservoir construction cost (影子工程法).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import dask.array as da
import pandas as pd

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec, Skip, SubQuantity
from gep.accounting.statistics import allocate

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext, ZoneContext
    from gep.accounting.indicators.base import Layer

PRICE = "flood_regulation.reservoir_cost"


class FloodRegulation(Indicator):
    SPEC = IndicatorSpec(
        id="flood_regulation", name_zh="洪水调蓄", name_en="Flood regulation", category="regulating",
        outputs=(
            OutputSpec("vegetation", "植被洪水调蓄量", "Vegetation storm storage", "m3", PRICE),
            OutputSpec("reservoir", "水库调蓄量", "Reservoir flood storage", "m3", PRICE),
            OutputSpec("lake", "湖泊调蓄量", "Lake flood storage", "m3", PRICE),
            OutputSpec("marsh", "沼泽调蓄量", "Marsh flood storage", "m3", PRICE),
        ),
        layers=("ecosystem",),
        optional_layers=("storm_precipitation",),
        statistics=("flood_regulation.reservoir_capacity",),
        parameters=(
            ParamSpec("storm_runoff_coefficient", "暴雨径流系数", "fraction", by_ecosystem=True),
            ParamSpec("reservoir_flood_share", "水库防洪库容比例", "fraction"),
            ParamSpec("lake_ln_a", "湖泊调蓄模型系数 ln(a)", "1"),
            ParamSpec("lake_exponent", "湖泊调蓄模型指数 b", "1"),
            ParamSpec("lake_exchange_times", "湖泊换水次数", "1/a"),
            ParamSpec("marsh_depth", "沼泽滞水深度", "m"),
            ParamSpec("reservoir_cost", "水库单位库容工程造价", "yuan/m3"),
        ),
        reference="METHODS.md §2.6 (白玛卓嘎 et al. 2017; vegetation form unverified)",
        formula="C_veg = Σ (P_s − P_s·α_i)·A·10⁻³; C_r = 0.35·C_t; C_l = e^6.636·A^0.678·T·10⁴; C_m = h·A",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        area = ctx.pixel_area_m2
        layers: dict[str, Layer] = {
            "marsh": ctx.mask("marsh") * ctx.param("marsh_depth").scalar() * area,
            "lake_area": ctx.mask("lake") * area,
            "reservoir_area": ctx.mask("reservoir") * area,
        }
        try:
            storm = ctx.layer("storm_precipitation")
        except Skip as skip:
            self.notes.append(f"flood_regulation.vegetation skipped: {skip.reason}")
            return layers
        alpha = ctx.by_ecosystem(ctx.param("storm_runoff_coefficient").table(), default=float("nan")).pixels()
        counted = ~da.isnan(alpha)
        held = da.maximum(storm * (1 - da.where(counted, alpha, 0.0)), 0.0)
        layers["vegetation"] = da.where(counted, held, 0.0) * 1e-3 * area
        return layers

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        out = [SubQuantity(self.SPEC.output("marsh"), ctx.sums(self.SPEC.id, "marsh"))]
        if f"{self.SPEC.id}:vegetation" in ctx.layer_sums:
            out.append(SubQuantity(self.SPEC.output("vegetation"), ctx.sums(self.SPEC.id, "vegetation")))
        out.append(self._lakes(ctx))
        if ctx.has_statistic("flood_regulation.reservoir_capacity"):
            capacity, level, _ = ctx.statistic("flood_regulation.reservoir_capacity", (),
                                               proxy=ctx.sums(self.SPEC.id, "reservoir_area"))
            share = ctx.param("reservoir_flood_share").scalar()
            out.append(SubQuantity(self.SPEC.output("reservoir"), capacity * share, level, "reservoir area"))
        else:
            self.notes.append("flood_regulation.reservoir skipped: no flood_regulation.reservoir_capacity figure")
        return out

    def _lakes(self, ctx: ZoneContext) -> SubQuantity:
        """Apply the (non-linear) lake regression per county, then spread by lake area."""
        lake_area = ctx.sums(self.SPEC.id, "lake_area")
        zones = ctx.zones
        level = zones.levels[1]
        by_zone = lake_area.groupby(zones.frame.set_index(f"{zones.lowest}_code").loc[lake_area.index,
                                                                                        f"{level}_code"].to_numpy()).sum()
        ln_a = ctx.param("lake_ln_a").scalar()
        b = ctx.param("lake_exponent").scalar()
        t = ctx.param("lake_exchange_times").scalar()
        given = {code: math.exp(ln_a) * (a / 1e6) ** b * t * 1e4 for code, a in by_zone.items() if a > 0}
        values = allocate(given, zones, lake_area, "flood_regulation.lake") if given else \
            pd.Series(0.0, index=lake_area.index)
        return SubQuantity(self.SPEC.output("lake"), values, level, "lake area")
