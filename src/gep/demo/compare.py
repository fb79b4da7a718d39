"""Compare the demo's accounts with Lishui's published GEP (2018: 5,024.47 亿元, regulating 72.83 %).

The comparison is reported, never used to tune anything: the demo's land cover, climate rasters and most
statistics are synthetic, its year is 2019 and its method is this project's reading of the standards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gep.accounting.accounts import Accounts

DATA = Path(__file__).parent / "data" / "lishui_statistics.csv"


def published_gep() -> dict[str, Any]:
    """Lishui's published 2018 GEP and regulating-service value (亿元), with their sources."""
    table = pd.read_csv(DATA, dtype={"adcode": str})
    city = table[(table["scope"] == "city") & (table["year"] == 2018)].set_index("indicator")
    return {
        "year": 2018,
        "gep_yi": float(city.loc["gep", "value"]),
        "regulating_yi": float(city.loc["gep_regulating_services", "value"]),
        "source": str(city.loc["gep", "source_title"]),
        "source_url": str(city.loc["gep", "source_url"]),
    }


def compare_with_published(accounts: Accounts) -> dict[str, Any]:
    """The demo's city GEP and regulating share beside the published 2018 figures."""
    pub = published_gep()
    top = accounts.table[accounts.table["level"] == "city"]
    by_cat = top.groupby("category")["value_yuan"].sum() / 1e8
    gep = float(by_cat.sum())
    regulating = float(by_cat.get("regulating", 0.0))
    ratio = gep / pub["gep_yi"]
    share_pub = 100 * pub["regulating_yi"] / pub["gep_yi"]
    share_demo = 100 * regulating / gep if gep else 0.0
    caveat_en = ("The demo uses synthetic land cover, climate rasters and mostly estimated statistics, accounts "
                 f"{accounts.metadata['year']} rather than 2018, at {accounts.metadata['price_year']} prices, with "
                 f"method {accounts.metadata['method']['id']}; the published figure comes from the official "
                 "accounting (CAS RCEES), whose inputs and parameters are not public. Nothing was tuned to match.")
    text_en = (f"Demo GEP {gep:,.2f} 亿元 ({accounts.metadata['year']}) vs published {pub['gep_yi']:,.2f} 亿元 "
               f"(2018): ratio {ratio:.2f}. Regulating services {share_demo:.1f} % vs published {share_pub:.2f} %. "
               + caveat_en)
    text_zh = (f"演示核算 GEP {gep:,.2f} 亿元（{accounts.metadata['year']} 年），公开发布值 {pub['gep_yi']:,.2f} 亿元"
               f"（2018 年），比值 {ratio:.2f}；调节服务占比 {share_demo:.1f}%，公开值 {share_pub:.2f}%。"
               "演示数据中的土地覆被、气候栅格和多数统计数据为合成或估算值，年份与方法参数亦不同，结果未做任何拟合调整。")
    return {
        "published": pub,
        "demo": {"year": accounts.metadata["year"], "gep_yi": gep, "regulating_yi": regulating,
                 "by_category_yi": {k: float(v) for k, v in by_cat.items()}},
        "ratio_gep": ratio,
        "regulating_share_pct": {"demo": share_demo, "published": share_pub},
        "text_en": text_en,
        "text_zh": text_zh,
    }
