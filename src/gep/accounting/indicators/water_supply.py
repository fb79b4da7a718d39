"""Water supply (水资源): water used for domestic, industrial and agricultural purposes × water price.

V = Σ_i Q_i × P_i (Garzê 2010, METHODS.md §2.1). Figures are allocated down by water-body area.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec, Skip, SubQuantity

if TYPE_CHECKING:
    from gep.accounting.context import ZoneContext

USES = (("domestic", "生活用水", "Domestic water"), ("industrial", "工业用水", "Industrial water"),
        ("agricultural", "农业用水", "Agricultural water"))
PROXY = ("lake", "reservoir", "river")


class WaterSupply(Indicator):
    SPEC = IndicatorSpec(
        id="water_supply", name_zh="水资源", name_en="Water supply", category="material",
        outputs=tuple(OutputSpec(u, zh, en, "m3", f"water_supply.price_{u}") for u, zh, en in USES),
        statistics=tuple(f"water_supply.{u}" for u, _, _ in USES),
        parameters=tuple(ParamSpec(f"price_{u}", f"{zh}价格", "yuan/m3") for u, zh, _ in USES),
        reference="METHODS.md §2.1: V_p = Σ Q_pi × P_pi (白玛卓嘎 et al. 2017, Garzê 2010)",
        formula="V = Σ_use volume_use × price_use",
    )

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        out = []
        for use, _, _ in USES:
            if not ctx.has_statistic(f"water_supply.{use}"):
                self.notes.append(f"water_supply.{use}: no figure for {ctx.year}; sub-indicator skipped")
                continue
            values, level, proxy = ctx.statistic(f"water_supply.{use}", PROXY)
            out.append(SubQuantity(self.SPEC.output(use), values, level, proxy))
        if not out:
            raise Skip(f"no water_supply.* statistics for {ctx.year}")
        return out
