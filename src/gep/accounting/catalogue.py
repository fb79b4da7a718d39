"""The vocabulary a region package is written in: ecosystem types, raster layers, statistics items, units.

One table per concept so that validation, the docs and the indicators all read the same source of truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gep.errors import N_, InputError

# --------------------------------------------------------------------------------------------------
# Ecosystem types (生态系统类型): level II of the national classification, grouped into level I.
# A region maps its own land-cover codes onto these ids in `ecosystem_classes.csv`.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcosystemType:
    id: str
    group: str
    name_zh: str
    name_en: str


ECOSYSTEM_GROUPS: dict[str, tuple[str, str]] = {
    "forest": ("森林", "Forest"),
    "shrub": ("灌丛", "Shrubland"),
    "grassland": ("草地", "Grassland"),
    "wetland": ("湿地", "Wetland and water"),
    "cropland": ("农田", "Cropland and orchards"),
    "urban": ("城镇", "Urban"),
    "bare": ("裸地", "Bare land"),
}

_ECOSYSTEMS = [
    ("evergreen_broadleaf_forest", "forest", "常绿阔叶林", "Evergreen broadleaf forest"),
    ("evergreen_needleleaf_forest", "forest", "常绿针叶林", "Evergreen needleleaf forest"),
    ("mixed_forest", "forest", "针阔混交林", "Mixed forest"),
    ("deciduous_broadleaf_forest", "forest", "落叶阔叶林", "Deciduous broadleaf forest"),
    ("deciduous_needleleaf_forest", "forest", "落叶针叶林", "Deciduous needleleaf forest"),
    ("sparse_forest", "forest", "稀疏林", "Sparse forest"),
    ("evergreen_shrub", "shrub", "常绿阔叶灌丛", "Evergreen broadleaf shrub"),
    ("deciduous_shrub", "shrub", "落叶阔叶灌丛", "Deciduous broadleaf shrub"),
    ("sparse_shrub", "shrub", "稀疏灌丛", "Sparse shrub"),
    ("meadow", "grassland", "草甸", "Meadow"),
    ("steppe", "grassland", "草原", "Steppe"),
    ("tussock", "grassland", "草丛", "Tussock grassland"),
    ("sparse_grassland", "grassland", "稀疏草地", "Sparse grassland"),
    ("marsh", "wetland", "沼泽", "Marsh"),
    ("lake", "wetland", "湖泊", "Lake"),
    ("reservoir", "wetland", "水库坑塘", "Reservoir and pond"),
    ("river", "wetland", "河流", "River"),
    ("paddy", "cropland", "水田", "Paddy field"),
    ("dry_farmland", "cropland", "旱地", "Dry farmland"),
    ("tree_orchard", "cropland", "乔木园地", "Tree orchard"),
    ("shrub_orchard", "cropland", "灌木园地 (茶园等)", "Shrub orchard (tea etc.)"),
    ("urban", "urban", "城镇建设用地", "Built-up land"),
    ("bare_land", "bare", "裸地", "Bare land"),
]

ECOSYSTEMS: dict[str, EcosystemType] = {e[0]: EcosystemType(*e) for e in _ECOSYSTEMS}
WATER_SURFACE = ("lake", "reservoir", "river")
VEGETATED_GROUPS = ("forest", "shrub", "grassland")


def ecosystems_in(*groups: str) -> tuple[str, ...]:
    """Ecosystem ids of the given level-I groups (or ids themselves), in catalogue order."""
    return tuple(e.id for e in ECOSYSTEMS.values() if e.group in groups or e.id in groups)


# --------------------------------------------------------------------------------------------------
# Units. Canonical unit per dimension; every accepted spelling converts by a factor.
# --------------------------------------------------------------------------------------------------

_UNIT_FACTORS: dict[str, tuple[str, float]] = {}


def _register(canonical: str, spellings: dict[str, float]) -> None:
    _UNIT_FACTORS[canonical.lower()] = (canonical, 1.0)
    for spelling, factor in spellings.items():
        _UNIT_FACTORS[spelling.lower()] = (canonical, factor)


_register("yuan", {"元": 1, "cny": 1, "万元": 1e4, "10k yuan": 1e4, "10 thousand cny": 1e4,
                   "亿元": 1e8, "100 million cny": 1e8, "100 million yuan": 1e8})
_register("m3", {"m³": 1, "万m3": 1e4, "万m³": 1e4, "10k m3": 1e4, "10 thousand m3": 1e4,
                 "亿m3": 1e8, "亿m³": 1e8, "100 million m3": 1e8})
_register("kWh", {"kw·h": 1, "kw*h": 1, "万kwh": 1e4, "10k kwh": 1e4, "亿kwh": 1e8,
                  "100 million kwh": 1e8})
_register("t", {"吨": 1, "kg": 1e-3, "万t": 1e4, "万吨": 1e4, "10k t": 1e4, "10 thousand t": 1e4, "亿t": 1e8,
                 "亿吨": 1e8, "100 million t": 1e8})
_register("person-time", {"人次": 1, "万人次": 1e4, "10k person-times": 1e4, "person-times": 1})
_register("person", {"persons": 1, "人": 1, "万人": 1e4, "10 thousand persons": 1e4})
_register("m2", {"m²": 1, "ha": 1e4, "hm2": 1e4, "公顷": 1e4, "万ha": 1e8, "万公顷": 1e8, "km2": 1e6, "km²": 1e6,
                 "亩": 1e4 / 15})
_register("yuan/m2", {"元/m2": 1, "元/m²": 1, "yuan/m²": 1})
_register("yuan/t", {"元/t": 1, "元/吨": 1, "yuan/kg": 1e3, "元/kg": 1e3})
_register("yuan/m3", {"元/m3": 1, "元/m³": 1})
_register("yuan/kWh", {"元/kwh": 1, "元/(kw·h)": 1})
_register("yuan/person-time", {"元/人次": 1})


class UnitError(InputError):
    """A unit string that is unknown, or of another dimension than expected (a ValueError too)."""


ROW = N_("{file}, row {row}")  # where a problem is: a row of a table, 1-based and counting the header
UNKNOWN_UNIT = N_("unknown unit {unit}; expected {expected} or one of its multiples")
OTHER_UNIT = N_("unit {unit} is {canonical}, expected {expected}")


def convert_factor(unit: str, expected: str) -> float:
    """Factor that turns a value in `unit` into the canonical `expected` unit; raises UnitError."""
    key = unit.strip().lower()
    if key not in _UNIT_FACTORS:
        raise UnitError(UNKNOWN_UNIT, unit=repr(unit), expected=repr(expected))
    canonical, factor = _UNIT_FACTORS[key]
    if canonical.lower() != expected.lower():
        raise UnitError(OTHER_UNIT, unit=repr(unit), canonical=repr(canonical), expected=repr(expected))
    return factor


def known_units(canonical: str) -> list[str]:
    """Every accepted spelling of a canonical unit (for error messages and docs)."""
    return sorted(k for k, (c, _) in _UNIT_FACTORS.items() if c.lower() == canonical.lower())


# --------------------------------------------------------------------------------------------------
# Raster layers a region package may carry.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerSpec:
    name: str
    kind: Literal["categorical", "continuous"]
    unit: str
    name_zh: str
    description: str
    per_year: bool = False
    valid_range: tuple[float, float] | None = None


LAYERS: dict[str, LayerSpec] = {
    spec.name: spec
    for spec in [
        LayerSpec("ecosystem", "categorical", "class", "生态系统类型", "land cover codes, mapped by ecosystem_classes"),
        LayerSpec("dem", "continuous", "m", "数字高程模型", "elevation above sea level", False, (-500, 9000)),
        LayerSpec("precipitation", "continuous", "mm", "年降水量", "annual precipitation", True, (0, 10000)),
        LayerSpec("storm_precipitation", "continuous", "mm", "暴雨降水量",
                  "annual rainfall falling in storm events (daily rainfall >= 50 mm)", True, (0, 10000)),
        LayerSpec("evapotranspiration", "continuous", "mm", "实际蒸散发", "annual actual evapotranspiration",
                  True, (0, 5000)),
        LayerSpec("vegetation_cover", "continuous", "fraction", "植被覆盖度", "fractional vegetation cover 0-1",
                  True, (0, 1)),
        LayerSpec("npp", "continuous", "gC/m2", "净初级生产力", "annual net primary production, carbon mass",
                  True, (0, 5000)),
        LayerSpec("rainfall_erosivity", "continuous", "MJ·mm/(ha·h·a)", "降雨侵蚀力 R",
                  "annual rainfall erosivity (RUSLE R); or give daily_precipitation", True, (0, 100000)),
        LayerSpec("daily_precipitation", "continuous", "mm", "日降水量",
                  "daily precipitation, one band per day of the year (R from the daily-rainfall model of the 双评价 "
                  "script)", True, (0, 2000)),
        LayerSpec("soil_erodibility", "continuous", "t·ha·h/(ha·MJ·mm)", "土壤可蚀性 K",
                  "RUSLE K; or give sand, silt, clay and organic_matter", False, (0, 1)),
        LayerSpec("sand", "continuous", "%", "砂粒含量", "sand content (coarse + fine), mass %", False, (0, 100)),
        LayerSpec("silt", "continuous", "%", "粉粒含量", "silt content, mass %", False, (0, 100)),
        LayerSpec("clay", "continuous", "%", "黏粒含量", "clay content, mass %", False, (0, 100)),
        LayerSpec("organic_matter", "continuous", "%", "有机质含量", "soil organic matter, mass %", False, (0, 100)),
        LayerSpec("reference_et", "continuous", "mm", "参考蒸散发", "annual reference evapotranspiration ET0",
                  True, (0, 5000)),
        LayerSpec("soil_depth", "continuous", "mm", "根系限制层深度", "depth to the root-restricting layer",
                  False, (0, 100000)),
        LayerSpec("pawc", "continuous", "fraction", "植物可利用水含量", "plant-available water content, 0-1",
                  False, (0, 1)),
    ]
}

LAYER_UNIT_SPELLINGS: dict[str, set[str]] = {
    "class": {"class", "code", "类"},
    "m": {"m", "metre", "meter", "米"},
    "mm": {"mm", "mm/a", "mm/yr", "mm/year", "毫米"},
    "fraction": {"fraction", "1", "-", "0-1"},
    "gC/m2": {"gc/m2", "gc/m2/a", "gc/m2/yr", "g c m-2 a-1", "gc m-2 a-1"},
    "MJ·mm/(ha·h·a)": {"mj·mm/(ha·h·a)", "mj mm ha-1 h-1 a-1", "mj*mm/(ha*h*a)", "mj·mm·ha⁻¹·h⁻¹·a⁻¹"},
    "t·ha·h/(ha·MJ·mm)": {"t·ha·h/(ha·mj·mm)", "t ha h ha-1 mj-1 mm-1", "t*ha*h/(ha*mj*mm)"},
    "%": {"%", "percent", "pct"},
}


def layer_unit_ok(layer: str, unit: str) -> bool:
    """Whether `unit` (as written in region.toml) is an accepted spelling of the layer's unit."""
    return unit.strip().lower() in {u.lower() for u in LAYER_UNIT_SPELLINGS[LAYERS[layer].unit]}


# --------------------------------------------------------------------------------------------------
# Statistics items (rows of statistics tables, by zone code and year).
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    pattern: str  # a literal item id, or a regex with one group for the product name
    unit: str  # canonical unit; "*" means any known quantity unit (product quantities)
    name_zh: str
    description: str
    is_price: bool = False

    def matches(self, item: str) -> bool:
        return re.fullmatch(self.pattern, item) is not None


SECTORS = ("agriculture", "forestry", "animal_husbandry", "fishery")
_item_specs: list[ItemSpec] = []
for _sector in SECTORS:
    _item_specs += [
        ItemSpec(rf"{_sector}\.output_value", "yuan", "产值", f"{_sector} output value from ecosystems"),
        ItemSpec(rf"{_sector}\.product\.([\w-]+)", "*", "产品产量", f"output of one {_sector} product"),
        ItemSpec(rf"{_sector}\.price\.([\w-]+)", "*", "产品单价", f"unit price of one {_sector} product", True),
    ]
_item_specs += [
    ItemSpec(r"water_supply\.domestic", "m3", "生活用水量", "domestic water use"),
    ItemSpec(r"water_supply\.industrial", "m3", "工业用水量", "industrial water use"),
    ItemSpec(r"water_supply\.agricultural", "m3", "农业用水量", "agricultural water use"),
    ItemSpec(r"hydropower\.generation", "kWh", "水力发电量", "hydropower generation"),
    ItemSpec(r"air_purification\.emission\.(so2|nox|dust)", "t", "大气污染物排放量",
             "emission of SO2 / NOx / industrial dust"),
    ItemSpec(r"water_purification\.emission\.(cod|nh3n|tp)", "t", "水污染物排放量",
             "emission of COD / ammonia nitrogen / total phosphorus"),
    ItemSpec(r"flood_regulation\.reservoir_capacity", "m3", "水库总库容", "total storage capacity of reservoirs"),
    ItemSpec(r"tourism\.visitors", "person-time", "旅游人次", "tourist visits"),
    ItemSpec(r"tourism\.revenue", "yuan", "旅游收入", "tourism revenue"),
    ItemSpec(r"landscape_value\.benefiting_area", "m2", "受益房产面积",
             "residential floor area that benefits from ecosystem landscapes"),
    ItemSpec(r"landscape_value\.house_price", "yuan/m2", "房价", "average residential price", True),
    ItemSpec(r"gdp", "yuan", "地区生产总值", "gross domestic product (for GEP/GDP)"),
    ItemSpec(r"population", "person", "常住人口", "resident population (for GEP per capita)"),
    ItemSpec(r"value_item\.([\w-]+)", "*", "自定义价值项", "a value item the method profile declares "
             "([value_items]): a quantity in its unit, or yuan for a value given directly"),
    ItemSpec(r"quantity\.([\w-]+\.[\w-]+)", "*", "给定功能量",
             "a known quantity of indicator.sub_indicator that replaces the computed one in this zone"),
    ItemSpec(r"forest_stock", "m3", "森林蓄积量", "standing forest stock (for the tenure audit of natural assets)"),
]
STATISTICS_ITEMS: tuple[ItemSpec, ...] = tuple(_item_specs)
QUANTITY_UNITS = ("t", "m3", "kWh", "m2", "person-time", "person")
VALUE_UNITS = (*QUANTITY_UNITS, "yuan")  # what a value item or a given quantity may be in

# Carbon: gep counts carbon sequestration in tonnes of CO₂ and prices it per tonne of CO₂. A tonne of carbon (C)
# is 44/12 tonnes of CO₂ (molar masses 44.01 and 12.01, rounded as the literature does), so tC quantities are
# multiplied by 44/12 and prices per tC by 12/44.
CO2_PER_C = 44.0 / 12.0
CARBON_QUANTITY_UNITS = {"tc": CO2_PER_C, "t c": CO2_PER_C, "吨碳": CO2_PER_C, "万tc": 1e4 * CO2_PER_C,
                         "万吨碳": 1e4 * CO2_PER_C, "tco2": 1.0, "t co2": 1.0, "吨二氧化碳": 1.0,
                         "万tco2": 1e4, "万吨二氧化碳": 1e4}
CARBON_PRICE_UNITS = {"yuan/tc": 1 / CO2_PER_C, "yuan/t c": 1 / CO2_PER_C, "元/吨碳": 1 / CO2_PER_C,
                      "yuan/tco2": 1.0, "yuan/t co2": 1.0, "元/吨二氧化碳": 1.0}
CARBON_OUTPUTS = ("carbon_sequestration.co2",)  # sub-indicators counted in t CO₂
CARBON_PRICES = ("carbon_sequestration.price",)  # parameters in yuan per t CO₂


def item_spec(item: str) -> ItemSpec | None:
    """The catalogue entry for a statistics item id, or None when it is unknown."""
    for spec in STATISTICS_ITEMS:
        if spec.matches(item):
            return spec
    return None


def canonical_unit(unit: str) -> str | None:
    """The canonical unit a spelling belongs to, or None."""
    hit = _UNIT_FACTORS.get(unit.strip().lower())
    return hit[0] if hit else None
