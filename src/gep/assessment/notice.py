"""The notice of a reward round (奖补资金下达通知, PDF in Chinese or English): the policy and its source, the
budget and what was paid, and every zone with its basis, the amount it would get and the amount paid; in the
style of the accounting report."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from gep.report.model import Report, Section, Table
from gep.report.pdf import render_pdf

BASIS = {"gep_increment": ("GEP增量（可比价，元）", "GEP increment (constant prices, yuan)"),
         "regulating_value": ("调节服务价值（元）", "Regulating-service value (yuan)"),
         "assessment_rank": ("考评排名", "Assessment rank")}


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:,.2f}"


def build(view: dict[str, Any], region_name: str, lang: str) -> Report:
    zh = lang == "zh"
    p = view["policy"]
    name = p["name_zh"] if zh else p["name_en"]
    status = ("已批准下达" if zh else "approved") if view["status"] == "approved" else ("草案" if zh else "draft")
    facts = [("奖补资金合计（元）" if zh else "Paid in all (yuan)", _yuan(view["total_fen"])),
             ("预算（元）" if zh else "Budget (yuan)", _yuan(view["budget_fen"])),
             ("获奖补单位" if zh else "Zones rewarded", str(view["rewarded"]))]
    s1 = Section("policy", "一、政策依据" if zh else "1. The policy")
    s1.add(f"{name}（{p['version']}）" if zh else f"{name} ({p['version']})", p["source"])
    rate = f"{float(p['rate']) * 100:g}%"
    if p["basis"] == "assessment_rank":
        s1.add("按已发布的综合考评排名给予定额奖励。" if zh else "Fixed amounts by rank in the published assessment.")
    else:
        s1.add((f"奖补金额 = {rate} × 核算依据，单个单位不低于 {_yuan(p['floor_fen'])} 元、不高于 "
                f"{_yuan(p['cap_fen'])} 元；合计超出预算时按比例核减，分位余数按余额大小依次补足，合计恰为预算。")
               if zh else
               (f"Amount = {rate} × the basis, at least {_yuan(p['floor_fen'])} and at most {_yuan(p['cap_fen'])} "
                "yuan a zone; when the amounts exceed the budget each is cut in proportion and the fen left over go "
                "to the largest remainders, so the total is the budget exactly."))
    if view["binding"]:
        s1.add((f"本轮申请合计 {_yuan(view['wanted_fen'])} 元，超出预算，已按比例核减。") if zh else
               (f"The amounts came to {_yuan(view['wanted_fen'])} yuan, above the budget: they were cut in "
                "proportion."))
    s2 = Section("zones", "二、奖补明细" if zh else "2. The rewards")
    basis = BASIS[p["basis"]][0 if zh else 1]
    rows = [[z["code"], z["name"] + (f"（{z['parent']}）" if z.get("parent") else ""),
             z["rank"] if p["basis"] == "assessment_rank" else
             ("—" if z["basis_yuan"] is None else f"{z['basis_yuan']:,.2f}"),
             _yuan(z["wanted_fen"]), _yuan(z["paid_fen"])] for z in view["zones"]]
    rows.append(["", "合计" if zh else "Total", "", _yuan(view["wanted_fen"]), _yuan(view["total_fen"])])
    s2.add(Table("zones", f"{region_name} {view['year']}",
                 ["代码" if zh else "Code", "单位" if zh else "Zone", basis,
                  "核定金额（元）" if zh else "Amount (yuan)", "下达金额（元）" if zh else "Paid (yuan)"],
                 rows, numeric=(2, 3, 4)))
    sections = [s1, s2]
    if view["synthetic"]:
        s3 = Section("note", "三、说明" if zh else "3. Note")
        s3.add("本轮依据演示用合成数据计算，不是真实的奖补。" if zh else
               "This round is computed from synthetic demonstration data; it is not a real payment.")
        sections.append(s3)
    title = "生态产品价值实现奖补资金下达通知" if zh else "Notice of ecological value-realization rewards"
    return Report(lang, title, f"{region_name} · {view['year']} · {name} · {status}", facts, sections)


def pdf(view: dict[str, Any], region_name: str, lang: str) -> bytes:
    report = build(view, region_name, lang)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "notice.pdf"
        render_pdf(report, path)
        return path.read_bytes()
