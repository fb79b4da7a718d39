"""InVEST 3.20 Annual Water Yield (natcap.invest.annual_water_yield), reimplemented.

Inputs are aligned as InVEST does (see `_align`): the intersection of the five rasters and the watersheds'
bounding box, snapped to the LULC grid, LULC pixel size, nearest neighbour. Per pixel (Zhang/Fu):
PET = Kc·ET0; AWC = min(root, soil)·PAWC; ω = min(Z·AWC/P + 1.25, 5);
vegetated: AET/P = min(PET/P, 1 + PET/P − (1 + (PET/P)^ω)^(1/ω)); otherwise AET/P = min(PET, P)/P;
fractp is nodata (−1) where P == 0 or any input is nodata; Y = (1 − fractp)·P; AET = fractp·P.
The arithmetic follows InVEST's order and dtypes (float32 where its rasters are float32) so pixels match.
Per (sub)watershed: means over pixel centres, wyield_vol = wyield_mn · polygon area / 1000, and the
optional scarcity (demand) and hydropower valuation fields, written as InVEST's CSV.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from gep.invest._align import Grid, intersection_grid, read_stack_to_grid
from gep.invest._awy_fast import AwyLayers, awy_pixels
from gep.invest._common import as_float, raster_map
from gep.invest._fast import reclassify_fast
from gep.invest._raster import Band, equals_nodata, write_float32_many, write_text
from gep.invest._table import Table, read_table
from gep.invest._vector import Vector, read_vector
from gep.invest._vector_csv import dbf_value, vector_csv
from gep.invest._zonal import ZoneStat, zonal_stats, zone_masks
from gep.invest.errors import InvestCompatError
from gep.invest.models import AWY_RASTERS
from gep.invest.spec import is_set, suffix, with_suffix

OUT_NODATA = -1.0
RASTER_ARGS = AWY_RASTERS
VALUATION_COLUMNS = ("efficiency", "fraction", "height", "kw_price", "cost", "time_span", "discount")


def fractp(kc: np.ndarray, eto: np.ndarray, precip: np.ndarray, root: np.ndarray, soil: np.ndarray,
           pawc: np.ndarray, veg: np.ndarray, nodata: Mapping[str, float | None], z: float) -> np.ndarray:
    """AET/P per pixel (float32, −1 = nodata), the same operations in the same order and dtypes as InVEST.

    nodata holds the aligned inputs' nodata under 'eto', 'precip', 'depth_root', 'pawc'.
    """
    valid = (~equals_nodata(kc, OUT_NODATA) & ~equals_nodata(root, OUT_NODATA) & ~equals_nodata(veg, OUT_NODATA)
             & ~equals_nodata(precip, 0))
    for key, array in (("eto", eto), ("precip", precip), ("depth_root", soil), ("pawc", pawc)):
        if nodata[key] is not None:
            valid &= ~equals_nodata(array, nodata[key])
    k, e, p = kc[valid], eto[valid], precip[valid]
    r, s, w = root[valid], soil[valid], pawc[valid]
    phi = (k * e) / p
    pet = k * e
    awc = np.where(r < s, r, s) * w
    omega = ((awc / p) * z) + 1.25
    omega[omega > 5] = 5  # InVEST caps ω at 5
    aet_p = (1 + (pet / p)) - ((1 + (pet / p) ** omega) ** (1 / omega))
    veg_result = np.where(phi < aet_p, phi, aet_p)
    nonveg = k * e
    over = p < k * e
    nonveg[over] = p[over]
    nonveg_fract = nonveg / p
    out = np.full(valid.shape, OUT_NODATA, dtype=np.float32)
    out[valid] = np.where(veg[valid] == 1, veg_result, nonveg_fract)
    return out


def _awy_pixels_numpy(lulc: Band, kc_table: Mapping[int, float], root_table: Mapping[int, float],
                      veg_table: Mapping[int, float], inputs: Mapping[str, tuple[np.ndarray, float | None]],
                      z: float) -> AwyLayers:
    """The per-pixel layers with numpy (any input dtypes): reclassify, fractp, then raster_map as InVEST."""
    (eto, eto_nd), (precip, precip_nd) = inputs["eto"], inputs["precip"]
    (soil, soil_nd), (pawc, pawc_nd) = inputs["soil"], inputs["pawc"]
    kc = reclassify_fast(lulc, kc_table, OUT_NODATA, "Biophysical")
    root = reclassify_fast(lulc, root_table, OUT_NODATA, "Biophysical")
    veg = reclassify_fast(lulc, veg_table, OUT_NODATA, "Biophysical")
    pet = raster_map(np.multiply, [(eto, eto_nd), (kc, OUT_NODATA)], OUT_NODATA, equals_nodata)
    fp = fractp(kc, eto, precip, root, soil, pawc, veg,
                {"eto": eto_nd, "precip": precip_nd, "depth_root": soil_nd, "pawc": pawc_nd}, z)
    wyield = raster_map(lambda f, p: (1 - f) * p, [(fp, OUT_NODATA), (precip, precip_nd)], OUT_NODATA,
                        equals_nodata)
    aet = raster_map(np.multiply, [(fp, OUT_NODATA), (precip, precip_nd)], OUT_NODATA, equals_nodata)
    return AwyLayers(fp, aet, wyield, pet)


def _read_watersheds(path: str, id_field: str, label: str, crs: Any) -> Vector:
    """The (sub)watershed polygons, in file order, with the id field named id_field; they must share the
    LULC's CRS, as InVEST requires."""
    vector = read_vector(path, label, crs, "lulc_path")
    found = vector.field(id_field)
    if found is None:
        raise InvestCompatError(f"{label} ({path}): missing field {id_field}")
    return vector.renamed(found, id_field)


def _ws_table(frame: Vector, stats: Mapping[str, list[ZoneStat]], valuation: Table | None,
              id_field: str) -> list[dict[str, Any]]:
    """The attribute rows InVEST adds to each (sub)watershed: means, volume, scarcity, valuation."""
    rows = []
    for i, geom in enumerate(frame.geometries):
        row: dict[str, Any] = {}
        for key in ("precip_mn", "PET_mn", "AET_mn", "wyield_mn"):
            row[key] = dbf_value(stats[key][i].mean)
        row["wyield_vol"] = None
        if row["wyield_mn"] is not None and geom is not None:
            row["wyield_vol"] = dbf_value(row["wyield_mn"] * geom.area / 1000)
        if "demand" in stats:
            demand = stats["demand"][i]
            row["consum_vol"] = dbf_value(demand.total) if demand.count > 0 else None
            row["consum_mn"] = dbf_value(demand.mean)
            row["rsupply_vl"] = row["rsupply_mn"] = None
            if row["wyield_mn"] is not None and row["consum_mn"] is not None:
                row["rsupply_vl"] = dbf_value(row["wyield_vol"] - row["consum_vol"])
                row["rsupply_mn"] = dbf_value(row["wyield_mn"] - row["consum_mn"])
        if valuation is not None:
            row["hp_energy"] = row["hp_val"] = None
            if row.get("rsupply_vl") is not None:
                ws = int(frame.columns[id_field][i])
                v = {col: valuation[col][ws] for col in VALUATION_COLUMNS}
                energy = v["efficiency"] * v["fraction"] * v["height"] * row["rsupply_vl"] * 0.00272
                ratio = 1 / (1 + v["discount"] / 100)
                dsum = (1 - math.pow(ratio, v["time_span"])) / (1 - ratio) if ratio != 1 else 0  # as InVEST
                row["hp_energy"] = dbf_value(float(energy))
                row["hp_val"] = dbf_value(float((v["kw_price"] * energy - v["cost"]) * dsum))
        rows.append(row)
    return rows


def run(args: Mapping[str, Any], workspace: Path) -> dict[str, Path]:
    """Run AWY into workspace: per-pixel rasters and the (sub)watershed tables under InVEST's names."""
    sfx = suffix(args)
    z = as_float(args, "seasonality_constant")
    if not z > 0:
        raise InvestCompatError(f"seasonality_constant must be > 0, got {z:g}")
    bio = read_table(args["biophysical_table_path"], "biophysical_table_path", "lucode",
                     ("lulc_veg", "root_depth", "kc"))
    bad_veg = sorted(int(k) for k, v in bio["lulc_veg"].items() if v not in (0, 1))
    if bad_veg:
        raise InvestCompatError(f"biophysical_table_path: lulc_veg must be 0 or 1 (lucode {bad_veg})")
    demand_df = valuation = None
    if is_set(args.get("valuation_table_path")) and not is_set(args.get("demand_table_path")):
        raise InvestCompatError("demand_table_path is required when valuation_table_path is given")
    if is_set(args.get("demand_table_path")):
        demand_df = read_table(args["demand_table_path"], "demand_table_path", "lucode", ("demand",))
    if is_set(args.get("valuation_table_path")):
        valuation = read_table(args["valuation_table_path"], "valuation_table_path", "ws_id", VALUATION_COLUMNS)

    with rasterio.open(args["lulc_path"]) as src:
        lulc_crs = src.crs
    if lulc_crs is not None and not lulc_crs.is_projected:
        raise InvestCompatError("lulc_path must be in a projected coordinate system (metres)")
    sheds = [("ws_id", _read_watersheds(args["watersheds_path"], "ws_id", "watersheds_path", lulc_crs),
              "watershed_results_wyield.csv")]
    if is_set(args.get("sub_watersheds_path")):
        sheds.append(("subws_id", _read_watersheds(args["sub_watersheds_path"], "subws_id", "sub_watersheds_path",
                                                   lulc_crs), "subwatershed_results_wyield.csv"))
    if valuation is not None:
        missing = sorted({int(x) for x in sheds[0][1].columns["ws_id"]} - set(valuation.index))
        if missing:
            raise InvestCompatError(
                "The following `ws_id`s exist in the watershed vector file but are not found in the valuation "
                f"table. Check your valuation table to see if they are missing: \"{', '.join(map(str, missing))}\"")

    ws_bbox = [float(b) for b in sheds[0][1].total_bounds]
    grid = intersection_grid([args[k] for k in RASTER_ARGS], [ws_bbox], RASTER_ARGS.index("lulc_path"),
                             RASTER_ARGS)
    aligned = dict(zip(RASTER_ARGS, read_stack_to_grid([args[k] for k in RASTER_ARGS], grid), strict=True))
    lulc = Band(*aligned.pop("lulc_path"), grid.transform, grid.crs)
    inputs = {"eto": aligned.pop("eto_path"), "precip": aligned.pop("precipitation_path"),
              "soil": aligned.pop("depth_to_root_rest_layer_path"), "pawc": aligned.pop("pawc_path")}
    root_table = {k: (bio["root_depth"][k] if bio["lulc_veg"][k] == 1 else 1.0) for k in bio.index}
    tables = (bio["kc"], root_table, bio["lulc_veg"])
    layers = awy_pixels(lulc, *tables, inputs, z, OUT_NODATA)
    if layers is None:  # inputs the compiled pass does not cover
        layers = _awy_pixels_numpy(lulc, *tables, inputs, z)
    precip = inputs["precip"]
    del inputs, aligned  # only precipitation is needed from here on

    per_pixel = workspace / "output" / "per_pixel"
    out: dict[str, Path] = dict(zip(("fractp", "aet", "wyield"), write_float32_many(
        [(per_pixel / with_suffix(f"{key}.tif", sfx), getattr(layers, key)) for key in ("fractp", "aet", "wyield")],
        OUT_NODATA, grid.transform, grid.crs), strict=True))

    zonal_layers: dict[str, tuple[np.ndarray, float | None]] = {
        "precip_mn": precip, "PET_mn": (layers.pet, OUT_NODATA), "AET_mn": (layers.aet, OUT_NODATA),
        "wyield_mn": (layers.wyield, OUT_NODATA)}
    if demand_df is not None:
        zonal_layers["demand"] = (reclassify_fast(lulc, demand_df["demand"], OUT_NODATA, "Demand"),
                                  OUT_NODATA)
    for id_field, frame, name in sheds:
        masks = zone_masks(frame.geometries, grid)
        stats = {key: zonal_stats(data, nd, masks) for key, (data, nd) in zonal_layers.items()}
        rows = _ws_table(frame, stats, valuation if id_field == "ws_id" else None, id_field)
        key = name.removesuffix(".csv") + "_csv"
        out[key] = write_text(workspace / "output" / with_suffix(name, sfx), vector_csv(frame, rows))
    return out


def aligned_grid(args: Mapping[str, Any]) -> Grid:
    """The grid InVEST would align this run's rasters to (for checks and tests)."""
    frame = read_vector(args["watersheds_path"], "watersheds_path")
    return intersection_grid([args[k] for k in RASTER_ARGS], [[float(b) for b in frame.total_bounds]],
                             RASTER_ARGS.index("lulc_path"), RASTER_ARGS)
