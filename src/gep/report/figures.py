"""Charts and maps of the report, drawn with matplotlib in the bundled CJK font, returned as PNG bytes."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from functools import cache
from typing import Any, ParamSpec

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from gep.report.fonts import FAMILY, font_path, plain
from gep.report.i18n import DENSITY_SCALE, DENSITY_UNIT, MONEY_SCALE, MONEY_UNIT, t

COLORS = {"material": "#d08c3c", "regulating": "#2e7d5b", "cultural": "#4a72b0"}
DPI = 150
P = ParamSpec("P")


STYLE: dict[str, Any] = {"font.family": [FAMILY], "axes.unicode_minus": False, "font.size": 9, "axes.spines.top": False,
         "axes.spines.right": False, "axes.titlesize": 10}


@cache
def _register_font() -> None:
    font_manager.fontManager.addfont(str(font_path()))


def _figure(width: float, height: float) -> Figure:
    """A figure drawn without pyplot (no global state, no GUI backend)."""
    _register_font()
    return Figure(figsize=(width, height))


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def _styled(draw: Callable[P, bytes]) -> Callable[P, bytes]:
    """Run a drawing function inside the report's style (fonts are fixed when artists are created)."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> bytes:
        with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
            return draw(*args, **kwargs)

    return wrapper


@_styled
def composition_chart(top: pd.DataFrame, lang: str) -> bytes:
    """Horizontal bars: value of each indicator, coloured by category, largest first."""
    from gep.report.model import indicator_name

    by = top.groupby(["category", "indicator"], sort=False)["value_yuan"].sum().reset_index()
    by = by.sort_values("value_yuan")
    fig = _figure(7.0, 0.32 * len(by) + 0.8)
    ax = fig.subplots()
    labels = [plain(indicator_name(i, lang)) for i in by["indicator"]]
    ax.barh(labels, by["value_yuan"] / MONEY_SCALE[lang], color=[COLORS[c] for c in by["category"]])
    ax.set_xlabel(MONEY_UNIT[lang])
    for y, v in enumerate(by["value_yuan"] / MONEY_SCALE[lang]):
        ax.text(v, y, f" {v:,.1f}", va="center", fontsize=7)
    handles = [Rectangle((0, 0), 1, 1, color=COLORS[c]) for c in COLORS]
    ax.legend(handles, [t(c, lang) for c in COLORS], loc="lower right", frameon=False)
    return _png(fig)


@_styled
def zones_compared(totals: pd.DataFrame, lang: str) -> bytes:
    """Stacked bars of the categories for every zone of a level, sorted by GEP."""
    data = totals.sort_values("gep", ascending=False)
    fig = _figure(7.0, 3.2)
    ax = fig.subplots()
    bottom = np.zeros(len(data))
    for cat, color in COLORS.items():
        vals = data[cat].to_numpy() / MONEY_SCALE[lang]
        ax.bar(data["zone_name"], vals, bottom=bottom, color=color, label=t(cat, lang))
        bottom += vals
    ax.set_ylabel(MONEY_UNIT[lang])
    ax.legend(frameon=False, fontsize=8)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    return _png(fig)


@_styled
def tornado_chart(tornado: list[dict], gep: float, lang: str, top: int = 12) -> bytes:
    """Each parameter at its low and high end (the others at their values): GEP's swing, largest on top."""
    rows = [r for r in tornado if r["swing"] > 0][:top][::-1]
    fig = _figure(7.0, 0.34 * max(len(rows), 1) + 0.9)
    ax = fig.subplots()
    scale = MONEY_SCALE[lang]
    for y, r in enumerate(rows):
        lo, hi = r["gep_at_low"] / scale, r["gep_at_high"] / scale
        ax.barh(y, lo - gep / scale, left=gep / scale, color="#4c78a8")
        ax.barh(y, hi - gep / scale, left=gep / scale, color="#f58518")
    ax.set_yticks(range(len(rows)), [plain(r["parameter"]) for r in rows], fontsize=7)
    ax.axvline(gep / scale, color="black", linewidth=0.8)
    ax.set_xlabel(f"GEP ({MONEY_UNIT[lang]})")
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in ("#4c78a8", "#f58518")]
    ax.legend(handles, ["参数取下限", "参数取上限"] if lang == "zh" else ["parameter at its low end",
                                                                 "parameter at its high end"],
              loc="lower right", frameon=False, fontsize=7)
    return _png(fig)


@_styled
def trend_chart(data: pd.DataFrame, lang: str) -> bytes:
    """GEP by category over the years, stacked, at constant prices."""
    fig = _figure(6.0, 3.0)
    ax = fig.subplots()
    bottom = np.zeros(len(data))
    for cat, color in COLORS.items():
        vals = data[cat].to_numpy() / MONEY_SCALE[lang]
        ax.bar(data["year"].astype(str), vals, bottom=bottom, color=color, label=t(cat, lang))
        bottom += vals
    ax.set_ylabel(MONEY_UNIT[lang])
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


@_styled
def choropleth_pair(geo: gpd.GeoDataFrame, level: str, totals: pd.DataFrame, lang: str) -> bytes:
    """Two maps side by side: GEP and GEP per km² of every zone of `level` (quantile classes)."""
    shapes = geo.dissolve(by=f"{level}_code", as_index=False)[[f"{level}_code", "geometry"]]
    shapes = shapes.merge(totals, left_on=f"{level}_code", right_on="zone_code", how="left")
    fig = _figure(7.2, 3.6)
    axes = fig.subplots(1, 2)
    specs = [("gep", MONEY_SCALE[lang], f"GEP ({MONEY_UNIT[lang]})"),
             ("gep_per_km2", DENSITY_SCALE[lang], f"GEP/km² ({DENSITY_UNIT[lang]})")]
    for ax, (col, scale, title) in zip(axes, specs, strict=True):
        values = (shapes[col] / scale).to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        bins = np.unique(np.quantile(finite, np.linspace(0, 1, 6))) if finite.size else np.array([0.0, 1.0])
        if len(bins) < 2:
            bins = np.array([bins[0], bins[0] + 1.0])
        norm = BoundaryNorm(bins, ncolors=256)  # quantile classes: outliers do not wash out the rest
        shapes.assign(v=values).plot(column="v", ax=ax, cmap="YlGn", norm=norm, legend=True,
                                     edgecolor="#555555", linewidth=0.3 if len(shapes) < 300 else 0.05,
                                     legend_kwds={"shrink": 0.6, "format": "{x:,.0f}", "ticks": bins},
                                     missing_kwds={"color": "#eeeeee"})
        ax.set_title(plain(title))
        ax.set_axis_off()
    return _png(fig)


@_styled
def density_map(array: np.ndarray, lang: str) -> bytes:
    """The value-density raster (yuan/ha), log-scaled colours."""
    from matplotlib.colors import LogNorm

    fig = _figure(6.0, 5.0)
    ax = fig.subplots()
    data = np.where(array > 0, array, np.nan)
    finite = data[np.isfinite(data)]
    lo, hi = (np.nanpercentile(finite, 1), np.nanpercentile(finite, 99)) if finite.size else (1.0, 10.0)
    im = ax.imshow(data, cmap="viridis", norm=LogNorm(vmin=max(lo, 1e-3), vmax=max(hi, lo * 1.01)))
    fig.colorbar(im, ax=ax, shrink=0.7, label="元/ha" if lang == "zh" else "yuan/ha")
    ax.set_axis_off()
    return _png(fig)


@_styled
def damage_map(array: np.ndarray, extent: tuple[float, float, float, float], outlines: list[np.ndarray],
               lang: str) -> bytes:
    """A damaged area (red outline) over the value density (yuan/ha) of its surroundings."""
    from matplotlib.colors import LogNorm

    fig = _figure(6.0, 4.6)
    ax = fig.subplots()
    data = np.where(array > 0, array, np.nan)
    finite = data[np.isfinite(data)]
    lo, hi = (np.nanpercentile(finite, 2), np.nanpercentile(finite, 98)) if finite.size else (1.0, 10.0)
    im = ax.imshow(data, cmap="YlGn", extent=extent, norm=LogNorm(vmin=max(lo, 1e-3), vmax=max(hi, lo * 1.01)))
    for ring in outlines:
        ax.plot(ring[:, 0], ring[:, 1], color="#c0392b", linewidth=1.6)
    fig.colorbar(im, ax=ax, shrink=0.7, label="GEP 元/ha" if lang == "zh" else "GEP yuan/ha")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    return _png(fig)
