"""Carbon sequestration (固碳): CO₂ fixed by ecosystems from net ecosystem production.

Q_CO₂ = 44/12 × NEP, NEP = NPP × r_i (METHODS.md §2.9; the ratio form is the recalled national guideline,
unverified). Valued at a carbon price per tonne CO₂.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gep.accounting.indicators._carbon import co2_per_pixel
from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext
    from gep.accounting.indicators.base import Layer


class CarbonSequestration(Indicator):
    SPEC = IndicatorSpec(
        id="carbon_sequestration", name_zh="固碳", name_en="Carbon sequestration", category="regulating",
        outputs=(OutputSpec("co2", "固定二氧化碳量", "CO₂ fixed", "t", "carbon_sequestration.price"),),
        layers=("ecosystem", "npp"),
        parameters=(ParamSpec("nep_npp_ratio", "NEP/NPP 比例", "fraction", by_ecosystem=True),
                    ParamSpec("price", "碳价格 (每吨CO₂)", "yuan/t")),
        reference="METHODS.md §2.9 (Q = 44/12 · NEP, unverified; price Garzê 2010 380 元/t)",
        formula="Q = Σ NPP·r_i·A·10⁻⁶·44/12;  V = Q · P_C",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        return {"co2": co2_per_pixel(ctx, "nep_npp_ratio")}
