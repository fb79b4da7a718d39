"""Climate regulation (气候调节): energy that vegetation transpiration and water-surface evaporation spend
cooling and humidifying the air, priced as the electricity air conditioners and humidifiers would use.

Vegetation (forest, shrub, grassland): E_pt = EPP · S · d / (3600 · r), with EPP (kJ m⁻² d⁻¹) the latent heat
of the day's evapotranspiration, ET/365 × q [DERIVED: the EPP table was not found]. Water surfaces:
E_we = (E_w · ρ · q / 3600 + E_w · γ) · d/365, E_w the evaporated volume (Garzê form, counted on the same
cooling days d). METHODS.md §2.11.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dask.array as da

from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext
    from gep.accounting.indicators.base import Layer

PRICE = "climate_regulation.electricity_price"
WATER_DENSITY = 1000.0  # kg/m3


class ClimateRegulation(Indicator):
    SPEC = IndicatorSpec(
        id="climate_regulation", name_zh="气候调节", name_en="Climate regulation", category="regulating",
        outputs=(
            OutputSpec("vegetation_transpiration", "植被蒸腾降温增湿", "Vegetation transpiration cooling", "kWh",
                       PRICE),
            OutputSpec("water_evaporation", "水面蒸发降温增湿", "Water-surface evaporation cooling", "kWh", PRICE),
        ),
        layers=("ecosystem", "evapotranspiration"),
        parameters=(
            ParamSpec("latent_heat", "水的汽化潜热", "kJ/kg"),
            ParamSpec("air_conditioner_eer", "空调能效比", "1"),
            ParamSpec("cooling_days", "空调开放天数 (日均温 > 26 °C)", "d"),
            ParamSpec("humidifier_energy", "加湿器耗电 (每 m³ 水)", "kWh/m3"),
            ParamSpec("electricity_price", "电价", "yuan/kWh"),
        ),
        reference="METHODS.md §2.11 (白玛卓嘎 et al. 2017; parameters from the 酉阳 platform)",
        formula="E_pt = ET/365·q·A·d/(3600·r);  E_we = (E_w·ρ·q/3600 + E_w·γ)·d/365;  V = (E_pt + E_we)·P_e",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        et_m = ctx.layer("evapotranspiration") * 1e-3
        area = ctx.pixel_area_m2
        q = ctx.param("latent_heat").scalar()  # kJ/kg
        days = ctx.param("cooling_days").scalar()
        eer = ctx.param("air_conditioner_eer").scalar()
        gamma = ctx.param("humidifier_energy").scalar()
        kj_per_m2_day = et_m * WATER_DENSITY / 365.0 * q
        vegetation = ctx.mask("forest", "shrub", "grassland").pixels() * kj_per_m2_day * area * days / (3600.0 * eer)
        evaporated = ctx.mask("lake", "reservoir", "river").pixels() * et_m * area
        water = (evaporated * WATER_DENSITY * q / 3600.0 + evaporated * gamma) * days / 365.0
        return {"vegetation_transpiration": da.nan_to_num(vegetation), "water_evaporation": da.nan_to_num(water)}
