"""Negative oxygen ions (负氧离子, Zhejiang optional account): ions produced above the background level.

G = 5.256·10¹⁵ · (Q_ion − Q₀) · A · H / L (A in ha, H stand height m, L ion lifetime min), the LY/T 1721-2008
form recalled in METHODS.md §2.12 — unverified. Quantity in 10¹⁸ ions; value at the ion production cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext
    from gep.accounting.indicators.base import Layer

YEAR_MINUTES_TIMES_CM3 = 5.256e15  # 525 600 min/a × 10¹⁰ cm³ per (ha·m)


class NegativeIons(Indicator):
    SPEC = IndicatorSpec(
        id="negative_ions", name_zh="负氧离子", name_en="Negative oxygen ions", category="regulating",
        outputs=(OutputSpec("ions", "负氧离子产生量", "Negative ions produced", "1e18 ions", "negative_ions.price"),),
        layers=("ecosystem",),
        parameters=(
            ParamSpec("concentration", "负离子浓度", "ions/cm3", by_ecosystem=True),
            ParamSpec("stand_height", "林分高度", "m", by_ecosystem=True),
            ParamSpec("lifetime", "负离子寿命", "min"),
            ParamSpec("background", "负离子本底浓度阈值", "ions/cm3"),
            ParamSpec("price", "负离子生产费用", "yuan/1e18 ions"),
        ),
        reference="METHODS.md §2.12 (LY/T 1721-2008 form, unverified)",
        formula="G = 5.256e15·(Q_ion − 600)·A_ha·H/L;  V = G·K",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        excess = (ctx.by_ecosystem(ctx.param("concentration").table()) - ctx.param("background").scalar()).clip_min(0)
        height = ctx.by_ecosystem(ctx.param("stand_height").table())
        ha = ctx.pixel_area_m2 / 1e4
        ions = YEAR_MINUTES_TIMES_CM3 * excess * ha * height / ctx.param("lifetime").scalar()
        return {"ions": ions / 1e18}
