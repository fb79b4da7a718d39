"""Value items a profile declares for what the catalogue lacks (a non-use value from a contingent-valuation
survey, reed harvested from a wetland, pest control): figures from the statistics, priced by the profile.

Each item becomes an indicator of its own category with one sub-indicator. Its statistics item is
`value_item.<id>`: a quantity in the item's unit (valued at the parameter `<id>.price`) or, for an item in
yuan, the value itself (moved to the price year with the price index like any output value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from gep.accounting.indicators.base import Category, Indicator, IndicatorSpec, OutputSpec, ParamSpec, SubQuantity

if TYPE_CHECKING:
    from gep.accounting.context import ZoneContext
    from gep.accounting.methods import ValueItem


def value_item_class(item: ValueItem) -> type[Indicator]:
    """An indicator class for one declared value item."""
    price = item.price_parameter
    spec = IndicatorSpec(
        id=item.id, name_zh=item.name_zh, name_en=item.name_en, category=cast(Category, item.category),
        outputs=(OutputSpec(item.id, item.name_zh, item.name_en, item.unit, price),),
        statistics=(item.statistics_item,),
        parameters=(ParamSpec("price", f"{item.name_zh}单价", f"yuan/{item.unit}"),) if price else (),
        reference=item.source,
        formula="V = Q · P" if price else "V = value given",
    )

    def quantities(self: Indicator, ctx: ZoneContext) -> list[SubQuantity]:
        values, level, proxy = ctx.statistic(item.statistics_item, item.proxy)
        return [SubQuantity(spec.outputs[0], values, level, proxy)]

    return type(f"ValueItem_{item.id}", (Indicator,), {"SPEC": spec, "quantities": quantities})
