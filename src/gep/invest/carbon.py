"""InVEST 3.20 Carbon Storage and Sequestration (natcap.invest.carbon), reimplemented.

Per pixel: C = Σ pools(LULC) in t/ha (float32, nodata −1); change = alternate − baseline. Totals in
`raster_values_summary.csv` are Σ valid pixels × pixel area / 10 000 (t), pixels equal to the nodata
(numpy.isclose) left out — exactly as InVEST sums its rasters. The rasters are used on their own grid:
InVEST does not align them, it requires equal pixel size and dimensions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gep.invest._common import as_bool, as_float, raster_map
from gep.invest._raster import Band, equals_nodata, read_band, reclassify, write_float32, write_text
from gep.invest._table import read_table
from gep.invest.errors import InvestCompatError
from gep.invest.spec import is_set, suffix, with_suffix

CARBON_NODATA = -1.0
POOLS = ("c_above", "c_below", "c_soil", "c_dead")


def _carbon_storage(lulc: Band, pools: Mapping[str, Mapping[int, float]]) -> np.ndarray:
    """Σ of the four pool rasters, summed in float32 in InVEST's order; any pool nodata -> nodata."""
    maps = [(reclassify(lulc, pools[p], CARBON_NODATA, "Carbon Pools"), CARBON_NODATA) for p in POOLS]
    return raster_map(lambda *xs: np.sum(xs, axis=0), maps, CARBON_NODATA, equals_nodata)


def valuation_constant(bas_year: float, alt_year: float, discount_rate: float, rate_change: float,
                       price: float) -> float:
    """NPV per t of change: price/n · Σ_{t<n} r^t with r = 1/((1+d/100)(1+c/100)), InVEST's closed form."""
    n_years = alt_year - bas_year
    ratio = 1 / ((1 + discount_rate / 100) * (1 + rate_change / 100))
    constant = price / n_years
    if ratio == 1:
        return constant * n_years
    return constant * (1 - ratio ** n_years) / (1 - ratio)


def _total(values: np.ndarray, nodata: float, pixel_area: float) -> float:
    """Σ valid pixel values (t/ha) × pixel area (m²) / 10 000 m²/ha = t."""
    valid = values[~equals_nodata(values, nodata)]
    return float(np.sum(valid, dtype=np.float64)) * pixel_area / 10000


def _summary_csv(rows: list[tuple[str, float, str, str]]) -> str:
    """raster_values_summary.csv: Raster, Total, Units, Filename (totals as Python's repr, like csv does)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Raster", "Total", "Units", "Filename"])
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def run(args: Mapping[str, Any], workspace: Path) -> dict[str, Path]:
    """Compute the carbon rasters and the totals file into workspace under InVEST's names."""
    sfx = suffix(args)
    do_seq = as_bool(args, "calc_sequestration")
    do_val = as_bool(args, "do_valuation")
    if do_val and not do_seq:
        raise InvestCompatError("do_valuation requires calc_sequestration to be true")
    if do_seq and not is_set(args.get("lulc_alt_path")):
        raise InvestCompatError("lulc_alt_path is required when calc_sequestration is true")
    constant = None
    if do_val:
        bas_year, alt_year = as_float(args, "lulc_bas_year"), as_float(args, "lulc_alt_year")
        if bas_year >= alt_year:
            raise InvestCompatError(
                f"Invalid input for lulc_bas_year or lulc_alt_year. The Alternate LULC Year ({alt_year:g}) must "
                f"be greater than the Baseline LULC Year ({bas_year:g}).")
        constant = valuation_constant(bas_year, alt_year, as_float(args, "discount_rate"),
                                      as_float(args, "rate_change"), as_float(args, "price_per_metric_ton_of_c"))

    table = read_table(args["carbon_pools_path"], "carbon_pools_path", "lucode", POOLS)
    pools = {p: {int(k): float(v) for k, v in table[p].items()} for p in POOLS}
    lulcs = {"bas": read_band(args["lulc_bas_path"], "lulc_bas_path")}
    if is_set(args.get("lulc_alt_path")):  # InVEST maps an alternate LULC whenever one is given
        lulcs["alt"] = read_band(args["lulc_alt_path"], "lulc_alt_path")
        _check_same_grid(lulcs["bas"], lulcs["alt"])
    for key, band in lulcs.items():
        if band.crs is not None and not band.crs.is_projected:
            raise InvestCompatError(f"lulc_{key}_path must be in a projected coordinate system (metres)")

    out: dict[str, Path] = {}
    rows: list[tuple[str, float, str, str]] = []
    storage: dict[str, np.ndarray] = {}
    base = lulcs["bas"]
    labels = {"bas": "Baseline Carbon Storage", "alt": "Alternate Carbon Storage"}
    for key, lulc in lulcs.items():
        storage[key] = _carbon_storage(lulc, pools)
        path = write_float32(workspace / with_suffix(f"c_storage_{key}.tif", sfx), storage[key], CARBON_NODATA,
                             lulc.transform, lulc.crs)
        out[f"c_storage_{key}"] = path
        if key == "bas" or do_seq:  # InVEST summarizes the alternate only with calc_sequestration
            rows.append((labels[key], _total(storage[key], CARBON_NODATA, lulc.pixel_area), "metric_ton",
                         path.name))
    if "alt" in storage:
        change = raster_map(np.subtract, [(storage["alt"], CARBON_NODATA), (storage["bas"], CARBON_NODATA)],
                            CARBON_NODATA, equals_nodata)
        path = write_float32(workspace / with_suffix("c_change_bas_alt.tif", sfx), change, CARBON_NODATA,
                             base.transform, base.crs)
        out["c_change_bas_alt"] = path
        if do_seq:
            rows.append(("Change in Carbon Storage", _total(change, CARBON_NODATA, base.pixel_area), "metric_ton",
                         path.name))
        if constant is not None:
            npv_nodata = float(np.finfo(np.float32).max)  # raster_map's choice when no nodata is given
            k = constant
            npv = raster_map(lambda c: c * k, [(change, CARBON_NODATA)], npv_nodata, equals_nodata)
            path = write_float32(workspace / with_suffix("npv_alt.tif", sfx), npv, npv_nodata,
                                 base.transform, base.crs)
            out["npv_alt"] = path
            rows.append(("Net Present Value of Carbon Change", _total(npv, npv_nodata, base.pixel_area),
                         "currency", path.name))
    out["summary_csv"] = write_text(workspace / with_suffix("raster_values_summary.csv", sfx), _summary_csv(rows))
    return out


def _check_same_grid(bas: Band, alt: Band) -> None:
    """InVEST requires the two LULC maps to share pixel size and dimensions (it does not align them)."""
    size = {(abs(b.transform.a), abs(b.transform.e)) for b in (bas, alt)}
    if len(size) > 1:
        raise InvestCompatError(f"the pixel sizes of lulc_bas_path and lulc_alt_path are not equivalent: {size}")
    if bas.data.shape != alt.data.shape:
        raise InvestCompatError(
            "the raster dimensions of lulc_bas_path and lulc_alt_path are not equivalent: "
            f"{bas.data.shape[::-1]} vs {alt.data.shape[::-1]}")
