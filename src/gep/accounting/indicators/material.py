"""Material products (物质产品): agriculture, forestry, animal husbandry and fishery.

Valued at output value from ecosystems (市场价值法): either the published output value, or product
outputs times their unit prices. County figures are allocated down by the area of the ecosystems that
yield them (farmland for agriculture, forest for forestry, ...); the proxy is recorded in the accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, Skip, SubQuantity

if TYPE_CHECKING:
    from gep.accounting.context import ZoneContext

REFERENCE = "METHODS.md §2.1 (市场价值法; Garzê 2010 used output value); national guideline 2022 (unverified)"


def _spec(sector: str, zh: str, en: str) -> IndicatorSpec:
    return IndicatorSpec(
        id=sector, name_zh=zh, name_en=en, category="material",
        outputs=(OutputSpec("output_value", f"{zh}产值", f"{en} output value", "yuan", None),),
        statistics=(f"{sector}.output_value", f"{sector}.product.<name>", f"{sector}.price.<name>"),
        reference=REFERENCE,
        formula="V = Σ output value, or Σ output_i × price_i",
    )


@dataclass
class SectorProducts(Indicator):
    PROXY: ClassVar[tuple[str, ...]] = ()

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        sector = self.SPEC.id
        out: list[SubQuantity] = []
        if ctx.has_statistic(f"{sector}.output_value"):
            values, level, proxy = ctx.statistic(f"{sector}.output_value", self.PROXY)
            out.append(SubQuantity(self.SPEC.outputs[0], values, level, proxy))
        for item in ctx.statistics_items(f"{sector}.product."):
            name = item.rsplit(".", 1)[1]
            quantity, level, proxy = ctx.statistic(item, self.PROXY)
            unit = str(ctx.region.statistics.figures(item)["unit"].iloc[0])
            price = ctx.zone_price(f"{sector}.price.{name}", quantity.index)
            output = OutputSpec(f"product:{name}", f"{name}", f"{name}", unit, f"statistics:{sector}.price.{name}")
            out.append(SubQuantity(output, quantity, level, proxy, value_factor=price))
        if not out:
            raise Skip(f"no {sector}.output_value or {sector}.product.* statistics for {ctx.year}")
        return out


class Agriculture(SectorProducts):
    SPEC = _spec("agriculture", "农业产品", "Agricultural products")
    PROXY = ("cropland",)


class Forestry(SectorProducts):
    SPEC = _spec("forestry", "林业产品", "Forestry products")
    PROXY = ("forest",)


class AnimalHusbandry(SectorProducts):
    SPEC = _spec("animal_husbandry", "畜牧业产品", "Animal husbandry products")
    PROXY = ("grassland", "cropland")


class Fishery(SectorProducts):
    SPEC = _spec("fishery", "渔业产品", "Fishery products")
    PROXY = ("lake", "reservoir", "river", "marsh")
