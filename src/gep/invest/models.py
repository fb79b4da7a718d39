"""The InVEST models this mode runs: each one's args and the function that runs it.

Kept apart from the models' code so that checking a datastack, `gep --help` and `gep invest run` start
without importing numpy, rasterio or numba; `ModelSpec.run` imports the one model a datastack names.
"""

from __future__ import annotations

from gep.invest.spec import ModelSpec

# Rasters each model aligns, in the order its code reads them (the models' modules use these tuples).
AWY_RASTERS = ("eto_path", "precipitation_path", "depth_to_root_rest_layer_path", "pawc_path", "lulc_path")
SDR_RASTERS = ("dem_path", "lulc_path", "erosivity_path", "erodibility_path")

CARBON = ModelSpec(
    model_id="carbon",
    pyname="natcap.invest.carbon",
    runner="gep.invest.carbon:run",
    required=frozenset({"lulc_bas_path", "carbon_pools_path"}),
    optional=frozenset({"calc_sequestration", "lulc_alt_path", "lulc_bas_year", "lulc_alt_year", "do_valuation",
                        "price_per_metric_ton_of_c", "discount_rate", "rate_change"}),
    paths=frozenset({"lulc_bas_path", "lulc_alt_path", "carbon_pools_path"}),
)

ANNUAL_WATER_YIELD = ModelSpec(
    model_id="annual_water_yield",
    pyname="natcap.invest.annual_water_yield",
    runner="gep.invest.annual_water_yield:run",
    required=frozenset({"lulc_path", "depth_to_root_rest_layer_path", "precipitation_path", "pawc_path",
                        "eto_path", "watersheds_path", "biophysical_table_path", "seasonality_constant"}),
    optional=frozenset({"sub_watersheds_path", "demand_table_path", "valuation_table_path"}),
    paths=frozenset({*AWY_RASTERS, "watersheds_path", "sub_watersheds_path", "biophysical_table_path",
                     "demand_table_path", "valuation_table_path"}),
)

SDR = ModelSpec(
    model_id="sdr",
    pyname="natcap.invest.sdr.sdr",
    runner="gep.invest.sdr:run",
    required=frozenset({"dem_path", "erosivity_path", "erodibility_path", "lulc_path", "watersheds_path",
                        "biophysical_table_path", "threshold_flow_accumulation", "k_param", "sdr_max",
                        "ic_0_param", "l_max", "flow_dir_algorithm"}),
    optional=frozenset({"drainage_path"}),
    paths=frozenset({*SDR_RASTERS, "watersheds_path", "biophysical_table_path", "drainage_path"}),
)

REGISTRY: dict[str, ModelSpec] = {spec.model_id: spec for spec in (CARBON, ANNUAL_WATER_YIELD, SDR)}
