"""The indicator registry: an explicit list, no package scanning (no side effects at import)."""

from __future__ import annotations

from gep.accounting.indicators.air_purification import AirPurification
from gep.accounting.indicators.base import Indicator, IndicatorSpec
from gep.accounting.indicators.carbon_sequestration import CarbonSequestration
from gep.accounting.indicators.climate_regulation import ClimateRegulation
from gep.accounting.indicators.flood_regulation import FloodRegulation
from gep.accounting.indicators.hydropower import Hydropower
from gep.accounting.indicators.landscape_value import LandscapeValue
from gep.accounting.indicators.material import Agriculture, AnimalHusbandry, Fishery, Forestry
from gep.accounting.indicators.negative_ions import NegativeIons
from gep.accounting.indicators.oxygen_release import OxygenRelease
from gep.accounting.indicators.soil_retention import SoilRetention
from gep.accounting.indicators.tourism import Tourism
from gep.accounting.indicators.water_conservation import WaterConservation
from gep.accounting.indicators.water_purification import WaterPurification
from gep.accounting.indicators.water_supply import WaterSupply
from gep.accounting.indicators.water_yield import WaterConservationBudyko

REGISTRY: dict[str, type[Indicator]] = {}
VARIANTS: dict[tuple[str, str], type[Indicator]] = {}  # (indicator id, method variant) -> class


def register(cls: type[Indicator]) -> type[Indicator]:
    """Add an indicator class to the registry (other modules, e.g. terrain-based ones, plug in here)."""
    REGISTRY[cls.SPEC.id] = cls
    return cls


for _cls in (Agriculture, Forestry, AnimalHusbandry, Fishery, WaterSupply, Hydropower, WaterConservation,
             SoilRetention, FloodRegulation, AirPurification, WaterPurification, CarbonSequestration, OxygenRelease,
             ClimateRegulation, NegativeIons, Tourism, LandscapeValue):
    register(_cls)


def register_variant(variant: str, cls: type[Indicator]) -> type[Indicator]:
    """An alternative method for an indicator id, chosen by a profile's `variants` table."""
    VARIANTS[(cls.SPEC.id, variant)] = cls
    return cls


register_variant("budyko", WaterConservationBudyko)


def indicator_class(indicator_id: str, variant: str | None = None) -> type[Indicator]:
    """The class that computes an indicator (its default method, or a named variant)."""
    if variant:
        if (indicator_id, variant) not in VARIANTS:
            known = sorted(v for i, v in VARIANTS if i == indicator_id)
            raise KeyError(f"indicator {indicator_id!r} has no method variant {variant!r}; known: {known}")
        return VARIANTS[(indicator_id, variant)]
    return REGISTRY[indicator_id]


def spec(indicator_id: str) -> IndicatorSpec:
    return REGISTRY[indicator_id].SPEC


__all__ = ["REGISTRY", "VARIANTS", "Indicator", "IndicatorSpec", "indicator_class", "register", "spec"]
