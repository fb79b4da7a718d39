"""The web UI's words in Chinese (default) and English."""

from __future__ import annotations

from fastapi import Request

UI: dict[str, dict[str, str]] = {
    "app": {"zh": "丽水模式 · 生态产品价值实现平台", "en": "Ecological product value realization platform"},
    "dashboard": {"zh": "GEP 驾驶舱", "en": "GEP dashboard"},
    "runs": {"zh": "一键核算", "en": "Accounting runs"},
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出", "en": "Log out"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong username or password"},
    "region": {"zh": "区域", "en": "Region"},
    "year": {"zh": "年份", "en": "Year"},
    "metric": {"zh": "着色指标", "en": "Colour by"},
    "gep": {"zh": "GEP 总值", "en": "GEP"},
    "gep_per_km2": {"zh": "单位面积 GEP", "en": "GEP per km²"},
    "material": {"zh": "物质产品", "en": "Material products"},
    "regulating": {"zh": "调节服务", "en": "Regulating services"},
    "cultural": {"zh": "文化服务", "en": "Cultural services"},
    "indicator": {"zh": "核算指标", "en": "Indicator"},
    "value": {"zh": "价值量", "en": "Value"},
    "share": {"zh": "占比", "en": "Share"},
    "quantity": {"zh": "功能量", "en": "Quantity"},
    "trend": {"zh": "年度变化与 GDP 对比", "en": "Trend and GDP"},
    "composition": {"zh": "GEP 构成", "en": "Composition"},
    "area": {"zh": "面积", "en": "Area"},
    "gdp": {"zh": "GDP", "en": "GDP"},
    "gep_gdp": {"zh": "GEP/GDP", "en": "GEP/GDP"},
    "no_gdp": {"zh": "无 GDP 统计", "en": "no GDP figure"},
    "no_accounts": {"zh": "尚无核算结果：请先启动一次核算。", "en": "No accounts yet: start an accounting run first."},
    "start_run": {"zh": "开始核算", "en": "Start accounting"},
    "method": {"zh": "核算方法", "en": "Method"},
    "price_year": {"zh": "价格基准年", "en": "Price year"},
    "status": {"zh": "状态", "en": "Status"},
    "progress": {"zh": "进度", "en": "Progress"},
    "report": {"zh": "核算报告", "en": "Report"},
    "started": {"zh": "开始时间", "en": "Started"},
    "queued": {"zh": "排队中", "en": "queued"},
    "running": {"zh": "运行中", "en": "running"},
    "succeeded": {"zh": "已完成", "en": "finished"},
    "failed": {"zh": "失败", "en": "failed"},
    "click_hint": {"zh": "点击地图上的区域逐级下钻（市 → 县 → 乡镇 → 村）", "en": "Click a zone on the map to drill down (city → county → township → village)"},
    "yi": {"zh": "亿元", "en": "100 M yuan"},
    "wan": {"zh": "万元", "en": "10 k yuan"},
    "level_word": {"zh": "级", "en": "level"},
    "go_runs": {"zh": "前往一键核算", "en": "Go to accounting runs"},
    "region_default": {"zh": "区域默认方法", "en": "region's default"},
    "same_as_year": {"zh": "同核算年份", "en": "same as the year"},
    "wan_per_km2": {"zh": "万元/km²", "en": "10k yuan/km²"},
    "level_city": {"zh": "市", "en": "city"},
    "level_county": {"zh": "县", "en": "county"},
    "level_township": {"zh": "乡镇", "en": "township"},
    "level_village": {"zh": "村", "en": "village"},
    "synthetic_note": {"zh": "演示数据：土地覆被、气候栅格与多数统计为合成或估算值，仅用于演示。", "en": "Demo data: land cover, climate rasters and most statistics are synthetic or estimated."},
    "run_open": {"zh": "查看", "en": "open"},
    "api_docs": {"zh": "API 文档", "en": "API docs"},
}


def lang_of(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    return lang if lang in ("zh", "en") else "zh"


def words(lang: str) -> dict[str, str]:
    return {k: v[lang] for k, v in UI.items()}
