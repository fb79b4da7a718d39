"""The tenure audit's report (PDF, Chinese or English), in the style of the accounting report: the zone and the
term, GEP by category and indicator at both ends at constant prices with the changes, the indicators that fell,
the physical quantities, the ecosystem areas, the protected areas, and the events of the term."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from gep.accounting.catalogue import ECOSYSTEMS
from gep.accounting.indicators import REGISTRY
from gep.report.model import Report, Section, Table
from gep.report.pdf import render_pdf

CATS = {"gep": ("GEP", "GEP"), "material": ("物质产品", "Material products"),
        "regulating": ("调节服务", "Regulating services"), "cultural": ("文化服务", "Cultural services")}
EVENTS = {"settlement": ("流域补偿结算", "Watershed settlement"), "damage": ("生态损害案件", "Damage case"),
          "project": ("项目准入审查", "Project check"), "reward": ("生态奖补", "Reward paid"),
          "registry": ("产权登记事项（件）", "Registry events (count)")}


def name(key: str, lang: str) -> str:
    """A category, an indicator, or an indicator:sub of the accounts, in the reader's words."""
    zh = lang == "zh"
    if key in CATS:
        return CATS[key][0 if zh else 1]
    ind, _, sub = key.partition(":")
    spec = REGISTRY[ind].SPEC if ind in REGISTRY else None
    base = (spec.name_zh if zh else spec.name_en) if spec else ind
    return f"{base} · {sub}" if sub else base


def _whole(yuan: float) -> str:
    return "0" if abs(yuan) < 0.5 else f"{yuan:,.0f}"


def _yi(yuan: float) -> str:
    return f"{yuan / 1e8:,.4f}"


def build(view: dict[str, Any], lang: str) -> Report:
    zh = lang == "zh"
    z, start, end = view["zone"], view["start"], view["end"]
    total = next(g for g in view["gep"] if g["key"] == "gep")
    facts = [("任期" if zh else "Term", f"{view['started_on']} – {view['ended_on']}"),
             (f"GEP {start['year']}（亿元）" if zh else f"GEP {start['year']} (100 M yuan)", _yi(total["start_yuan"])),
             (f"GEP {end['year']}（亿元）" if zh else f"GEP {end['year']} (100 M yuan)", _yi(total["end_yuan"]))]
    s1 = Section("scope", "一、审计范围" if zh else "1. Scope")
    s1.add(("被审计对象：" if zh else "Audited: ") + (view["leader"] or "—"),
           (f"{z['name']}（{z['code']}），任期 {view['started_on']} 至 {view['ended_on']}；比较 {start['year']} 年与 "
            f"{end['year']} 年的核算结果，均按 {view['price_year']} 年价格（可比价）。") if zh else
           (f"{z['name']} ({z['code']}), term {view['started_on']} to {view['ended_on']}; the accounts of "
            f"{start['year']} and {end['year']} compared at {view['price_year']} prices (constant prices)."),
           ("核算方法：" if zh else "Method: ") + view["method"])
    s2 = Section("gep", "二、生态系统生产总值变化" if zh else "2. GEP over the term")
    head = ["项目" if zh else "Item", str(start["year"]), str(end["year"]), "变化" if zh else "Change",
            "变化率" if zh else "Change %"]
    s2.add(Table("gep", "（元）" if zh else "(yuan)", head,
                 [[name(g["key"], lang), _whole(g["start_yuan"]), _whole(g["end_yuan"]), _whole(g["change_yuan"]),
                   "—" if g["change_pct"] is None else f"{g['change_pct']:+.2f}%"] for g in view["gep"]],
                 numeric=(1, 2, 3, 4)))
    fell = [name(k, lang) for k in view["fell"]]
    s2.add(("下降的核算指标：" + "、".join(fell) + "。") if zh and fell else
           ("Indicators that fell: " + ", ".join(fell) + ".") if fell else
           ("没有下降的核算指标。" if zh else "No indicator fell."))
    s3 = Section("assets", "三、自然资源资产" if zh else "3. Natural-resource assets")
    if view["ecosystems"]:
        s3.add(Table("ecosystems", "生态系统面积（平方公里）" if zh else "Ecosystem areas (km²)",
                     ["生态系统" if zh else "Ecosystem", str(start["year"]), str(end["year"]),
                      "变化" if zh else "Change"],
                     [[(ECOSYSTEMS[e["ecosystem"]].name_zh if zh else ECOSYSTEMS[e["ecosystem"]].name_en)
                       if e["ecosystem"] in ECOSYSTEMS else e["ecosystem"], f"{e['start_km2']:,.2f}",
                       f"{e['end_km2']:,.2f}", f"{e['change_km2']:+,.2f}"] for e in view["ecosystems"]],
                     numeric=(1, 2, 3)))
    s3.add(Table("quantities", "生态系统服务实物量" if zh else "Physical quantities of the services",
                 ["指标" if zh else "Quantity", "单位" if zh else "Unit", str(start["year"]), str(end["year"])],
                 [[name(q["key"], lang), q["unit"], f"{q['start']:,.2f}", f"{q['end']:,.2f}"]
                  for q in view["quantities"] if q["start"] or q["end"]], numeric=(2, 3)))
    stock = view.get("forest_stock_m3")
    if stock:
        s3.add(("森林蓄积量（万立方米）：" if zh else "Standing forest stock (10,000 m³): ")
               + " → ".join("—" if v is None else f"{v / 1e4:,.2f}" for v in stock)
               + (f"（{start['year']} → {end['year']}）" if zh else f" ({start['year']} → {end['year']})"))
    else:
        s3.add("统计资料中没有该单元的森林蓄积量。" if zh else "The statistics give no forest stock for this zone.")
    protected = view["protected"]
    s3.add(Table("protected", "保护地（负面清单所列区域）" if zh else "Protected areas (listed areas)",
                 ["名称" if zh else "Name", "类型" if zh else "Kind", "面积（公顷）" if zh else "Area (ha)"],
                 [[p["name"], p["kind"], f"{p['area_ha']:,.2f}"] for p in protected] or [["—", "", ""]],
                 numeric=(2,)))
    s4 = Section("events", "四、任期内事项" if zh else "4. Events of the term")
    s4.add(Table("events", "", ["日期" if zh else "Date", "类型" if zh else "Kind", "编号" if zh else "Ref",
                                "说明" if zh else "What", "金额（元）" if zh else "Amount (yuan)"],
                 [[e["date"], EVENTS.get(e["kind"], (e["kind"], e["kind"]))[0 if zh else 1], e["ref"], e["text"],
                   "" if e["net_fen"] is None else f"{e['net_fen'] / 100:,.2f}"] for e in view["events"]]
                 or [["—", "", "", "", ""]], numeric=(4,)))
    sections = [s1, s2, s3, s4]
    if view["synthetic"]:
        s5 = Section("note", "五、说明" if zh else "5. Note")
        s5.add("本审计依据演示用合成数据，不是真实审计。" if zh else
               "This audit is computed from synthetic demonstration data; it is not a real audit.")
        sections.append(s5)
    title = "领导干部自然资源资产离任审计报告（GEP）" if zh else "Tenure audit of natural-resource assets and GEP"
    return Report(lang, title, f"{view['code']} · {z['name']}", facts, sections)


def pdf(view: dict[str, Any], lang: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.pdf"
        render_pdf(build(view, lang), path)
        return path.read_bytes()
