"""InVEST 3.20 Sediment Delivery Ratio (natcap.invest.sdr.sdr), reimplemented in memory.

Pipeline (InVEST's order, operations and dtypes, so pixels and totals match):
1. align DEM, LULC, R, K (and the drainage raster) to the DEM-pixel grid of the rasters' ∩ watersheds' bounding
   box (bilinear / mode / near) and mask: a pixel is valid when its centre is inside a watershed polygon and no
   input is nodata there; everything else is nodata for all later steps (routing boundaries included);
2. fill pits, percent slope, D8 or MFD flow direction and accumulation, streams (D8: FA > TFA; MFD: traced
   with proportion 0.7), LS (Desmet & Govers, L ≤ l_max) — the `gep.accounting.terrain` kernels;
3. RKLS = LS·R·K and USLE = RKLS·C·P off streams; W = max(C, 0.001), S = clamp(slope/100, 0.005, 1);
   W̄, S̄ = weighted / unweighted accumulation; D_up = W̄·S̄·√(FA·cell area); D_dn = distance to a stream weighted
   by 1/(W·S); IC = log10(D_up/D_dn); SDR = SDR_max / (1 + exp((IC0 − IC)/k)), 1 on streams;
4. sed_export = USLE·SDR, E' = USLE·(1 − SDR) (0 on streams), deposition by InVEST's recursion
   (`_sdr_deposition`), avoided erosion = RKLS − USLE, avoided export = avoided erosion·SDR + deposition;
5. per watershed (pixel centres): sums × pixel area / 10 000 (t/yr) of usle, sed_export, sed_deposition,
   avoided_export, avoided_erosion, written as `watershed_results_sdr.csv` with the vector's own fields first.
Float arithmetic follows InVEST's dtypes (float32 rasters, float64 routing) so results agree to ~1e-7.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.warp import Resampling

from gep.accounting import terrain
from gep.invest import _sdr_pixels as sdr_pixels
from gep.invest._align import READ_CACHE_MB, Grid, grid_for_bbox, intersect, raster_bbox, snap_lower_left
from gep.invest._common import as_float
from gep.invest._fast import code_range, gather, nodata_mask
from gep.invest._raster import write_text
from gep.invest._sdr_deposition import sediment_deposition
from gep.invest._sdr_io import Writer, polygon_mask, read_aligned
from gep.invest._sdr_routing import accumulate3, upslope_counts
from gep.invest._table import Table, read_table
from gep.invest._vector import Vector, read_vector
from gep.invest._vector_csv import dbf_value, vector_csv
from gep.invest._zonal import ZoneStat, zonal_stats, zone_masks
from gep.invest.errors import InvestCompatError
from gep.invest.models import SDR_RASTERS
from gep.invest.spec import is_set, suffix, with_suffix

F32_MAX = float(np.finfo(np.float32).max)
F64_MAX = float(np.finfo(np.float64).max)
TARGET_NODATA = -1.0  # InVEST's _TARGET_NODATA (rkls, sdr_factor, e_prime, sed_deposition, d_dn)
FA_NODATA = -1.23789789e29  # pygeoprocessing's flow accumulation nodata
BYTE_NODATA = 255
RASTER_ARGS = SDR_RASTERS
RESAMPLING = {"dem_path": Resampling.bilinear, "lulc_path": Resampling.mode, "erosivity_path": Resampling.bilinear,
              "erodibility_path": Resampling.bilinear, "drainage_path": Resampling.nearest}
REPORT_FIELDS = (("usle_tot", "usle"), ("sed_export", "sed_export"), ("sed_dep", "sed_deposition"),
                 ("avoid_exp", "avoided_export"), ("avoid_eros", "avoided_erosion"))


@dataclass(frozen=True)
class Params:
    """The numeric args of an SDR run, checked as InVEST's validation does."""

    tfa: float
    k: float
    ic0: float
    sdr_max: float
    l_max: float
    mfd: bool


def _params(args: Mapping[str, Any]) -> Params:
    """Read and check the numbers; a bad value names its arg."""
    algo = str(args.get("flow_dir_algorithm", "")).strip().upper()
    if algo not in ("MFD", "D8"):
        raise InvestCompatError(f"flow_dir_algorithm must be 'MFD' or 'D8', got {args.get('flow_dir_algorithm')!r}")
    p = Params(as_float(args, "threshold_flow_accumulation"), as_float(args, "k_param"), as_float(args, "ic_0_param"),
               as_float(args, "sdr_max"), as_float(args, "l_max"), algo == "MFD")
    if p.tfa < 0:
        raise InvestCompatError(f"threshold_flow_accumulation must be >= 0, got {p.tfa:g}")
    if not 0 <= p.sdr_max <= 1:
        raise InvestCompatError(f"sdr_max must be between 0 and 1, got {p.sdr_max:g}")
    if not p.l_max > 0:
        raise InvestCompatError(f"l_max must be > 0, got {p.l_max:g}")
    return p


def _watersheds(path: str, crs: Any) -> Vector:
    """The watershed polygons in file order, in the DEM's CRS (InVEST refuses differing projections)."""
    return read_vector(path, "watersheds_path", crs, "dem_path")


def sdr_grid(args: Mapping[str, Any], ws_bbox: list[float]) -> Grid:
    """align_and_resize_raster_stack(..., 'intersection', raster_align_index=0 (DEM), square DEM pixel)."""
    keys = [*RASTER_ARGS, *(["drainage_path"] if is_set(args.get("drainage_path")) else [])]
    boxes = [ws_bbox]
    infos = {}
    for key in keys:
        try:
            with rasterio.open(args[key]) as src:
                infos[key] = (src.transform, src.width, src.height, src.crs)
        except rasterio.errors.RasterioIOError as exc:
            raise InvestCompatError(f"{key}: cannot read raster {args[key]}: {exc}") from exc
    dem_t, dem_w, dem_h, dem_crs = infos["dem_path"]
    if dem_crs is not None and not dem_crs.is_projected:
        raise InvestCompatError("dem_path must be in a projected coordinate system (metres)")
    other = [k for k, info in infos.items() if info[3] != dem_crs]
    if other:
        raise InvestCompatError(f"unsupported: raster(s) {', '.join(other)} are not in the CRS of dem_path; "
                                "reproject them first (this mode does not warp between projections)")
    for transform, width, height, _ in infos.values():
        if transform.b != 0 or transform.d != 0:
            raise InvestCompatError("unsupported: rotated rasters")
        boxes.append(raster_bbox(transform, width, height))
    if abs(dem_t.a) != abs(dem_t.e):
        raise InvestCompatError("unsupported: dem_path has non-square pixels (InVEST resamples to the smaller side)")
    pixel = (abs(dem_t.a), -abs(dem_t.a))
    bbox = snap_lower_left(intersect(boxes), raster_bbox(dem_t, dem_w, dem_h), (dem_t.a, dem_t.e))
    return grid_for_bbox(bbox, pixel, dem_crs)


def _lookup(codes: np.ndarray, valid: np.ndarray, table: Mapping[int, float]) -> np.ndarray:
    """float32 value per valid pixel's LULC code, NaN elsewhere; codes missing from the table are an error.

    Only codes under the mask count (InVEST reads its masked LULC). Integer codes within a modest range use a
    lookup-table gather, others a sort.
    """
    small = np.issubdtype(codes.dtype, np.integer) and codes.ndim == 2 and codes.size > 0
    if small:
        lo, hi = (int(v) for v in code_range(codes))
        small = hi - lo < 65536
    if small:
        counts = np.bincount(codes[valid].astype(np.int64) - lo, minlength=hi - lo + 1)
        present = np.flatnonzero(counts) + lo
    else:
        present = np.unique(codes[valid])
    missing = sorted(int(c) for c in present if int(c) not in table)
    if missing:
        raise InvestCompatError(
            "Values in the LULC raster were found that are not represented under the 'lucode' key column of the "
            f"Biophysical table. The missing values found in the LULC raster but not the table are: {missing}")
    if small:
        lut = np.full(hi - lo + 1, np.nan, dtype=np.float32)
        for code in present:
            lut[int(code) - lo] = table[int(code)]
        out = gather(codes, lo, lut)
        out[~valid] = np.nan
        return out
    out = np.full(codes.shape, np.nan, dtype=np.float32)
    if present.size:
        values = np.asarray([table[int(c)] for c in present], dtype=np.float32)
        out[valid] = values[np.searchsorted(present, codes[valid])]
    return out


def _filled(values: np.ndarray, valid: np.ndarray, nodata: float, dtype: Any = None) -> np.ndarray:
    """values (NaN or anything off `valid`) as an output array with InVEST's nodata value."""
    out = np.asarray(values, dtype=dtype or values.dtype).copy()
    out[~valid] = nodata
    return out


FACTORS = ("erosivity_path", "erodibility_path")  # needed for the mask at once, for their values only at erosion


@dataclass
class Inputs:
    """The aligned, masked inputs: `valid` is InVEST's mask.tif (centre in a polygon, every input valid).

    R and K count in `valid` but are not kept: erosion reads them again (`read_factor`), so that they do not
    sit in memory through the routing (128 MB at 4000²)."""

    grid: Grid
    valid: np.ndarray
    dem: np.ndarray
    lulc: np.ndarray
    drainage: np.ndarray | None


def load_inputs(args: Mapping[str, Any], frame: Vector) -> Inputs:
    """Align and mask the rasters as InVEST does (the mask makes polygon edges and nodata routing boundaries)."""
    grid = sdr_grid(args, [float(b) for b in frame.total_bounds])
    terrain.check_fits((grid.height, grid.width))
    keys = [*RASTER_ARGS, *(["drainage_path"] if is_set(args.get("drainage_path")) else [])]
    # GDAL decodes and rasterizes without the GIL: the reads overlap (the nodata masks, numba-parallel, do not);
    # a small block cache, since each block is read once (GDAL's default kept a second copy of every input:
    # measured at 4000², 110 MB more at the peak and 0.15 s slower)
    with rasterio.Env(GDAL_CACHEMAX=READ_CACHE_MB), ThreadPoolExecutor(len(keys) + 1) as pool:
        burned = pool.submit(polygon_mask, frame.geometries, grid)
        reads = {key: pool.submit(read_aligned, args[key], grid, RESAMPLING[key], key) for key in keys}
        valid = burned.result()
        arrays = {}
        for key, job in reads.items():
            data, nodata = job.result()
            valid &= ~nodata_mask(data, nodata)
            if key not in FACTORS:
                arrays[key] = data
            del data
    masked_dtype = np.result_type(arrays["dem_path"].dtype, np.float32)
    return Inputs(grid, valid, arrays["dem_path"].astype(masked_dtype, copy=False), arrays["lulc_path"],
                  arrays.get("drainage_path"))


def read_factor(args: Mapping[str, Any], grid: Grid, key: str) -> np.ndarray:
    """R or K on the grid, read as `load_inputs` read it (the same warp gives the same pixels)."""
    with rasterio.Env(GDAL_CACHEMAX=READ_CACHE_MB):
        return read_aligned(args[key], grid, RESAMPLING[key], key)[0]


def _with_drainage(streams: np.ndarray, drainage: np.ndarray | None) -> np.ndarray:
    """InVEST's stream_and_drainage: drainage == 1 joins the streams (nodata where the streams are nodata)."""
    if drainage is None:
        return streams
    out = streams.copy()
    out[(streams != BYTE_NODATA) & (drainage == 1)] = 1
    return out


BLOCK_PIXELS = 1 << 20  # element-wise numpy steps go block by block: temporaries of 1 M pixels, not the raster's


def _blocks(*arrays: np.ndarray) -> Iterator[tuple[np.ndarray, ...]]:
    """`terrain.flat_blocks` of BLOCK_PIXELS (every array written through them is made in this module)."""
    return terrain.flat_blocks(BLOCK_PIXELS, *arrays)


def ic_factor(d_up: np.ndarray, d_dn: np.ndarray) -> np.ndarray:
    """log10(D_up / D_dn) as float32, NaN where either is nodata or zero (streams have D_dn = 0)."""
    out = np.full(d_up.shape, np.nan, dtype=np.float32)
    for up, dn, block in _blocks(d_up, d_dn, out):
        ok = ~np.isnan(up) & ~np.isnan(dn) & (dn != 0) & (up != 0)
        block[ok] = np.log10(up[ok] / dn[ok])
    return out


def sdr_factor(ic: np.ndarray, streams: np.ndarray, p: Params) -> np.ndarray:
    """SDR_max / (1 + exp((IC0 − IC)/k)) in float32 (numpy's weak Python scalars, as InVEST), 1 on streams."""
    out = np.full(ic.shape, TARGET_NODATA, dtype=np.float32)
    for ic_block, stream, block in _blocks(ic, streams, out):
        ok = ~np.isnan(ic_block) & (stream != 1)
        block[ok] = p.sdr_max / (1 + np.exp((p.ic0 - ic_block[ok]) / p.k))
        block[stream == 1] = 1
    return out


@dataclass
class Routing:
    """Flow directions with their upslope counts, and the streams (drainage included): what the distance to the
    streams and the deposition walk."""

    fd: np.ndarray
    n_up: np.ndarray
    streams: np.ndarray


def _d_up(fa: np.ndarray, w_acc: np.ndarray, s_acc: np.ndarray, cell: float) -> np.ndarray:
    """D_up = W̄·S̄·√(FA·cell²) with W̄ = W accumulation / FA and S̄ likewise, in InVEST's order, written into
    w_acc's memory (s_acc is spent)."""
    for f, w, s in _blocks(fa, w_acc, s_acc):
        w /= f
        s /= f
        w *= s
        w *= np.sqrt(f * cell**2)
    return w_acc


def _route(fd: np.ndarray, w_thr: np.ndarray, s_thr: np.ndarray, cell: float, p: Params,
           drainage: np.ndarray | None) -> tuple[Routing, np.ndarray, np.ndarray, np.ndarray]:
    """FA / W / S accumulations (one pass) and streams, from the flow directions.

    Returns the routing, the flow accumulation, D_up and the extracted streams before the drainage raster was
    added (InVEST's stream.tif)."""
    n_up = upslope_counts(fd, p.mfd)
    fa, w_acc, s_acc = accumulate3(fd, p.mfd, n_up, w_thr, s_thr)
    d_up = _d_up(fa, w_acc, s_acc, cell)
    del s_acc
    streams = (terrain.extract_streams_mfd(fa, fd, p.tfa, trace_threshold_proportion=0.7) if p.mfd
               else terrain.extract_streams_d8(fa, p.tfa))
    return Routing(fd, n_up, _with_drainage(streams, drainage)), fa, d_up, streams


def _erosion(valid: np.ndarray, erosivity: np.ndarray, erodibility: np.ndarray, ls: np.ndarray, cp: np.ndarray,
             streams: np.ndarray) -> tuple[np.ndarray, ...]:
    """(land, RKLS, USLE, avoided erosion): RKLS = LS·R·K (float64 product, stored float32) and USLE = RKLS·CP
    off streams; avoided = RKLS − USLE (`_sdr_pixels.erosion`)."""
    return sdr_pixels.erosion(valid, ls, streams, erosivity, erodibility, cp, TARGET_NODATA, F32_MAX)


def _downslope_distance(rt: Routing, ws_inverse: np.ndarray, p: Params) -> np.ndarray:
    """D_dn: the distance to a stream weighted by ws_inverse = 1/(W·S) (one thread; the caller runs it beside
    other work)."""
    return (terrain.distance_to_channel_mfd(rt.fd, rt.streams, ws_inverse) if p.mfd
            else terrain.distance_to_channel_d8(rt.fd, rt.streams, ws_inverse))


def _as_output(values: np.ndarray, nodata: float) -> np.ndarray:
    """values with NaN replaced by InVEST's nodata value, in place (the caller hands the array to the writer)."""
    values[np.isnan(values)] = nodata
    return values


def run(args: Mapping[str, Any], workspace: Path) -> dict[str, Path]:
    """Run SDR into workspace: InVEST's main rasters, LS / flow accumulation / filled DEM, the watershed table."""
    p = _params(args)
    bio = read_table(args["biophysical_table_path"], "biophysical_table_path", "lucode", ("usle_c", "usle_p"))
    with rasterio.open(args["dem_path"]) as src:
        dem_crs = src.crs
    frame = _watersheds(args["watersheds_path"], dem_crs)
    # Side threads run single-threaded kernels and reads (they release the GIL) beside the main thread's steps;
    # numba-parallel kernels stay on the main thread (numba's default parallel layer is not re-entrant).
    side = ThreadPoolExecutor(2)
    try:
        return _run(args, workspace, p, bio, frame, side)
    finally:
        side.shutdown(wait=True)


def _run(args: Mapping[str, Any], workspace: Path, p: Params, bio: Table, frame: Vector,
         side: ThreadPoolExecutor) -> dict[str, Path]:
    """run's steps, with the side threads: fill beside the W lookup, slope beside the flow directions, D_dn beside
    LS and the second reading of R and K. The inputs are loaded here, so that they are freed once used."""
    inp = load_inputs(args, frame)
    # each input is dropped once used: the DEM after it is copied for filling, land cover after the lookups
    grid, valid, dem, lulc, drainage = inp.grid, inp.valid, inp.dem, inp.lulc, inp.drainage
    del inp
    writer = Writer(grid)
    sfx = suffix(args)
    inter = workspace / "intermediate_outputs"

    def out(key: str, folder: Path, data: np.ndarray, nodata: float) -> None:
        writer.submit(key, folder / with_suffix(f"{key}.tif", sfx), data, nodata)

    nodata = ~valid
    # masked pixels carry the nodata value, as in InVEST's masked_dem.tif: the terrain kernels' results (MFD
    # plateau directions) can depend on those values, not only on the mask
    dem_nodata, dem_dtype = float(np.finfo(dem.dtype).max), dem.dtype
    filling = side.submit(terrain.fill_pits, _filled(dem, valid, dem_nodata), nodata)
    del dem
    w = _lookup(lulc, valid, bio["usle_c"])
    w_thr = np.where(w < 0.001, np.float32(0.001), w)  # NaN (nodata) stays NaN
    del w
    filled = filling.result()
    del filling  # a finished future holds its result
    out("pit_filled_dem", inter, filled.astype(dem_dtype), dem_nodata)
    sloping = side.submit(terrain.slope_percent, filled, nodata, (grid.transform.a, grid.transform.e), False)
    fd = terrain.flow_dir_mfd(filled, nodata) if p.mfd else terrain.flow_dir_d8(filled, nodata)
    slope = sloping.result()
    del sloping, filled, nodata  # a finished future holds its result
    s_thr = np.clip(slope / 100, np.float32(0.005), np.float32(1.0))  # float32, NaN stays NaN
    cell = abs(grid.transform.a)
    rt, fa, d_up, extracted = _route(fd, w_thr, s_thr, cell, p, drainage)
    del drainage, fd
    out("stream", workspace, extracted, BYTE_NODATA)
    del extracted  # the writer holds what it has yet to write, and frees it once written
    # 1/(W·S) in float32, as InVEST computes it (the kernels read it as float64); W and S are then done with
    ws_inverse = 1 / (w_thr * s_thr)
    del w_thr, s_thr
    distance = side.submit(_downslope_distance, rt, ws_inverse, p)
    del ws_inverse  # the side thread holds it until the distance is done
    ls = terrain.ls_factor(slope, fa, cell, p.l_max)
    del slope
    # the accumulation's last use: the writer takes it, and frees it once written, before erosion's arrays peak
    out("flow_accumulation", inter, _as_output(fa, FA_NODATA), FA_NODATA)
    del fa
    # while the distance runs: R and K read again, and C·P looked up (each held only from here to erosion)
    factors = [side.submit(read_factor, args, grid, key) for key in FACTORS]
    cp = _lookup(lulc, valid, {k: c * bio["usle_p"][k] for k, c in bio["usle_c"].items()})
    del lulc
    # SDR before erosion: D_up, D_dn and the distance's working arrays go before erosion's four arrays arrive
    # (the peak of the run; erosion, numba-parallel, would share the cores with the distance anyway)
    d_dn = distance.result()
    del distance
    sdr = sdr_factor(ic_factor(d_up, d_dn), rt.streams, p)
    del d_dn, d_up
    out("sdr_factor", inter, sdr, TARGET_NODATA)
    erosivity, erodibility = (job.result() for job in factors)
    del factors  # finished futures hold their results
    land, rkls, usle, avoided_erosion = _erosion(valid, erosivity, erodibility, ls, cp, rt.streams)
    del cp, erosivity, erodibility
    out("ls", inter, _as_output(ls, F64_MAX), F64_MAX)
    del ls
    out("rkls", workspace, rkls, TARGET_NODATA)
    del rkls
    out("usle", workspace, usle, F32_MAX)
    out("avoided_erosion", workspace, avoided_erosion, F32_MAX)
    # the watershed totals are taken as each layer is made, so that a layer can go once written and used
    masks = zone_masks(frame.geometries, grid)
    totals = {"usle": zonal_stats(usle, F32_MAX, masks), "avoided_erosion": zonal_stats(avoided_erosion, F32_MAX,
                                                                                      masks)}
    # export = USLE·SDR and E' = USLE·(1 − SDR), 0 on streams (sediment there is not "retained upslope")
    export_ok, sed_export, e_prime = sdr_pixels.export(land, usle, sdr, rt.streams, TARGET_NODATA, F32_MAX,
                                                       TARGET_NODATA)
    del land, usle
    out("sed_export", workspace, sed_export, F32_MAX)
    totals["sed_export"] = zonal_stats(sed_export, F32_MAX, masks)
    del sed_export
    deposition, _ = sediment_deposition(rt.fd, p.mfd, rt.n_up, e_prime, sdr)
    del e_prime, rt
    out("sed_deposition", workspace, deposition, TARGET_NODATA)
    totals["sed_deposition"] = zonal_stats(deposition, TARGET_NODATA, masks)
    avoided_export = sdr_pixels.avoided_export(export_ok, avoided_erosion, sdr, deposition, TARGET_NODATA, F32_MAX)
    del export_ok, avoided_erosion, sdr, deposition
    out("avoided_export", workspace, avoided_export, F32_MAX)
    totals["avoided_export"] = zonal_stats(avoided_export, F32_MAX, masks)
    del avoided_export

    table = _report(frame, grid, totals)
    written = writer.wait()
    written["watershed_results_sdr_csv"] = write_text(workspace / with_suffix("watershed_results_sdr.csv", sfx),
                                                      table)
    return written


def _report(frame: Vector, grid: Grid, sums: Mapping[str, list[ZoneStat]]) -> str:
    """The watershed table: the vector's fields, then each total in t/yr (Σ pixel-centre values × ha/pixel);
    sums holds each layer's per-watershed pixel sums (`zonal_stats`)."""
    ha_per_px = abs(grid.transform.a * grid.transform.e) / 10000
    rows = [{field: dbf_value(sums[key][i].total * ha_per_px) for field, key in REPORT_FIELDS}
            for i in range(len(frame))]
    return vector_csv(frame, rows)


__all__ = ["ic_factor", "run", "sdr_factor", "sdr_grid"]
