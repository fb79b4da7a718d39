"""The claim report of a damage case (PDF, Chinese or English): the case, a map of the damaged area over the value
density, the losses by category and indicator, the loss year by year over the recovery period, other items,
the method and its parameters, and the two remedies (restoration, or buying and retiring carbon sinks)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
from shapely.geometry import box, shape

from gep.accounting.catalogue import ECOSYSTEM_GROUPS, ECOSYSTEMS
from gep.accounting.indicators import REGISTRY
from gep.compensation.damage import window_of
from gep.report.figures import damage_map
from gep.report.model import Figure, Report, Section, Table
from gep.report.pdf import render_pdf

W: dict[str, dict[str, str]] = {
    "title": {"zh": "生态环境损害价值评估报告（基于GEP）", "en": "Ecological damage valuation report (by GEP)"},
    "case": {"zh": "一、案件概况", "en": "1. The case"},
    "map": {"zh": "二、受损区域", "en": "2. The damaged area"},
    "map_title": {"zh": "受损区域（红线）与周边单位面积GEP",
                  "en": "The damaged area (red) over the GEP per hectare around it"},
    "loss": {"zh": "三、各项生态系统服务的年损失", "en": "3. Yearly loss by service"},
    "by_cat": {"zh": "按服务类别（元/年）", "en": "By category (yuan a year)"},
    "by_ind": {"zh": "按核算指标（元/年）", "en": "By indicator (yuan a year)"},
    "period": {"zh": "四、恢复期内的损失", "en": "4. Loss over the recovery period"},
    "items": {"zh": "五、其他损失", "en": "5. Other losses"},
    "method": {"zh": "六、方法与参数", "en": "6. Method and parameters"},
    "remedy": {"zh": "七、赔偿方式", "en": "7. Remedies"},
    "synthetic": {"zh": "本案例为演示用合成数据。", "en": "This case is synthetic demonstration data."},
}
CATS = {"material": ("物质产品", "Material products"), "regulating": ("调节服务", "Regulating services"),
        "cultural": ("文化服务", "Cultural services")}
PATHS = {"step": ("恢复期内全额损失", "full loss until recovered"), "linear": ("线性恢复", "linear recovery"),
         "curve": ("按恢复曲线", "along a recovery curve")}


def _w(key: str, lang: str) -> str:
    return W[key][lang]


def _yuan(v: float | str) -> str:
    return f"{float(v):,.2f}"


def _eco(name: str, lang: str) -> str:
    if name in ECOSYSTEMS:
        e = ECOSYSTEMS[name]
        return e.name_zh if lang == "zh" else e.name_en
    zh, en = ECOSYSTEM_GROUPS.get(name, (name, name))
    return zh if lang == "zh" else en


def band_name(band: str, lang: str) -> str:
    """An indicator:sub band as a reader says it."""
    ind, _, sub = band.partition(":")
    spec = REGISTRY[ind].SPEC if ind in REGISTRY else None
    if spec is None:
        return band
    for out in spec.outputs:
        if out.id == sub:
            name = out.name_zh if lang == "zh" else out.name_en
            top = spec.name_zh if lang == "zh" else spec.name_en
            return name if name == top else f"{top} · {name}"
    return spec.name_zh if lang == "zh" else spec.name_en


def build(case: dict[str, Any], lang: str, density: Path | None, crs: Any) -> Report:
    zh = lang == "zh"
    r = case["result"]
    facts = [
        ("案件编号" if zh else "Case", case["code"]),
        ("案件名称" if zh else "Title", case["title"]),
        ("责任方" if zh else "Responsible party", case["responsible"] or "—"),
        ("损害发生日期" if zh else "Date of the damage", case["occurred_on"]),
        ("生态系统变化" if zh else "Ecosystem change",
         f"{_eco(case['from_ecosystem'], lang)} → {_eco(case['to_ecosystem'], lang)}"),
        ("受损面积" if zh else "Area changed", f"{r['changed_ha']:,.2f} ha"),
        ("恢复期" if zh else "Recovery period",
         f"{case['recovery_years']} {'年' if zh else 'years'}, {PATHS[case['path']][0 if zh else 1]}"),
        ("贴现率" if zh else "Discount rate", f"{float(case['discount_rate']) * 100:.2f} %"),
        ("价格基准年" if zh else "Price year", str(case["price_year"])),
        ("索赔金额（元）" if zh else "Claim (yuan)", _yuan(case["total_fen"] / 100)),
    ]
    sections = []
    s = Section("case", _w("case", lang))
    if case.get("synthetic"):
        s.add(_w("synthetic", lang))
    s.add(Table("case", "案件要素" if zh else "Facts", ["项目" if zh else "Item", "内容" if zh else "Value"],
                [list(f) for f in facts]))
    sections.append(s)
    png = _map(case, density, crs, lang) if density is not None else None
    if png:
        s = Section("maps", _w("map", lang))  # "maps" starts a new page in the PDF
        s.add(Figure("map", _w("map_title", lang), png))
        sections.append(s)
    s = Section("loss", _w("loss", lang))
    cols = ["服务" if zh else "Service", "损害前" if zh else "Before", "损害后" if zh else "After",
            "年损失" if zh else "Yearly loss"]
    s.add(Table("categories", _w("by_cat", lang), cols,
                [[CATS[c["category"]][0 if zh else 1], _yuan(c["before_yuan"]), _yuan(c["after_yuan"]),
                  _yuan(c["loss_yuan"])] for c in r["categories"]], numeric=(1, 2, 3)))
    if r["indicators"]:
        s.add(Table("indicators", _w("by_ind", lang), cols,
                    [[band_name(i["band"], lang), _yuan(i["before_yuan"]), _yuan(i["after_yuan"]),
                      _yuan(i["loss_yuan"])] for i in r["indicators"]
                     if abs(i["before_yuan"]) + abs(i["after_yuan"]) > 0],
                    numeric=(1, 2, 3)))
    sections.append(s)
    s = Section("period", _w("period", lang))
    s.add(Table("schedule", "逐年损失（元）" if zh else "Year by year (yuan)",
                ["年" if zh else "Year", "未恢复比例" if zh else "Unrecovered share", "损失" if zh else "Loss",
                 "贴现系数" if zh else "Discount factor", "现值" if zh else "Present value"],
                [[y["year"], f"{y['share']:.4f}", _yuan(y["loss_yuan"]), f"{y['factor']:.6f}",
                  _yuan(y["present_yuan"])] for y in r["schedule"]]
                + [["合计" if zh else "Total", "", _yuan(sum(y["loss_yuan"] for y in r["schedule"])), "",
                    _yuan(r["pixel_loss_yuan"])]], numeric=(1, 2, 3, 4)))
    sections.append(s)
    if r["items"]:
        s = Section("items", _w("items", lang))
        s.add(Table("items", "其他损失（元）" if zh else "Other losses (yuan)",
                    ["项目" if zh else "Item", "金额" if zh else "Amount", "来源" if zh else "Source"],
                    [[i["name"], _yuan(i["yuan"]), i["source"]] for i in r["items"]], numeric=(1,)))
        sections.append(s)
    s = Section("method", _w("method", lang))
    s.add(*_method(case, lang))
    sections.append(s)
    s = Section("remedy", _w("remedy", lang))
    s.add(*_remedies(case, lang))
    sections.append(s)
    title = _w("title", lang)
    return Report(lang, title, f"{case['code']} · {case['title']}", facts[-1:] + facts[3:5], sections)


def _method(case: dict[str, Any], lang: str) -> list[str]:
    r = case["result"]
    zh = lang == "zh"
    ref = r.get("reference_zone_name") or r["reference_zone"] or ("全区域" if zh else "the whole region")
    if zh:
        return [
            f"损害前价值：受损范围内生态系统类型为“{_eco(case['from_ecosystem'], lang)}”的 {r['changed_pixels']} 个像元"
            f"（像元中心落在范围内，每个 {r['pixel_ha']:.4f} ha）在核算运行 {r['run_id']}"
            f"（{r['accounts_year']} 年，方法 {r['method']}）价值密度栅格中的逐像元价值之和。",
            f"损害后价值：同样面积按“{_eco(case['to_ecosystem'], lang)}”在参照区域 {ref} 内 "
            f"{r['reference_pixels']} 个像元的平均单位面积价值计。",
            "年损失 = 损害前 − 损害后；第 t 年损失 = 年损失 × 当年平均未恢复比例；"
            "现值 = 第 t 年损失 ÷ (1 + 贴现率)^t。",
            f"价格：核算价格基准年 {r['run_price_year']}，折算到 {r['price_year']} 年"
            f"（系数 {r['price_factor']:.4f}）。",
            "以统计数据核算的服务（产品产值、旅游等）不随土地覆被变化，如受影响，作为其他损失单列并注明来源。",
        ]
    return [
        f"Before: the sum of the value density of the {r['changed_pixels']} pixels of "
        f"“{_eco(case['from_ecosystem'], lang)}” whose centres lie in the area ({r['pixel_ha']:.4f} ha each), from "
        f"accounting run {r['run_id']} ({r['accounts_year']}, method {r['method']}).",
        f"After: the same area valued at the mean value density of “{_eco(case['to_ecosystem'], lang)}” over "
        f"{r['reference_pixels']} pixels of the reference zone {ref}.",
        "Yearly loss = before − after; loss of year t = yearly loss × the share unrecovered on average that year; "
        "present value = loss of year t ÷ (1 + discount rate)^t.",
        f"Prices: the accounts' price year {r['run_price_year']}, expressed at {r['price_year']} (factor "
        f"{r['price_factor']:.4f}).",
        "Services accounted from statistics (output values, tourism) do not change with land cover; where they are "
        "affected they are listed as other losses with their source.",
    ]


def _remedies(case: dict[str, Any], lang: str) -> list[str]:
    zh = lang == "zh"
    total = case["total_fen"] / 100
    tonnes = case["result"].get("carbon_tonnes")
    price = case["carbon_price_fen"] / 100
    retired = sum(int(x.get("quantity", 0)) for x in case.get("retirements", []))
    if zh:
        out = [f"方式一：生态修复。责任方出资 {_yuan(total)} 元用于受损区域的生态保护修复。"]
        if tonnes is not None:
            out.append(f"方式二：购买林业碳汇。按参考价 {_yuan(price)} 元/吨，需认购并注销 {tonnes:,} 吨碳汇，"
                       "注销用途为"
                       f"“司法修复”，注销说明写明案件编号 {case['code']}。已注销：{retired:,} 吨。")
        return out
    out = [f"Option 1, restoration: the responsible party pays {_yuan(total)} yuan into the restoration of the "
           "damaged area."]
    if tonnes is not None:
        out.append(f"Option 2, carbon sinks: at the reference price of {_yuan(price)} yuan/t, buy and retire "
                   f"{tonnes:,} t of forestry carbon for judicial restoration, naming case {case['code']} in the "
                   f"retirement's detail. Retired so far: {retired:,} t.")
    return out


def _map(case: dict[str, Any], density: Path, crs: Any, lang: str) -> bytes | None:
    geom = gpd.GeoSeries([shape(case["geometry"])], crs="EPSG:4326").to_crs(crs).iloc[0]
    with rasterio.open(density) as src:
        minx, miny, maxx, maxy = geom.bounds
        pad = max(maxx - minx, maxy - miny, 20 * abs(src.transform.a))
        window = window_of(src, box(minx - pad, miny - pad, maxx + pad, maxy + pad))
        data = src.read(1, window=window).astype(np.float64)
        t = src.window_transform(window)
    extent = (t.c, t.c + t.a * data.shape[1], t.f + t.e * data.shape[0], t.f)
    polys = list(getattr(geom, "geoms", [geom]))
    outlines = [np.asarray(p.exterior.coords) for p in polys]
    return damage_map(data, extent, outlines, lang)


def pdf(case: dict[str, Any], lang: str, density: Path | None, crs: Any) -> bytes:
    report = build(case, lang, density, crs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claim.pdf"
        render_pdf(report, path)
        return path.read_bytes()
