"""Hydropower (生态能源 / 水电): generation × on-grid electricity price (市场价值法)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec, SubQuantity

if TYPE_CHECKING:
    from gep.accounting.context import ZoneContext


class Hydropower(Indicator):
    SPEC = IndicatorSpec(
        id="hydropower", name_zh="水力发电", name_en="Hydropower", category="material",
        outputs=(OutputSpec("generation", "水力发电量", "Hydropower generation", "kWh", "hydropower.price"),),
        statistics=("hydropower.generation",),
        parameters=(ParamSpec("price", "水电上网电价", "yuan/kWh"),),
        reference="METHODS.md §2.1 (Garzê 2010: 0.53 元/(kW·h))",
        formula="V = generation × price",
    )

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        values, level, proxy = ctx.statistic("hydropower.generation", ("reservoir", "river"))
        return [SubQuantity(self.SPEC.outputs[0], values, level, proxy)]
