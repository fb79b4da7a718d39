"""The report's content as plain data: sections of paragraphs, tables and figures, built from the accounts.

Renderers (HTML, PDF, XLSX) only lay this out, so every figure in every format comes from one place and
the tests can compare the content with the accounts directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import gep
from gep.accounting.accounts import Accounts
from gep.accounting.catalogue import ECOSYSTEM_GROUPS, ECOSYSTEMS
from gep.accounting.indicators import REGISTRY
from gep.accounting.valuation import at_price_year
from gep.report import figures
from gep.report.i18n import (
    DENSITY_SCALE,
    DENSITY_UNIT,
    MONEY_UNIT,
    money,
    numbered,
    percent,
    price_unit_name,
    quantity,
    t,
)

CATEGORIES = ("material", "regulating", "cultural")
TOP_N = 10


@dataclass
class Paragraph:
    text: str
    kind: str = "paragraph"


@dataclass
class Table:
    id: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    numeric: tuple[int, ...] = ()  # right-aligned columns
    frame: pd.DataFrame | None = None  # the full data behind the table (for XLSX), unformatted
    kind: str = "table"


@dataclass
class Figure:
    id: str
    title: str
    png: bytes
    kind: str = "figure"


@dataclass
class Section:
    """A titled part of the report: paragraphs, tables and figures in reading order, then bullets."""

    id: str
    title: str
    blocks: list[Paragraph | Table | Figure] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)

    def add(self, *items: str | Table | Figure) -> None:
        self.blocks += [Paragraph(i) if isinstance(i, str) else i for i in items]

    @property
    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def figures(self) -> list[Figure]:
        return [b for b in self.blocks if isinstance(b, Figure)]


@dataclass
class Report:
    lang: str
    title: str
    subtitle: str
    key_figures: list[tuple[str, str]]
    sections: list[Section]
    accounts: Accounts | None = None  # the accounts behind an accounting report (none for other documents)

    def all_tables(self) -> list[Table]:
        return [tb for s in self.sections for tb in s.tables]

    def text(self) -> str:
        """Every word of the report (for font subsetting and glyph checks)."""
        parts = [self.title, self.subtitle, *(f"{k} {v}" for k, v in self.key_figures)]
        for s in self.sections:
            parts += [s.title, *s.paragraphs, *s.bullets, *(f.title for f in s.figures)]
            for tb in s.tables:
                parts += [tb.title, tb.note, *tb.columns, *(str(c) for r in tb.rows for c in r)]
        return "\n".join(parts)


def indicator_name(ind: str, lang: str) -> str:
    spec = REGISTRY[ind].SPEC if ind in REGISTRY else None
    if spec is None:
        return ind
    return spec.name_zh if lang == "zh" else spec.name_en


def sub_name(ind: str, sub: str, zh: str, lang: str) -> str:
    if lang == "zh":
        return zh
    spec = REGISTRY[ind].SPEC if ind in REGISTRY else None
    if spec is not None:
        for out in spec.outputs:
            if out.id == sub:
                return out.name_en
    return sub.replace("product:", "")


class _Builder:
    def __init__(self, series: list[Accounts], lang: str) -> None:
        self.series = sorted(series, key=lambda a: int(a.metadata["year"]))
        self.acc = self.series[-1]
        self.lang = lang
        self.meta = self.acc.metadata
        self.table = self.acc.table
        self.levels = list(dict.fromkeys(self.table["level"]))
        self.top_level = self.levels[0]
        self.top = self.table[self.table["level"] == self.top_level]
        self.gep = float(self.top["value_yuan"].sum())
        self.area = float(self.acc.zones[self.acc.zones["level"] == self.top_level]["area_km2"].sum())

    # -- helpers -------------------------------------------------------------------------------------------
    def money_col(self) -> str:
        return f"{t('value', self.lang)}({MONEY_UNIT[self.lang]})"

    def stat(self, item: str) -> float | None:
        top_code = str(self.top["zone_code"].iloc[0])
        for row in self.meta.get("statistics", []):
            if row["item"] == item and str(row["zone_code"]) == top_code:
                return float(row["value"])
        return None

    def zone_totals(self, level: str) -> pd.DataFrame:
        sub = self.table[self.table["level"] == level]
        wide = sub.pivot_table(index=["zone_code", "zone_name"], columns="category", values="value_yuan",
                               aggfunc="sum", fill_value=0.0).reset_index()
        for c in CATEGORIES:
            if c not in wide:
                wide[c] = 0.0
        wide["gep"] = wide[list(CATEGORIES)].sum(axis=1)
        areas = self.acc.zones[self.acc.zones["level"] == level].set_index("zone_code")["area_km2"]
        wide["area_km2"] = wide["zone_code"].map(areas).astype(float)
        wide["gep_per_km2"] = wide["gep"] / wide["area_km2"].where(wide["area_km2"] > 0)
        return wide.sort_values("gep", ascending=False).reset_index(drop=True)

    def gdp_at_price_year(self) -> float | None:
        """GDP moved to the prices GEP is stated in (GEP/GDP then does not change with the price year)."""
        gdp = self.stat("gdp")
        return at_price_year(gdp, self.meta) if gdp else None

    # -- sections ------------------------------------------------------------------------------------------
    def key_figures(self) -> list[tuple[str, str]]:
        lang = self.lang
        out = [(t("gep_total", lang), f"{money(self.gep, lang)} {MONEY_UNIT[lang]}")]
        for cat in CATEGORIES:
            v = float(self.top[self.top["category"] == cat]["value_yuan"].sum())
            out.append((t(cat, lang), f"{money(v, lang)} {MONEY_UNIT[lang]} ({percent(v, self.gep)})"))
        if self.area:
            out.append((t("per_km2", lang), f"{self.gep / self.area / DENSITY_SCALE[lang]:,.2f} {DENSITY_UNIT[lang]}"))
        pop = self.stat("population")
        unit = "元/人" if lang == "zh" else "yuan/person"
        missing = t("not_available", lang)
        out.append((t("per_capita", lang), f"{self.gep / pop:,.0f} {unit}" if pop else f"{missing} (population)"))
        gdp = self.gdp_at_price_year()
        out.append((t("gep_gdp", lang), f"{self.gep / gdp:.2f}" if gdp else f"{missing} (gdp)"))
        return out

    def summary(self) -> Section:
        lang = self.lang
        s = Section("summary", t("summary", lang))
        name = self.meta["region"]["name"] if lang == "zh" else self.meta["region"]["name_en"]
        reg = float(self.top[self.top["category"] == "regulating"]["value_yuan"].sum())
        if lang == "zh":
            s.add(f"{name}{self.meta['year']}年生态系统生产总值(GEP)为{money(self.gep, lang)}亿元"
                                f"（{self.meta['price_year']}年价格），其中调节服务{money(reg, lang)}亿元，"
                                f"占{percent(reg, self.gep)}。核算覆盖{len(self.levels)}级区划，"
                                f"各级结果逐级加总一致。")
        else:
            s.add(f"The GEP of {name} in {self.meta['year']} was {money(self.gep, lang)} billion "
                                f"yuan at {self.meta['price_year']} prices; regulating services contributed "
                                f"{money(reg, lang)} billion yuan ({percent(reg, self.gep)}). The accounts cover "
                                f"{len(self.levels)} levels, each the exact sum of the level below.")
        s.add(self.category_table())
        s.add(Figure("composition", t("composition", lang), figures.composition_chart(self.top, lang)))
        return s

    def category_table(self) -> Table:
        lang = self.lang
        by = self.top.groupby("category")["value_yuan"].sum()
        rows = [[t(c, lang), money(float(by.get(c, 0.0)), lang), percent(float(by.get(c, 0.0)), self.gep)]
                for c in CATEGORIES]
        rows.append([t("gep", lang), money(self.gep, lang), "100.00%"])
        return Table("categories", t("composition", lang), [t("category", lang), self.money_col(), t("share", lang)],
                     rows, numeric=(1, 2), frame=by.reset_index())

    def composition_table(self) -> Table:
        lang = self.lang
        by = self.top.groupby(["category", "indicator"], sort=False)["value_yuan"].sum().reset_index()
        rows, frame_rows = [], []
        for cat in CATEGORIES:
            part = by[by["category"] == cat]
            if part.empty:
                continue
            subtotal = float(part["value_yuan"].sum())
            rows.append([t(cat, lang), "", money(subtotal, lang), percent(subtotal, self.gep)])
            frame_rows.append({"category": cat, "indicator": "", "value_yuan": subtotal})
            for r in part.itertuples():
                rows.append(["", indicator_name(r.indicator, lang), money(r.value_yuan, lang),
                             percent(r.value_yuan, self.gep)])
                frame_rows.append({"category": cat, "indicator": r.indicator, "value_yuan": r.value_yuan})
        rows.append([t("gep", lang), "", money(self.gep, lang), "100.00%"])
        return Table("composition", t("value_table", lang), [t("category", lang), t("indicator", lang),
                     self.money_col(), t("share", lang)], rows, numeric=(2, 3), frame=pd.DataFrame(frame_rows))

    def overview(self) -> Section:
        lang = self.lang
        s = Section("overview", t("overview", lang))
        counts = self.acc.zones.groupby("level")["zone_code"].nunique()
        level_words = ", ".join(f"{t('level_' + lv, lang)} {counts.get(lv, 0)}" for lv in self.levels)
        if lang == "zh":
            s.add(f"核算区域面积 {self.area:,.1f} km²（按像元中心规则栅格化统计），区划层级：{level_words}。")
        else:
            s.add(f"The accounted area is {self.area:,.1f} km² (pixel-centre rule); zones: {level_words}.")
        eco = self.acc.ecosystems
        if not eco.empty:
            top_eco = eco[eco["level"] == self.top_level].copy()
            top_eco["group"] = top_eco["ecosystem"].map(lambda e: ECOSYSTEMS[e].group if e in ECOSYSTEMS else e)
            groups = top_eco.groupby("group", sort=False)["area_km2"].sum().sort_values(ascending=False)
            total = float(groups.sum())
            rows = [[ECOSYSTEM_GROUPS[g][0 if lang == "zh" else 1], f"{a:,.1f}", percent(a, total)]
                    for g, a in groups.items()]
            s.add(Table("ecosystems", t("ecosystem", lang), [t("ecosystem", lang), t("area", lang),
                                  t("share", lang)], rows, numeric=(1, 2), frame=top_eco))
        return s

    def method(self) -> Section:
        lang = self.lang
        s = Section("method", t("method", lang))
        m, g = self.meta["method"], self.meta["grid"]
        name = m["name_zh"] if lang == "zh" else m["name_en"]
        if lang == "zh":
            s.add(*[
                f"核算方法：{name}（{m['id']}）。价值量 = 功能量 × 单价，单价按价格指数折算到{self.meta['price_year']}年。",
                f"空间计算：所有栅格统一重采样到等积投影网格（分辨率 {g['resolution_m']:g} m，{g['width']}×{g['height']} 像元），"
                "按像元中心规则归属到最低级区划，一次遍历完成全部指标的分区求和；上级区划为下级之和。",
                "统计数据仅在较高层级发布时，按生态系统面积代理（如耕地面积、林地面积、水域面积）分配到下级，分配方式记录在核算表中。",
            ])
        else:
            s.add(*[
                f"Method: {name} ({m['id']}). Value = quantity × unit price; prices moved to "
                f"{self.meta['price_year']} with the price index.",
                f"All rasters are aligned onto one equal-area grid ({g['resolution_m']:g} m, {g['width']}×"
                f"{g['height']} pixels); each pixel belongs to the lowest-level zone containing its centre; one pass "
                "sums every indicator per zone, and upper levels are sums of the lower.",
                "Statistics published only at coarser levels are allocated down by ecosystem-area proxies (farmland, "
                "forest, water ...); the proxy is recorded in the accounts table.",
            ])
        rows = []
        for key, info in self.meta.get("inputs", {}).items():
            label = key.replace("layer:", "")
            status = t("synthetic" if info.get("synthetic") else "real", lang)
            rows.append([label, status, " ".join(x for x in (str(info.get("source", "")), str(info.get("note", ""))) if x)])
        stats = pd.DataFrame(self.meta.get("statistics", []))
        if not stats.empty:
            real = stats[~stats["synthetic"].astype(bool)]
            label = "统计数据" if lang == "zh" else "statistics"
            if len(real):
                rows.append([f"{label} ({len(real)})", t("real", lang),
                             "; ".join(sorted({str(x)[:90] for x in real["source"]}))])
            if len(real) < len(stats):
                rows.append([f"{label} ({len(stats) - len(real)})", t("synthetic", lang),
                             "演示用估算值，每条注明估算方法（见核算表 metadata.json）" if lang == "zh" else
                             "estimates, each with how it was made (metadata.json)"])
        s.add(Table("inputs", t("input", lang), [t("input", lang), t("status", lang), t("source", lang)],
                              rows, frame=stats if not stats.empty else None))
        return s

    def quantities(self) -> Section:
        lang = self.lang
        s = Section("quantities", t("quantities", lang))
        rows = []
        grouped = self.top.groupby(["category", "indicator", "sub_indicator", "sub_indicator_zh", "unit"],
                                   sort=False)[["quantity", "value_yuan"]].sum().reset_index()
        prices = self.top.drop_duplicates(["indicator", "sub_indicator"]).set_index(["indicator", "sub_indicator"])
        for r in grouped.itertuples():
            q, unit = quantity(r.quantity, r.unit, lang)
            price = prices.loc[(r.indicator, r.sub_indicator)]
            p = price["unit_price"]
            priced = pd.notna(p) and r.unit != "yuan" and str(price["price_unit"])
            p_txt = f"{p:,.4g} {price_unit_name(str(price['price_unit']), lang)}" if priced else "—"
            rows.append([indicator_name(r.indicator, lang), sub_name(r.indicator, r.sub_indicator,
                         r.sub_indicator_zh, lang), q, unit, p_txt, money(r.value_yuan, lang)])
        s.add(Table("quantities", t("quantity_table", lang),
                              [t("indicator", lang), t("sub_indicator", lang), t("quantity", lang), t("unit", lang),
                               t("unit_price", lang), self.money_col()], rows, numeric=(2, 5), frame=grouped))
        return s

    def values(self) -> Section:
        lang = self.lang
        s = Section("values", t("values", lang))
        s.add(self.composition_table())
        return s

    def levels_section(self) -> Section:
        lang = self.lang
        s = Section("levels", t("levels", lang))
        for level in self.levels[1:]:
            totals = self.zone_totals(level)
            word = t("level_" + level, lang)
            cols = [t("rank", lang), t("zone", lang), t("code", lang), t("area", lang), *(t(c, lang) for c in
                    CATEGORIES), f"GEP({MONEY_UNIT[lang]})", f"{t('per_km2', lang)}({DENSITY_UNIT[lang]})"]

            def rows_of(frame: pd.DataFrame) -> list[list[Any]]:
                return [[int(i) + 1, r.zone_name, r.zone_code, f"{r.area_km2:,.1f}",
                         *(money(getattr(r, c), lang) for c in CATEGORIES), money(r.gep, lang),
                         f"{r.gep_per_km2 / DENSITY_SCALE[lang]:,.1f}" if pd.notna(r.gep_per_km2) else "—"]
                        for i, r in frame.iterrows()]
            num = (0, 3, 4, 5, 6, 7, 8)
            if len(totals) <= 20:
                s.add(Table(f"{level}-all", t("all_of", lang, level=word), cols, rows_of(totals),
                                      numeric=num, frame=totals))
                if level == "county":
                    s.add(Figure("counties", t("all_of", lang, level=word),
                                            figures.zones_compared(totals, lang)))
            else:
                n = TOP_N
                s.add(Table(f"{level}-top", t("top", lang, n=n, level=word), cols, rows_of(totals.head(n)),
                                      numeric=num, frame=totals))
                s.add(Table(f"{level}-bottom", t("bottom", lang, n=n, level=word), cols,
                                      rows_of(totals.tail(n)), numeric=num))
                dens = totals.sort_values("gep_per_km2", ascending=False).reset_index(drop=True)
                s.add(Table(f"{level}-density", t("top_density", lang, n=n, level=word), cols,
                                      rows_of(dens.head(n)), numeric=num))
        return s

    def years(self) -> Section | None:
        if len(self.series) < 2:
            return None
        lang = self.lang
        s = Section("years", t("years", lang))
        base = int(self.meta["price_year"])
        rows, frame = [], []
        prev = None
        for acc in self.series:
            index = {int(k): float(v) for k, v in acc.metadata["price_index"]["values"].items()}
            factor = index[base] / index[int(acc.metadata["price_year"])]
            top = acc.table[acc.table["level"] == self.top_level]
            cats = {c: float(top[top["category"] == c]["value_yuan"].sum()) * factor for c in CATEGORIES}
            total = sum(cats.values())
            growth = f"{100 * (total / prev - 1):+.2f}%" if prev else "—"
            rows.append([int(acc.metadata["year"]), *(money(v, lang) for v in cats.values()), money(total, lang),
                         growth])
            frame.append({"year": int(acc.metadata["year"]), **cats, "gep": total})
            prev = total
        s.add(f"{base}年价格" if lang == "zh" else f"at {base} prices")
        data = pd.DataFrame(frame)
        s.add(Table("years", t("years", lang), [t("year", lang), *(t(c, lang) for c in CATEGORIES),
                              f"GEP({MONEY_UNIT[lang]})", t("growth", lang)], rows, numeric=(1, 2, 3, 4, 5),
                              frame=data))
        s.add(Figure("trend", t("years", lang), figures.trend_chart(data, lang)))
        return s

    def maps(self, density_png: bytes | None) -> Section:
        lang = self.lang
        s = Section("maps", t("maps", lang))
        geo = self.acc.geometry
        if geo is not None:
            for level in self.levels[1:]:
                totals = self.zone_totals(level)
                word = t("level_" + level, lang)
                s.add(Figure(f"map-{level}", f"{word} GEP",
                                        figures.choropleth_pair(geo, level, totals, lang)))
        if density_png:
            s.add(Figure("density", "价值密度 (元/ha)" if lang == "zh" else "Value density (yuan/ha)",
                                    density_png))
        return s

    def parameters(self) -> Section:
        lang = self.lang
        s = Section("parameters", t("parameters", lang))
        names = {ind.SPEC.param_id(p.name): p.name_zh for ind in REGISTRY.values() for p in ind.SPEC.parameters}
        rows = []
        for p in self.meta.get("parameters", []):
            value = p["value"]
            if isinstance(value, dict):
                value_txt = "; ".join(f"{k}={v:g}" for k, v in list(value.items())[:4])
                value_txt += " …" if len(value) > 4 else ""
            else:
                value_txt = f"{value:g}"
            label = f"{p['id']}" + (f" {names[p['id']]}" if lang == "zh" and p["id"] in names else "")
            status = p.get("status") or ("published" if p["verified"] else "not_found")
            rng = p.get("range")
            range_txt = "" if not rng else (f"×{rng[0]:g}–{rng[1]:g}" if p.get("range_relative") else
                                            f"{rng[0]:g}–{rng[1]:g}")
            rows.append([label, value_txt, p["unit"], p["year"] or "", t("status_" + status, lang), range_txt,
                         str(p["source"]) + (f" [{p['range_reason']}]" if p.get("range_reason") else "")])
        s.add(Table("parameters", t("parameters", lang), [t("parameter", lang), t("value", lang),
                              t("unit", lang), t("year", lang), t("source_status", lang), t("range", lang),
                              t("source", lang)], rows, frame=pd.DataFrame(self.meta.get("parameters", []))))
        s.add(t("status_note", lang))
        return s

    def uncertainty(self) -> Section | None:
        """GEP and its categories with their 5–95 % range, how it was made, and the tornado of the parameters."""
        spread, info = self.acc.uncertainty, self.meta.get("uncertainty")
        if spread is None or not info:
            return None
        lang = self.lang
        s = Section("uncertainty", t("uncertainty", lang))
        top = spread[spread["level"] == self.top_level]
        rows = []
        for ind, group in top.groupby("indicator", sort=False):
            r = group.sum(numeric_only=True)
            name = "GEP" if ind == "gep" else indicator_name(str(ind), lang)
            if r["value_yuan"] == 0 and r["p95"] == 0:
                continue
            rows.append([name, money(r["value_yuan"], lang), money(r["p05"], lang), money(r["p50"], lang),
                         money(r["p95"], lang), percent(r["p95"] - r["p05"], r["value_yuan"])])
        rows.sort(key=lambda row: row[0] != "GEP")
        s.add(t("uncertainty_how", lang, samples=info["samples"], n=len(info["parameters"])))
        s.add(Table("uncertainty", t("uncertainty", lang),
                    [t("indicator", lang), self.money_col(), "P5", "P50", "P95", t("width", lang)], rows,
                    numeric=(1, 2, 3, 4, 5), frame=top))
        if info.get("tornado"):
            s.add(Figure("tornado", t("tornado", lang), figures.tornado_chart(info["tornado"], self.gep, lang)))
        significant = [r for r in info.get("sensitivity", []) if r["s1"] - r["s1_conf"] > 0]
        if significant:
            s.bullets.append(t("sensitivity_head", lang) + "; ".join(
                f"{r['parameter']} {r['s1']:.2f} ± {r['s1_conf']:.2f}" for r in significant[:6]))
        elif info.get("sensitivity") is not None:
            s.bullets.append(t("sensitivity_none", lang, samples=info["samples"]))
        return s

    def caveats(self) -> Section:
        lang = self.lang
        s = Section("caveats", t("caveats", lang))
        unverified = [p["id"] for p in self.meta.get("parameters", []) if not p["verified"]]
        if unverified:
            head = "以下参数未经标准原文核实：" if lang == "zh" else "Parameters not verified against a source text: "
            s.bullets.append(head + ", ".join(unverified))
        if not self.meta.get("price_index", {}).get("verified", True):
            s.bullets.append(("价格指数未经核实：" if lang == "zh" else "Price index not verified: ")
                             + str(self.meta["price_index"]["source"]))
        for sk in self.meta.get("skipped", []):
            head = "未核算指标" if lang == "zh" else "Skipped indicator"
            s.bullets.append(f"{head} {indicator_name(sk['indicator'], lang)}: {sk['reason']}")
        synthetic = [k.replace("layer:", "") for k, v in self.meta.get("inputs", {}).items() if v.get("synthetic")]
        if synthetic:
            head = "合成或估算的输入数据：" if lang == "zh" else "Synthetic or estimated inputs: "
            s.bullets.append(head + ", ".join(synthetic))
        stats = self.meta.get("statistics", [])
        n_syn = sum(1 for r in stats if r.get("synthetic"))
        if n_syn:
            s.bullets.append(f"{n_syn}/{len(stats)} " + ("条统计数据为估算值" if lang == "zh" else
                                                         "statistics figures are estimates"))
        s.bullets += [str(n) for n in self.meta.get("notes", [])]
        return s


def build_report(series: list[Accounts], lang: str = "zh", density_png: bytes | None = None) -> Report:
    """The report of the latest accounts in `series` (earlier years feed the comparison across years)."""
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    b = _Builder(series, lang)
    meta = b.meta
    region = meta["region"]["name"] if lang == "zh" else meta["region"]["name_en"]
    method = meta["method"]["name_zh"] if lang == "zh" else meta["method"]["name_en"]
    sections = [b.summary(), b.overview(), b.method(), b.quantities(), b.values(), b.levels_section()]
    years = b.years()
    if years is not None:
        sections.append(years)
    sections += [b.maps(density_png), b.parameters()]
    spread = b.uncertainty()
    if spread is not None:
        sections.append(spread)
    sections.append(b.caveats())
    for n, section in enumerate(sections, start=1):  # numbered as present: no gap when a section is absent
        section.title = numbered(n, section.title, lang)
    return Report(
        lang=lang,
        title=t("title", lang, region=region, year=meta["year"]),
        subtitle=t("subtitle", lang, method=method, price_year=meta["price_year"], version=gep.__version__),
        key_figures=b.key_figures(),
        sections=sections,
        accounts=b.acc,
    )
