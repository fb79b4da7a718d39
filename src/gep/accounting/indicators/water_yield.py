"""Water conservation by annual water yield (Budyko curve, Fu–Zhang form), the alternative many GEP
studies use instead of the water balance; the same formula as InVEST's Annual Water Yield.

PET = Kc·ET0;  AWC = min(root depth, soil depth)·PAWC;  ω = min(Z·AWC/P + 1.25, 5);
vegetated: AET/P = min(PET/P, 1 + PET/P − (1 + (PET/P)^ω)^(1/ω));  other: AET/P = min(PET, P)/P;
yield Y = (1 − AET/P)·P, counted over the ecosystems that have a Kc; valued at reservoir cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dask.array as da
import numpy as np

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext
    from gep.accounting.indicators.base import Layer


def fu_zhang_aet_fraction(p: np.ndarray, pet: np.ndarray, awc: np.ndarray, z: float, vegetated: np.ndarray
                          ) -> np.ndarray:
    """AET/P per pixel (NaN where P <= 0), Fu's equation with Zhang's ω for vegetation."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = pet / p
        omega = np.minimum(z * awc / p + 1.25, 5.0)
        veg = np.minimum(ratio, 1.0 + ratio - (1.0 + ratio**omega) ** (1.0 / omega))
        other = np.minimum(pet, p) / p
        out = np.where(vegetated > 0, veg, other)
    return np.where(p > 0, out, np.nan)


class WaterConservationBudyko(Indicator):
    SPEC = IndicatorSpec(
        id="water_conservation", name_zh="水源涵养", name_en="Water conservation", category="regulating",
        outputs=(OutputSpec("water_yield", "产水量 (Budyko)", "Water yield (Budyko)", "m3",
                            "water_conservation.reservoir_cost"),),
        layers=("ecosystem", "precipitation", "reference_et", "soil_depth", "pawc"),
        parameters=(
            ParamSpec("kc", "作物系数 Kc", "1", by_ecosystem=True),
            ParamSpec("root_depth", "根系深度", "mm", by_ecosystem=True),
            ParamSpec("vegetated", "是否植被 (1/0)", "1", by_ecosystem=True),
            ParamSpec("seasonality_z", "季节性常数 Z", "1"),
            ParamSpec("reservoir_cost", "水库单位库容工程造价", "yuan/m3"),
        ),
        reference="PEERS.md §2.1 (InVEST Annual Water Yield; Fu 1981, Zhang 2004)",
        formula="Q = Σ (1 − AET/P)·P·A·10⁻³ with Fu–Zhang AET/P;  V = Q · C_reservoir",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        p = ctx.layer("precipitation")
        kc = ctx.by_ecosystem(ctx.param("kc").table(), default=float("nan")).pixels()
        pet = kc * ctx.layer("reference_et")
        root = ctx.by_ecosystem(ctx.param("root_depth").table(), default=1.0).pixels()
        awc = da.minimum(root, ctx.layer("soil_depth")) * ctx.layer("pawc")
        veg = ctx.by_ecosystem(ctx.param("vegetated").table()).pixels()
        z = ctx.param("seasonality_z").scalar()
        fraction = da.map_blocks(fu_zhang_aet_fraction, p, pet, awc, z, veg, dtype=np.float64,
                                 meta=np.array((), dtype=np.float64))
        yield_mm = (1.0 - fraction) * p
        volume = da.where(da.isnan(kc), 0.0, da.nan_to_num(yield_mm)) * 1e-3 * ctx.pixel_area_m2
        return {"water_yield": volume}
