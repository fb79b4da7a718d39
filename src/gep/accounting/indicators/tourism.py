"""Tourism and recreation (旅游康养 / 休闲游憩): visits valued by the travel-cost method.

V = visits × (travel expense + time cost + consumer surplus) per visit (METHODS.md §2.15, 白洋淀 ITCM).
County figures are allocated down by natural-ecosystem area (forest, shrub, grassland, wetland).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec, SubQuantity

if TYPE_CHECKING:
    from gep.accounting.context import ZoneContext


class Tourism(Indicator):
    SPEC = IndicatorSpec(
        id="tourism", name_zh="旅游康养", name_en="Tourism and recreation", category="cultural",
        outputs=(OutputSpec("visits", "旅游人次", "Tourist visits", "person-time", "tourism.value_per_visit"),),
        statistics=("tourism.visitors",),
        parameters=(ParamSpec("value_per_visit", "人均旅行费用 (含时间成本和消费者剩余)", "yuan/person-time"),),
        reference="METHODS.md §2.15 (旅行费用法; per-visit TE + TV + CS from 江波 et al. 2017)",
        formula="V = visits × (TE + TV + CS)",
    )

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        values, level, proxy = ctx.statistic("tourism.visitors", ("forest", "shrub", "grassland", "wetland"))
        return [SubQuantity(self.SPEC.outputs[0], values, level, proxy)]
