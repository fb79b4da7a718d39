"""CO₂ fixed per pixel from NPP: shared by carbon sequestration and oxygen release."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dask.array as da

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext


C_TO_CO2 = 44.0 / 12.0


def co2_per_pixel(ctx: PixelContext, ratio_param: str) -> da.Array:
    """t CO₂ per pixel: NEP = NPP × (NEP/NPP ratio of the ecosystem); CO₂ = NEP × 44/12."""
    npp = ctx.layer("npp")  # g C m⁻² a⁻¹
    ratio = ctx.by_ecosystem(ctx.param(ratio_param).table()).pixels()
    return da.maximum(npp * ratio, 0.0) * ctx.pixel_area_m2 * 1e-6 * C_TO_CO2
