"""Air purification (空气净化): SO₂, NOₓ and dust taken up by ecosystems, capped by what is emitted.

Capacity = Σ rate_i × area_i (t/ha/a by ecosystem); quantity = min(capacity, emission) at each zone with an
emission figure (Garzê practice; METHODS.md §2.7). Valued at abatement cost (防治费用法).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gep.accounting.indicators._capped import capped
from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec, SubQuantity

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext, ZoneContext
    from gep.accounting.indicators.base import Layer

POLLUTANTS = (("so2", "二氧化硫", "SO₂"), ("nox", "氮氧化物", "NOₓ"), ("dust", "工业粉尘", "Industrial dust"))


class AirPurification(Indicator):
    SPEC = IndicatorSpec(
        id="air_purification", name_zh="空气净化", name_en="Air purification", category="regulating",
        outputs=tuple(OutputSpec(p, f"净化{zh}量", f"{en} purified", "t", f"air_purification.price_{p}")
                      for p, zh, en in POLLUTANTS),
        layers=("ecosystem",),
        statistics=tuple(f"air_purification.emission.{p}" for p, _, _ in POLLUTANTS),
        parameters=tuple(ParamSpec(f"rate_{p}", f"单位面积{zh}净化能力", "t/ha", by_ecosystem=True)
                         for p, zh, _ in POLLUTANTS)
        + tuple(ParamSpec(f"price_{p}", f"{zh}治理成本", "yuan/t") for p, zh, _ in POLLUTANTS),
        reference="METHODS.md §2.7 (白玛卓嘎 et al. 2017: quantity = emissions; prices 排污费征收标准 2003)",
        formula="Q_k = min(Σ_i rate_ik · A_i, E_k);  V = Σ_k Q_k · P_k",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        ha = ctx.pixel_area_m2 / 1e4
        return {f"capacity_{p}": ctx.by_ecosystem(ctx.param(f"rate_{p}").table()) * ha for p, _, _ in POLLUTANTS}

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        out = []
        for p, _, _ in POLLUTANTS:
            item = f"{self.SPEC.id}.emission.{p}"
            if not ctx.has_statistic(item):
                self.notes.append(f"{self.SPEC.id}.{p} skipped: no {item} figure for {ctx.year} (the rule needs it)")
                continue
            values, level = capped(ctx, item, ctx.sums(self.SPEC.id, f"capacity_{p}"))
            out.append(SubQuantity(self.SPEC.output(p), values, level, f"purification capacity ({p})"))
        return out
