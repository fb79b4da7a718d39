"""Soil retention (土壤保持): potential minus actual erosion, A = R·K·LS·(1 − C·P), valued as avoided
reservoir sedimentation (dredging cost) and avoided nitrogen and phosphorus loss (METHODS.md §2.3).

LS needs the whole DEM (flow routing is not local): it is computed once per DEM and grid with the terrain
kernels and kept for the process; everything else stays lazy and joins the single zonal pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dask.array as da
import numpy as np

from gep.accounting.catalogue import ECOSYSTEMS
from gep.accounting.indicators import _rusle
from gep.accounting.indicators.base import Indicator, IndicatorSpec, OutputSpec, ParamSpec, Skip, SubQuantity

if TYPE_CHECKING:
    from gep.accounting.context import PixelContext, ZoneContext
    from gep.accounting.indicators.base import Layer

WATER = ("lake", "reservoir", "river")
_ROUTED_CACHE: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray]] = {}


class SoilRetention(Indicator):
    SPEC = IndicatorSpec(
        id="soil_retention", name_zh="土壤保持", name_en="Soil retention", category="regulating",
        outputs=(
            OutputSpec("retained", "土壤保持量", "Soil retained", "t", ""),
            OutputSpec("sediment", "减少泥沙淤积", "Avoided reservoir sedimentation", "m3",
                       "soil_retention.dredging_cost"),
            OutputSpec("nitrogen", "减少氮面源污染", "Avoided nitrogen loss", "t", "soil_retention.n_price"),
            OutputSpec("phosphorus", "减少磷面源污染", "Avoided phosphorus loss", "t", "soil_retention.p_price"),
        ),
        layers=("ecosystem", "dem", "vegetation_cover"),
        optional_layers=("rainfall_erosivity", "daily_precipitation", "soil_erodibility", "sand", "silt", "clay",
                         "organic_matter"),
        parameters=(
            ParamSpec("c_factor", "植被覆盖与管理因子 C (生态系统.覆盖度等级)", "1", by_ecosystem=True),
            ParamSpec("p_factor", "水土保持措施因子 P", "1", by_ecosystem=True),
            ParamSpec("l_max", "坡长因子上限", "1"),
            ParamSpec("erosive_threshold", "侵蚀性降雨阈值", "mm"),
            ParamSpec("alpha_warm", "暖季 R 系数 α", "1"),
            ParamSpec("alpha_cold", "冷季 R 系数 α", "1"),
            ParamSpec("beta", "R 指数 β", "1"),
            ParamSpec("warm_first_day", "暖季起始日序", "d"),
            ParamSpec("warm_last_day", "暖季结束日序", "d"),
            ParamSpec("sediment_fraction", "泥沙淤积系数 λ", "fraction"),
            ParamSpec("bulk_density", "土壤容重", "t/m3"),
            ParamSpec("n_content", "土壤氮纯含量", "fraction"),
            ParamSpec("p_content", "土壤磷纯含量", "fraction"),
            ParamSpec("dredging_cost", "水库清淤工程费用", "yuan/m3"),
            ParamSpec("n_price", "氮降解成本", "yuan/t"),
            ParamSpec("p_price", "磷降解成本", "yuan/t"),
        ),
        reference="METHODS.md §2.3 (白玛卓嘎 et al. 2017; USLE factors from the 双评价 code; LS as InVEST SDR)",
        formula="Q = Σ R·K·LS·(1 − C·P)·A;  V = λ·Q/ρ·P_s + Q·C_N·P_N + Q·C_P·P_P",
    )

    def pixel_layers(self, ctx: PixelContext) -> dict[str, Layer]:
        r = self._erosivity(ctx)
        k = self._erodibility(ctx)
        ls = self._ls(ctx)
        c = self._c_factor(ctx)
        p = ctx.by_ecosystem(ctx.param("p_factor").table(), default=1.0).pixels()
        land = 1.0 - ctx.mask(*WATER).pixels()
        ha = ctx.pixel_area_m2 / 1e4
        retained = r * k * ls * (1.0 - c * p) * land * ha
        return {"retained": da.nan_to_num(da.maximum(retained, 0.0))}

    def quantities(self, ctx: ZoneContext) -> list[SubQuantity]:
        q = ctx.sums(self.SPEC.id, "retained")
        lam, rho = ctx.param("sediment_fraction").scalar(), ctx.param("bulk_density").scalar()
        return [
            SubQuantity(self.SPEC.output("retained"), q),
            SubQuantity(self.SPEC.output("sediment"), q * lam / rho),
            SubQuantity(self.SPEC.output("nitrogen"), q * ctx.param("n_content").scalar()),
            SubQuantity(self.SPEC.output("phosphorus"), q * ctx.param("p_content").scalar()),
        ]

    # -- factors ---------------------------------------------------------------------------------------------
    def _erosivity(self, ctx: PixelContext) -> da.Array:
        if ctx.region.has_layer("rainfall_erosivity", ctx.year):
            return ctx.layer("rainfall_erosivity")
        if ctx.region.has_layer("daily_precipitation", ctx.year):
            args = [ctx.param(n).scalar() for n in ("erosive_threshold", "alpha_warm", "alpha_cold", "beta",
                                                       "warm_first_day", "warm_last_day")]
            bands = ctx.region.bands("daily_precipitation", ctx.year)
            doy = np.arange(1, len(bands) + 1)
            stacked = da.stack(bands)
            return stacked.map_blocks(lambda b: _rusle.erosivity_daily(b, doy, args[0], args[1], args[2],
                                                                             args[3], int(args[4]), int(args[5])),
                                      drop_axis=0, dtype=np.float64, meta=np.array((), dtype=np.float64))
        raise Skip("needs a rainfall_erosivity layer or a daily_precipitation stack")

    def _erodibility(self, ctx: PixelContext) -> da.Array:
        if ctx.region.has_layer("soil_erodibility", ctx.year):
            return ctx.layer("soil_erodibility")
        texture = ("sand", "silt", "clay", "organic_matter")
        missing = [n for n in texture if not ctx.region.has_layer(n, ctx.year)]
        if missing:
            raise Skip(f"needs a soil_erodibility layer or the texture layers (missing {', '.join(missing)})")
        return da.map_blocks(_rusle.k_epic_zhang, *(ctx.layer(n) for n in texture), dtype=np.float64,
                             meta=np.array((), dtype=np.float64))

    def _c_factor(self, ctx: PixelContext) -> da.Array:
        index, ids = ctx.ecosystem()
        table = ctx.param("c_factor").table()
        lut = np.ones((len(ids) + 1, 7), dtype=np.float64)  # rows: ecosystem index; columns: cover class
        formula_rows = np.zeros(len(ids) + 1, dtype=bool)
        for i, eco in enumerate(ids):
            group = ECOSYSTEMS[eco].group
            for cls in range(1, 7):
                for key in (f"{eco}.{cls}", eco, f"{group}.{cls}", group):
                    if key in table:
                        lut[i, cls] = table[key]
                        break
            formula_rows[i] = eco == "dry_farmland" and "dry_farmland" not in table
        cover = ctx.layer("vegetation_cover")

        def block(idx: np.ndarray, fc: np.ndarray) -> np.ndarray:
            cls = _rusle.cover_class(np.nan_to_num(fc))
            c = lut[idx, cls]
            return np.where(formula_rows[idx], _rusle.c_dry_farmland(np.nan_to_num(fc)), c)

        return da.map_blocks(block, index, cover, dtype=np.float64, meta=np.array((), dtype=np.float64))

    def _ls(self, ctx: PixelContext) -> da.Array:
        """LS on the grid, from the whole DEM: routed (pits filled, MFD flow, slope) once per DEM and grid and
        cached, in memory or tile by tile on disk (:mod:`gep.accounting.routing` chooses; both give the same
        values); L's cap l_max is applied chunk by chunk, so another l_max (an uncertainty scenario) costs no
        routing."""
        from gep import __version__ as gep_version
        from gep.accounting import location, routing, terrain

        grid = ctx.region.grid
        entry = ctx.region.layers["dem"]
        path = entry.path(ctx.region.root, ctx.year)
        l_max = ctx.param("l_max").scalar()
        cell = grid.resolution
        # a local DEM's version is its modification time and size; an object store's object is immutable
        mtime_ns, size = location.version(path) or (None, None)
        if routing.mode(grid.shape, distributed=ctx.scheduler is not None) == "tiled":
            tiles_key = {"dem": str(path), "band": entry.band, "mtime_ns": mtime_ns, "size": size,
                         "transform": tuple(grid.transform), "shape": grid.shape, "crs": str(grid.crs),
                         "gep": gep_version}
            store = routing.routed_store(ctx.layer("dem"), tiles_key, cell, ctx.scheduler)
            slope = routing.lazy(store, "slope", grid.chunks, np.float32)
            flow = routing.lazy(store, "acc", grid.chunks, np.float64)
        else:
            key = (str(path), entry.band, mtime_ns, size, grid.transform, grid.shape)
            if key not in _ROUTED_CACHE:
                terrain.check_fits(grid.shape)
                dem = np.asarray(ctx.layer("dem").compute(), dtype=np.float64)
                _ROUTED_CACHE.clear()  # one DEM at a time: the cache must not grow with every region
                _ROUTED_CACHE[key] = routed_dem(dem, grid.resolution)
            slope_a, flow_a = _ROUTED_CACHE[key]
            slope = da.from_array(slope_a, chunks=grid.chunks)
            flow = da.from_array(flow_a, chunks=grid.chunks)
        return da.map_blocks(lambda s, f: ls_on_chunk(s, f, cell, l_max), slope, flow, dtype=np.float64,
                             meta=np.array((), dtype=np.float64))


def routed_dem(dem: np.ndarray, cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Slope (percent) and MFD flow accumulation of the pit-filled DEM (NaN off the DEM)."""
    from gep.accounting import terrain

    mask = ~np.isfinite(dem)
    # off-DEM pixels carry a nodata height, as in InVEST's masked DEM: plateau resolution next to nodata depends
    # on the value stored there, and this is the value pygeoprocessing sees
    nodata_height = float(np.finfo(np.float32).max)
    filled = terrain.fill_pits(np.where(mask, nodata_height, dem), mask)
    flow = terrain.flow_accumulation_mfd(terrain.flow_dir_mfd(filled, mask))
    slope = terrain.slope_percent(filled, mask, (cell_size, -cell_size))
    return slope, flow


def ls_on_chunk(slope: np.ndarray, flow: np.ndarray, cell_size: float, l_max: float) -> np.ndarray:
    """InVEST's LS of one chunk (element-wise: the chunk's own pixels only)."""
    from gep.accounting import terrain

    return terrain.ls_factor(slope, flow, cell_size, l_max, threads=1)


def ls_from_dem(dem: np.ndarray, cell_size: float, l_max: float) -> np.ndarray:
    """LS per pixel (NaN off the DEM): pits filled, MFD routing, slope of the filled DEM, InVEST's LS."""
    from gep.accounting import terrain

    slope, flow = routed_dem(dem, cell_size)
    return terrain.ls_factor(slope, flow, cell_size, l_max)
