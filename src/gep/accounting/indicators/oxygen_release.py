"""Oxygen release (释氧, Zhejiang/Lishui set): O₂ = 32/44 × CO₂ fixed, valued at industrial oxygen price."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gep.accounting.indicators._carbon import co2_per_pixel
from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext
    from gep.accounting.indicators.base import Layer

O2_PER_CO2 = 32.0 / 44.0


class OxygenRelease(Indicator):
    SPEC = IndicatorSpec(
        id="oxygen_release", name_zh="释氧", name_en="Oxygen release", category="regulating",
        outputs=(OutputSpec("o2", "释放氧气量", "O₂ released", "t", "oxygen_release.price"),),
        layers=("ecosystem", "npp"),
        parameters=(ParamSpec("nep_npp_ratio", "NEP/NPP 比例", "fraction", by_ecosystem=True),
                    ParamSpec("price", "氧气价格", "yuan/t")),
        reference="METHODS.md §2.10 (Q_O₂ = 32/44 · Q_CO₂, unverified Zhejiang form; price 1000 元/t 白洋淀)",
        formula="Q = 32/44 · Q_CO₂;  V = Q · P_O₂",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        return {"o2": co2_per_pixel(ctx, "nep_npp_ratio") * O2_PER_CO2}
