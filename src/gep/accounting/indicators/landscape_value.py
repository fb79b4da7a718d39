"""Landscape value (景观价值, Zhejiang optional account): hedonic premium of homes near ecosystems.

V = benefiting floor area × house price × premium rate (享乐价格法; METHODS.md §2.15 marks it unverified).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec, SubQuantity

if TYPE_CHECKING:
    from gep.accounting.context import ZoneContext


class LandscapeValue(Indicator):
    SPEC = IndicatorSpec(
        id="landscape_value", name_zh="景观价值", name_en="Landscape value", category="cultural",
        outputs=(OutputSpec("benefiting_area", "景观受益房产面积", "Benefiting floor area", "m2",
                            "statistics:landscape_value.house_price × landscape_value.premium_rate"),),
        statistics=("landscape_value.benefiting_area", "landscape_value.house_price"),
        parameters=(ParamSpec("premium_rate", "生态景观溢价率", "fraction"),),
        reference="METHODS.md §2.15 (享乐价格法, unverified)",
        formula="V = area × house price × premium rate",
    )

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        area, level, proxy = ctx.statistic("landscape_value.benefiting_area", ("urban",))
        price = ctx.zone_price("landscape_value.house_price", area.index)
        factor = price * ctx.param("premium_rate").scalar()
        return [SubQuantity(self.SPEC.outputs[0], area, level, proxy, value_factor=factor)]
