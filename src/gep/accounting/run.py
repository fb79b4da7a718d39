"""account(region, year, method) -> Accounts: one lazy graph over the chunks, computed once.

Stages: check the method, build every indicator's per-pixel layers lazily, rasterize the zones, reduce all
layers (and the ecosystem areas) per zone in one pass, turn sums and statistics into quantities, value them,
sum up the levels.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import dask.array as da
import numpy as np
import pandas as pd
import rasterio
import rasterio.shutil
from dask.callbacks import Callback

import gep
from gep.accounting.accounts import COLUMNS, Accounts
from gep.accounting.context import ClassValues, PixelContext, ZoneContext
from gep.accounting.indicators import REGISTRY, VARIANTS, indicator_class
from gep.accounting.indicators.base import Indicator, Skip, SubQuantity
from gep.accounting.indicators.value_item import value_item_class
from gep.accounting.methods import MethodProfile, Parameter, ProfileError, suggest
from gep.accounting.region import Region
from gep.accounting.statistics import allocate
from gep.accounting.uncertainty import Scenario, UncertaintySpec, describe, ranged_parameters, scenarios, summarise
from gep.accounting.valuation import valuate
from gep.accounting.zones import zonal_sums
from gep.errors import N_, InputError, Problem, Word

if TYPE_CHECKING:
    from gep.accounting.indicators.base import Layer


class Progress(Protocol):
    def stage(self, name: str) -> None: ...

    def tasks(self, done: int, total: int) -> None: ...


class _Silent:
    def stage(self, name: str) -> None:
        pass

    def tasks(self, done: int, total: int) -> None:
        pass


class _DaskProgress(Callback):
    """Forwards dask task completion to a Progress (one task ≈ one chunk of one step)."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress
        self.done = 0
        self.total = 0

    def _start_state(self, dsk: Any, state: dict[str, Any]) -> None:
        self.total = sum(len(state[k]) for k in ("ready", "waiting", "running"))
        self.done = 0

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        self.done += 1
        self.progress.tasks(self.done, self.total)


def check_profile(profile: MethodProfile) -> list[type[Indicator]]:
    """The profile's indicator classes (its value items last), after checking every parameter they need exists
    with its unit and shape: every problem is named at once."""
    classes = []
    problems: list[Problem] = []
    where = profile.files[-1] if profile.files else profile.id

    def problem(template: str, **params: Any) -> None:
        problems.append(Problem("{source}", template, source=where, method=profile.id, **params))

    for ind_id in profile.indicators:
        if ind_id not in REGISTRY:
            problem(N_("method {method} lists unknown indicator {indicator}{suggestion}; known: {known}"),
                    indicator=repr(ind_id), suggestion=suggest(ind_id, REGISTRY), known=", ".join(REGISTRY))
            continue
        variant = profile.variants.get(ind_id)
        if variant and (ind_id, variant) not in VARIANTS:
            known = sorted(v for i, v in VARIANTS if i == ind_id)
            problem(N_("method {method}: indicator {indicator} has no method variant {variant}; known: {known}"),
                    indicator=repr(ind_id), variant=repr(variant), known=str(known))
            continue
        classes.append(indicator_class(ind_id, variant))
    classes += [value_item_class(item) for item in profile.value_items.values()]
    for cls in classes:
        for p in cls.SPEC.parameters:
            pid = cls.SPEC.param_id(p.name)
            param = profile.parameters.get(pid)
            if param is None:
                shape = N_("a table by ecosystem") if p.by_ecosystem else N_("a single value")
                problem(N_("method {method} lacks parameter {parameter} ({name}, in {unit}, {shape}), which "
                           "{indicator} needs"), parameter=pid, name=p.name_zh, unit=p.unit, shape=Word(shape),
                        indicator=cls.SPEC.id)
                continue
            if param.unit != p.unit:
                problem(N_("method {method}: parameter {parameter} is in {unit}; {indicator} expects {expected}"),
                        parameter=param.id, unit=repr(param.unit), indicator=cls.SPEC.id, expected=repr(p.unit))
            if p.by_ecosystem != isinstance(param.value, dict):
                problem(N_("method {method}: parameter {parameter} must be a table by ecosystem") if p.by_ecosystem
                        else N_("method {method}: parameter {parameter} must be a single value"), parameter=param.id)
    if problems:
        raise ProfileError(where, problems)
    return classes


@dataclass
class _Plan:
    """What an uncertainty run adds: its parameters, scenarios, sample matrix and extra pixel layers."""

    spec: UncertaintySpec
    params: list[Parameter]
    scenarios: list[Scenario]
    matrix: np.ndarray
    layers: dict[str, Layer]


@dataclass
class _Run:
    region: Region
    year: int
    profile: MethodProfile
    price_year: int
    progress: Progress
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    given: list[dict[str, Any]] = field(default_factory=list)
    scheduler: Any = None  # a dask.distributed Client, or None for the local threads

    def pixel_layers(self, indicators: list[Indicator], ctx: PixelContext | None = None,
                     prefix: str = "") -> tuple[dict[str, Layer], list[Indicator]]:
        ctx = ctx or PixelContext(self.region, self.year, self.profile, scheduler=self.scheduler)
        layers: dict[str, Layer] = {}
        active = []
        for ind in indicators:
            try:
                for key, arr in ind.pixel_layers(ctx.for_indicator(ind.SPEC)).items():
                    layers[f"{prefix}{ind.SPEC.id}:{key}"] = arr
                active.append(ind)
            except Skip as skip:
                self.skipped.append({"indicator": ind.SPEC.id, "reason": skip.reason})
        return layers, active

    def reduce(self, layers: dict[str, Layer]) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
        grid, zones = self.region.grid, self.region.zones
        zone_index = zones.rasterize(grid)
        eco_index, eco_ids = PixelContext(self.region, self.year, self.profile).ecosystem()
        self.progress.stage(N_("one pass over the chunks"))
        t0 = time.perf_counter()
        rasters = {k: v for k, v in layers.items() if not isinstance(v, ClassValues)}
        if self.scheduler is None:
            sums, counts = zonal_sums(zone_index, rasters, len(zones.frame), eco_index, len(eco_ids) + 1,
                                      callbacks=[_DaskProgress(self.progress)])
        else:
            sums, counts = zonal_sums(zone_index, rasters, len(zones.frame), eco_index, len(eco_ids) + 1,
                                      scheduler=self.scheduler)
        by_class = {key: counts @ layer.values for key, layer in layers.items() if isinstance(layer, ClassValues)}
        if by_class:  # class-only layers: exact sums from the zone × class counts
            sums = pd.concat([sums, pd.DataFrame(by_class, index=sums.index)], axis=1)
        self.timings["zonal_pass_s"] = time.perf_counter() - t0
        codes = zones.codes
        sums.index = codes
        area = pd.DataFrame(counts[:, : len(eco_ids)] * grid.pixel_area_m2, index=codes, columns=eco_ids)
        pixels = pd.Series(counts.sum(axis=1), index=codes)
        nodata = counts[:, len(eco_ids)].sum()
        if nodata:
            self.notes.append(f"{int(nodata)} pixels inside the zones have no ecosystem class (nodata); "
                              "pixel-based indicators count nothing there")
        empty = list(codes[pixels.to_numpy() == 0])
        if empty:
            self.notes.append(f"{len(empty)} {zones.lowest}(s) receive no pixel at {grid.resolution:g} m "
                              f"(pixel-centre rule): {', '.join(empty[:20])}{' …' if len(empty) > 20 else ''}")
        return sums, area, pixels

    def quantities(self, active: list[Indicator], ctx: ZoneContext) -> list[tuple[Indicator, SubQuantity]]:
        self.progress.stage(N_("quantities and values"))
        out = []
        for ind in active:
            try:
                subs = ind.quantities(ctx.for_indicator(ind.SPEC))
            except Skip as skip:
                self.skipped.append({"indicator": ind.SPEC.id, "reason": skip.reason})
                continue
            if not subs:
                self.skipped.append({"indicator": ind.SPEC.id, "reason": "no sub-indicator had its inputs"})
            out += [(ind, s) for s in subs]
            self.notes += [f"{ind.SPEC.id}: {n}" for n in ind.notes]
        return out

    def plan_uncertainty(self, spec: UncertaintySpec, active: list[Indicator], ctx: PixelContext) -> _Plan:
        """The scenarios, and the pixel layers each adds to the pass: only indicators whose pixels read a varied
        parameter get layers of their own per scenario; the rest is recomputed from the zone sums."""
        params = ranged_parameters(self.profile, [i.SPEC.id for i in active] +
                                   [i for i in self.profile.value_items], spec)
        todo, matrix = scenarios(params, spec)
        layers: dict[str, Layer] = {}
        for scen in todo:
            dependent = [ind for ind in active if ctx.accessed.get(ind.SPEC.id, set()) & set(scen.values)]
            if dependent:
                sctx = ctx.with_profile(scen.profile(self.profile))
                found, _ = self.pixel_layers([type(ind)() for ind in dependent], sctx, prefix=f"{scen.name}|")
                layers.update(found)
        self.notes.append(f"uncertainty: {len(params)} parameters with a range, {spec.samples} Monte Carlo samples "
                          f"and {2 * len(params)} one-at-a-time ends; {len(layers)} extra pixel layers in the pass")
        return _Plan(spec, params, todo, matrix, layers)

    def uncertainty(self, plan: _Plan, indicators: list[Indicator], active: list[Indicator], sums: pd.DataFrame,
                    area: pd.DataFrame, lowest: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Every scenario's value per zone of every level and indicator, summarised into quantiles, a tornado
        and sensitivity indices. A scenario recomputes only the indicators whose parameters it changes; the
        others keep the accounts' values."""
        zones = self.region.zones
        codes = pd.Index(zones.codes)
        nominal = lowest.pivot_table(index="zone_code", columns="indicator", values="value_yuan", aggfunc="sum",
                                     sort=False).reindex(codes).fillna(0.0)
        ind_ids = list(nominal.columns)
        members = []  # per level: the zone codes and, per lowest zone, the position of its zone at that level
        for level in zones.levels:
            uniq, inverse = np.unique(zones.frame[f"{level}_code"].astype(str).to_numpy(), return_inverse=True)
            members.append((level, uniq, inverse))
        rows = pd.DataFrame([(lv, z, i) for lv, uniq, _ in members for z in uniq for i in [*ind_ids, "gep"]],
                            columns=["level", "zone_code", "indicator"])

        def by_level(matrix: np.ndarray) -> np.ndarray:
            parts = []
            for _, uniq, inverse in members:
                agg = np.zeros((len(uniq), matrix.shape[1]))
                np.add.at(agg, inverse, matrix)
                parts.append(np.column_stack([agg, agg.sum(axis=1)]).ravel())
            return np.concatenate(parts)

        base = nominal.to_numpy(dtype=np.float64)
        rows["value_yuan"] = by_level(base)
        values = np.zeros((len(rows), len(plan.scenarios)))
        by_id = {ind.SPEC.id: ind for ind in indicators}
        active_ids = {ind.SPEC.id for ind in active}
        for j, scen in enumerate(plan.scenarios):
            affected = {pid.split(".", 1)[0] for pid in scen.values} & set(by_id)
            prof = scen.profile(self.profile)
            scen_sums = sums.copy()
            for col in [c for c in sums.columns if c.startswith(f"{scen.name}|")]:
                scen_sums[col.split("|", 1)[1]] = sums[col]
            sub = _Run(self.region, self.year, prof, self.price_year, _Silent())
            zctx = ZoneContext(self.region, self.year, prof, scen_sums, area)
            fresh = [type(by_id[i])() for i in affected]
            subs = sub.quantities([f for f in fresh if f.SPEC.id in active_ids], zctx)
            subs = sub.given_quantities(fresh, subs, zctx, only=affected)
            matrix = base.copy()
            if subs:
                got, _ = sub.lowest_rows(subs)
                wide = got.pivot_table(index="zone_code", columns="indicator", values="value_yuan", aggfunc="sum",
                                       sort=False).reindex(codes).fillna(0.0)
                for ind_id in wide.columns:
                    if ind_id in ind_ids:
                        matrix[:, ind_ids.index(ind_id)] = wide[ind_id].to_numpy()
            values[:, j] = by_level(matrix)
        names = [s.name for s in plan.scenarios]
        spread, extra = summarise(rows, values, names, plan.params, plan.matrix, plan.spec)
        described = {**describe(plan.spec, plan.params), **extra, "scenarios": len(plan.scenarios)}
        return spread, described

    def given_quantities(self, indicators: list[Indicator], subs: list[tuple[Indicator, SubQuantity]],
                         ctx: ZoneContext, only: set[str] | None = None) -> list[tuple[Indicator, SubQuantity]]:
        """Replace computed quantities by those the statistics give (`quantity.<indicator>.<sub>` at any level):
        a zone with a figure, and the zones below it, take the figure (spread below it in proportion to the
        computed quantity, or to area where nothing was computed); other zones keep what was computed. An
        indicator whose own inputs are absent is accounted from the given figures alone."""
        stats = self.region.statistics.for_year(self.year)
        items = stats.items("quantity.")
        if not items:
            return subs
        zones = self.region.zones
        by_id = {ind.SPEC.id: ind for ind in indicators}
        out = list(subs)
        for item in items:
            ind_id, _, sub_id = item.removeprefix("quantity.").partition(".")
            if only is not None and ind_id not in only:
                continue
            ind = by_id.get(ind_id)
            if ind is None or sub_id not in {o.id for o in ind.SPEC.outputs}:
                raise InputError(N_("statistics {item}: method {method} has no indicator {indicator} with "
                                    "sub-indicator {sub}"), item=item, method=self.profile.id, indicator=ind_id,
                                 sub=sub_id)
            at = next((i for i, (d, q) in enumerate(out) if d.SPEC.id == ind_id and q.output.id == sub_id), None)
            old = out[at][1] if at is not None else None
            computed = old.quantity if old is not None else pd.Series(0.0, index=pd.Index(zones.codes))
            proxy = computed if computed.sum() > 0 else ctx.ecosystem_area.sum(axis=1)
            figures = stats.figures(item)
            given = dict(zip(figures["zone_code"], figures["value"], strict=True))
            levels = "+".join(sorted(set(figures["level"]), key=list(zones.levels).index))
            allocated = allocate(given, zones, proxy, item)
            covered = np.zeros(len(zones.frame), dtype=bool)
            for level in zones.levels:
                covered |= zones.frame[f"{level}_code"].isin(list(given)).to_numpy()
            quantity = pd.Series(np.where(covered, allocated.to_numpy(), computed.reindex(allocated.index)
                                          .fillna(0.0).to_numpy()), index=allocated.index)
            self.given.append({"indicator": ind_id, "sub_indicator": sub_id, "levels": levels,
                               "zones": sorted(given), "computed": float(computed[covered].sum()),
                               "given": float(quantity[covered].sum())})
            if old is not None:
                replaced = SubQuantity(old.output, quantity, f"{old.source_level}; given at {levels}", old.proxy,
                                       old.value_factor)
                out[at] = (ind, replaced)  # type: ignore[index]
                self.notes.append(f"{ind_id}.{sub_id}: the quantity given in the statistics ({levels}) replaces "
                                  f"the computed one in {len(given)} zone(s)")
            else:
                out.append((ind, SubQuantity(ind.SPEC.output(sub_id), quantity, f"given at {levels}",
                                             "computed quantity" if computed.sum() > 0 else "area")))
                reasons = [s["reason"] for s in self.skipped if s["indicator"] == ind_id]
                self.skipped = [s for s in self.skipped if s["indicator"] != ind_id]
                self.notes.append(f"{ind_id}.{sub_id}: accounted from the quantity given in the statistics "
                                  f"({levels}); not computed{': ' + '; '.join(reasons) if reasons else ''}")
        return out

    def lowest_rows(self, subs: list[tuple[Indicator, SubQuantity]]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        frames, prices = [], []
        for ind, sub in subs:
            value, price = valuate(sub, self.profile, self.year, self.price_year)
            frames.append(pd.DataFrame({
                "zone_code": sub.quantity.index, "indicator": ind.SPEC.id, "sub_indicator": sub.output.id,
                "quantity": sub.quantity.to_numpy(dtype=np.float64), "value_yuan": value.to_numpy(dtype=np.float64),
            }))
            prices.append({
                "indicator": ind.SPEC.id, "sub_indicator": sub.output.id, "category": ind.SPEC.category,
                "indicator_zh": ind.SPEC.name_zh, "sub_indicator_zh": sub.output.name_zh, "unit": sub.output.unit,
                "unit_price": price.value, "price_unit": price.unit, "source_level": sub.source_level,
                "proxy": sub.proxy,
            })
        return pd.concat(frames, ignore_index=True), prices


def _levels_table(region: Region, lowest: pd.DataFrame, attrs: list[dict[str, Any]], pixels: pd.Series,
                  year: int, method: str, price_year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    zones = region.zones
    frame = zones.frame.set_index(f"{zones.lowest}_code", drop=False)
    keyed = lowest.join(frame[[f"{lv}_code" for lv in zones.levels]], on="zone_code")
    parts = []
    for level in zones.levels:
        g = keyed.groupby([f"{level}_code", "indicator", "sub_indicator"], sort=False)[["quantity", "value_yuan"]].sum()
        g = g.reset_index().rename(columns={f"{level}_code": "zone_code"})
        g.insert(0, "level", level)
        parts.append(g)
    table = pd.concat(parts, ignore_index=True)
    info = zones.table()
    area = zones.aggregate(pd.DataFrame({"pixels": pixels}), ["pixels"])
    info = info.merge(area, on=["level", "zone_code"], how="left")
    info["area_km2"] = info["pixels"] * region.grid.pixel_area_m2 / 1e6
    poly = pd.DataFrame({"polygon": zones.frame.geometry.area.to_numpy() / 1e6}, index=zones.codes)
    info = info.merge(zones.aggregate(poly, ["polygon"]).rename(columns={"polygon": "polygon_area_km2"}),
                      on=["level", "zone_code"], how="left")
    table = table.merge(info[["level", "zone_code", "zone_name", "parent_code", "area_km2"]],
                        on=["level", "zone_code"], how="left").rename(columns={"area_km2": "zone_area_km2"})
    table = table.merge(pd.DataFrame(attrs), on=["indicator", "sub_indicator"], how="left")
    varying = table["unit_price"].isna()
    with np.errstate(divide="ignore", invalid="ignore"):
        table.loc[varying, "unit_price"] = (table.loc[varying, "value_yuan"] / table.loc[varying, "quantity"])
    table["year"] = year
    table["method"] = method
    table["price_year"] = price_year
    return table[COLUMNS], info


def account(region: Region, year: int, method: str | None = None, price_year: int | None = None,
            progress: Progress | None = None, uncertainty: UncertaintySpec | None = None,
            scheduler: str | None = None) -> Accounts:
    """Compute the GEP accounts of `region` for `year` at every level (with `uncertainty`, also the range of
    every indicator and of GEP at every zone, from the parameters' ranges, in the same pass). With `scheduler`
    (a Dask distributed scheduler's address, tcp://host:8786), the one pass over the chunks runs on that cluster:
    its workers read the rasters from the package's paths themselves, so these must be reachable from them."""
    if scheduler is None:
        return _account(region, year, method, price_year, progress, uncertainty, None)
    from distributed import Client

    try:
        client = Client(scheduler, timeout=os.environ.get("GEP_DASK_TIMEOUT", "30s"), set_as_default=False)
    except OSError as exc:
        raise InputError(N_("cannot reach the Dask scheduler at {address}: {error}"), address=scheduler,
                         error=str(exc)) from None
    with client:
        return _account(region, year, method, price_year, progress, uncertainty, client)


def _account(region: Region, year: int, method: str | None, price_year: int | None, progress: Progress | None,
             uncertainty: UncertaintySpec | None, client: Any) -> Accounts:
    if year not in region.years:
        raise InputError(N_("region {region} has no data for {year}; its years are {years}"), region=region.id,
                         year=year, years=", ".join(map(str, region.years)))
    progress = progress or _Silent()
    t_start = time.perf_counter()
    progress.stage(N_("method profile"))
    profile = region.profile(method)
    run = _Run(region, year, profile, price_year or year, progress, notes=list(region.notes), scheduler=client)
    indicators = [cls() for cls in check_profile(profile)]
    progress.stage(N_("build the lazy graph"))
    pctx = PixelContext(region, year, profile, scheduler=client)
    layers, active = run.pixel_layers(indicators, pctx)
    plan = run.plan_uncertainty(uncertainty, active, pctx) if uncertainty is not None else None
    sums, area, pixels = run.reduce({**layers, **(plan.layers if plan else {})})
    zctx = ZoneContext(region, year, profile, sums, area)
    subs = run.given_quantities(indicators, run.quantities(active, zctx), zctx)
    if not subs:
        raise InputError(N_("no indicator of method {method} could be computed for {region} {year}: {reasons}"),
                         method=profile.id, region=region.id, year=year,
                         reasons="; ".join(f"{s['indicator']}: {s['reason']}" for s in run.skipped))
    lowest, attrs = run.lowest_rows(subs)
    progress.stage(N_("sum up the levels"))
    table, zone_info = _levels_table(region, lowest, attrs, pixels, year, profile.id, run.price_year)
    spread = None
    if plan is not None:
        progress.stage(N_("uncertainty: the scenarios' quantities and values"))
        t0 = time.perf_counter()
        spread, described = run.uncertainty(plan, indicators, active, sums, area, lowest)
        run.timings["uncertainty_s"] = time.perf_counter() - t0
    run.timings["total_s"] = time.perf_counter() - t_start
    metadata = _metadata(region, year, profile, run)
    if plan is not None:
        metadata["uncertainty"] = described
    density = _density_writer(region, year, profile, run, subs, layers)
    return Accounts(table, metadata, zone_info, _ecosystem_table(region, area), _geometry(region), density,
                    uncertainty=spread)


def _ecosystem_table(region: Region, area: pd.DataFrame) -> pd.DataFrame:
    """Area (km²) by ecosystem type for every zone of every level, for the report and the platform."""
    summed = region.zones.aggregate(area / 1e6, list(area.columns))
    long = summed.melt(id_vars=["level", "zone_code"], var_name="ecosystem", value_name="area_km2")
    return long[long["area_km2"] > 0].reset_index(drop=True)


def _geometry(region: Region) -> Any:
    cols = [c for lv in region.zones.levels for c in (f"{lv}_code", f"{lv}_name")]
    return region.zones.frame[[*cols, "geometry"]]


def _metadata(region: Region, year: int, profile: MethodProfile, run: _Run) -> dict[str, Any]:
    prefixes = tuple(f"{ind}." for ind in (*profile.indicators, *profile.value_items))
    params = [
        {"id": p.id, "value": p.value, "unit": p.unit, "year": p.year, "source": p.source, "verified": p.verified,
         "note": p.note, "overridden_by": p.overridden_by, "status": p.status,
         "range": list(p.range) if p.range else None, "range_relative": p.relative_range,
         "range_reason": p.range_reason}
        for p in profile.parameters.values() if p.id.startswith(prefixes)
    ]
    stats = region.statistics.for_year(year).frame
    return {
        "gep_version": gep.__version__,
        "region": {"id": region.id, "name": region.name, "name_en": region.name_en, "root": str(region.root)},
        "year": year,
        "method": {"id": profile.id, "name_zh": profile.name_zh, "name_en": profile.name_en, "files": profile.files},
        "price_year": run.price_year,
        "price_index": {"source": profile.price_index.source, "verified": profile.price_index.verified,
                        "values": {str(k): v for k, v in profile.price_index.values.items()}},
        "grid": {"crs": region.grid.crs.to_string(), "resolution_m": region.grid.resolution,
                 "width": region.grid.width, "height": region.grid.height, "chunk_size": region.grid.chunk_size,
                 "zonal_rule": "pixel centre"},
        "parameters": params,
        "overrides": [p["id"] for p in params if p["overridden_by"]],
        "inputs": region.provenance,
        "statistics": stats[["zone_code", "year", "item", "value", "unit", "source", "synthetic"]]
        .to_dict(orient="records"),
        "skipped": run.skipped,
        "given_quantities": run.given,
        "value_items": {i.id: {"category": i.category, "name_zh": i.name_zh, "name_en": i.name_en, "unit": i.unit,
                               "source": i.source, "note": i.note} for i in profile.value_items.values()},
        "notes": run.notes,
        "timings": run.timings,
    }


DENSITY_BANDS = ("total", "material", "regulating", "cultural")


def _density_writer(region: Region, year: int, profile: MethodProfile, run: _Run,
                    subs: list[tuple[Indicator, SubQuantity]], layers: dict[str, Layer]) -> Any:
    """A function that writes the per-pixel value density (yuan/ha) of the pixel-based indicators as a COG:
    band 1 the total, bands 2–4 material, regulating and cultural (DENSITY_BANDS), then one band per pixel-based
    sub-indicator (described "indicator:sub_indicator"), so that the value of any polygon can be read per
    category and per indicator from the same pixels the accounts summed."""
    terms: dict[str, list[Any]] = {c: [] for c in DENSITY_BANDS[1:]}
    per_sub: list[tuple[str, Any]] = []
    for ind, sub in subs:
        key = f"{ind.SPEC.id}:{sub.output.id}"
        if sub.source_level == "pixel" and key in layers:
            _, price = valuate(SubQuantity(sub.output, pd.Series([1.0])), profile, year, run.price_year)
            layer = layers[key]
            pixels = layer.pixels() if isinstance(layer, ClassValues) else layer
            valued = pixels * float(price.value or 0.0)
            terms[ind.SPEC.category].append(valued)
            per_sub.append((key, valued))
    if not any(terms.values()):
        return None

    def write(folder: Path) -> None:
        grid = region.grid
        zone_mask = region.zones.rasterize(grid) > 0
        zero = da.zeros((grid.height, grid.width), chunks=zone_mask.chunks, dtype=np.float64)
        per_category = [da.nansum(da.stack(t), axis=0) if t else zero for t in terms.values()]
        bands = [sum(per_category[1:], per_category[0]), *per_category, *(v for _, v in per_sub)]
        names = [*DENSITY_BANDS, *(k for k, _ in per_sub)]
        density = da.stack([da.where(zone_mask, b / (grid.pixel_area_m2 / 1e4), np.nan) for b in bands]
                           ).astype(np.float32)
        tmp = folder / "value_density.tmp.tif"
        profile_ = {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": len(names),
                    "dtype": "float32", "crs": grid.crs.to_wkt(), "transform": grid.transform, "nodata": np.nan,
                    "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
                    "interleave": "band"}
        with rasterio.open(tmp, "w", **profile_) as dst:
            for i, name in enumerate(names, start=1):
                dst.set_band_description(i, f"{name} (yuan/ha)")
            for block, (r0, c0) in _blocks(density):  # every band of a chunk from one computation
                dst.write(block, window=rasterio.windows.Window(c0, r0, block.shape[-1], block.shape[-2]))
        rasterio.shutil.copy(tmp, folder / f"value_density_{year}.tif", driver="COG", compress="deflate")
        tmp.unlink()

    return write


def _blocks(arr: da.Array) -> Any:
    """Yield (computed block, (row offset, col offset)) one chunk of the last two axes at a time (bounded memory);
    leading axes (bands) come whole with each chunk."""
    rows, cols = arr.chunks[-2], arr.chunks[-1]
    row_offsets = np.cumsum((0, *rows[:-1]))
    col_offsets = np.cumsum((0, *cols[:-1]))
    lead = (slice(None),) * (arr.ndim - 2)
    for i, r0 in enumerate(row_offsets):
        for j, c0 in enumerate(col_offsets):
            block = arr[(*lead, slice(int(r0), int(r0 + rows[i])), slice(int(c0), int(c0 + cols[j])))]
            yield block.compute(), (int(r0), int(c0))
