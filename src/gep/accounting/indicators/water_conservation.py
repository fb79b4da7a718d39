"""Water conservation (水源涵养): the water balance P − R − ET of each ecosystem, valued at reservoir cost.

Q = Σ_i (P − R − ET) × A × 10⁻³, R = P × α_i (METHODS.md §2.2, Garzê eq.; runoff coefficients from the
public 双评价 code). Only the ecosystems listed in the runoff-coefficient table are counted; a pixel whose
balance is negative (ET above P − R) conserves nothing and counts 0 rather than a negative volume.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dask.array as da

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext
    from gep.accounting.indicators.base import Layer


class WaterConservation(Indicator):
    SPEC = IndicatorSpec(
        id="water_conservation", name_zh="水源涵养", name_en="Water conservation", category="regulating",
        outputs=(OutputSpec("water_conservation", "水源涵养量", "Water conserved", "m3",
                            "water_conservation.reservoir_cost"),),
        layers=("ecosystem", "precipitation", "evapotranspiration"),
        parameters=(
            ParamSpec("runoff_coefficient", "地表径流系数", "fraction", by_ecosystem=True,
                      description="storm runoff as a share of precipitation; ecosystems not listed are not counted"),
            ParamSpec("reservoir_cost", "水库单位库容工程造价", "yuan/m3"),
        ),
        reference="METHODS.md §2.2 (白玛卓嘎 et al. 2017; 影子工程法)",
        formula="Q = Σ max(P − P·α_i − ET, 0) · A · 10⁻³;  V = Q · C_reservoir",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        p = ctx.layer("precipitation")
        et = ctx.layer("evapotranspiration")
        table = ctx.param("runoff_coefficient").table()
        alpha = ctx.by_ecosystem(table, default=float("nan")).pixels()
        counted = ~da.isnan(alpha)
        depth_mm = da.maximum(p - p * da.where(counted, alpha, 0.0) - et, 0.0)
        volume = da.where(counted, depth_mm, 0.0) * 1e-3 * ctx.pixel_area_m2
        return {"water_conservation": volume}
