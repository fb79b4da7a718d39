"""The one-click report: its figures equal the accounts, every section is there, Chinese renders in the PDF."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import Demo
from gep.accounting.accounts import read_accounts
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.cli import app
from gep.report import write_report
from gep.report.fonts import plain
from gep.report.model import build_report
from gep.testing import TinyRegion

SECTIONS = ["summary", "overview", "method", "quantities", "values", "levels", "maps", "parameters", "caveats"]


@pytest.fixture(scope="module")
def demo_accounts(demo_accounts_only: Demo) -> Path:
    """The demo command's accounts, with the report it wrote in zh and en in all three formats."""
    return demo_accounts_only.accounts


def number(text: str) -> float:
    return float(str(text).replace(",", "").rstrip("%"))


@pytest.mark.slow  # the demo build the report is read from takes about 30 s
def test_demo_writes_all_formats_in_both_languages(demo_accounts: Path) -> None:
    names = {p.name for p in (demo_accounts / "report").iterdir()}
    for lang in ("zh", "en"):
        for fmt in ("pdf", "html", "xlsx"):
            assert f"gep_report_lishui_2019_{lang}.{fmt}" in names


@pytest.mark.slow  # the demo build the report is read from takes about 30 s
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_tables_equal_the_accounts(demo_accounts: Path, lang: str) -> None:
    accounts = read_accounts(demo_accounts)
    report = build_report([accounts], lang)
    scale = 1e8 if lang == "zh" else 1e9
    table = accounts.table
    city = table[table.level == "city"]
    assert [s.id for s in report.sections] == SECTIONS
    tables = {tb.id: tb for tb in report.all_tables()}
    # the value table: every indicator row and every category subtotal
    by_ind = city.groupby("indicator")["value_yuan"].sum()
    by_cat = city.groupby("category")["value_yuan"].sum()
    rows = tables["composition"].rows
    indicator_rows = [r for r in rows if r[1]]
    assert len(indicator_rows) == city["indicator"].nunique()
    for r, ind in zip(indicator_rows, city.drop_duplicates("indicator")["indicator"], strict=True):
        assert number(r[2]) == pytest.approx(by_ind[ind] / scale, abs=0.005)
    gep_row = rows[-1]
    assert number(gep_row[2]) == pytest.approx(city["value_yuan"].sum() / scale, abs=0.005)
    for r in tables["categories"].rows[:3]:
        cat = {"物质产品": "material", "调节服务": "regulating", "文化服务": "cultural", "Material products":
               "material", "Regulating services": "regulating", "Cultural services": "cultural"}[r[0]]
        assert number(r[1]) == pytest.approx(by_cat[cat] / scale, abs=0.005)
    # every county row: each category and the total
    counties = table[table.level == "county"].pivot_table(index="zone_code", columns="category",
                                                          values="value_yuan", aggfunc="sum")
    assert len(tables["county-all"].rows) == 9
    for r in tables["county-all"].rows:
        code = r[2]
        for col, cat in zip((4, 5, 6), ("material", "regulating", "cultural"), strict=True):
            assert number(r[col]) == pytest.approx(counties.loc[code, cat] / scale, abs=0.005)
        assert number(r[7]) == pytest.approx(counties.loc[code].sum() / scale, abs=0.005)
    # the physical quantities: one row per sub-indicator
    assert len(tables["quantities"].rows) == len(city.drop_duplicates(["indicator", "sub_indicator"]))
    # top villages are sorted and are the largest
    villages = table[table.level == "village"].groupby("zone_code")["value_yuan"].sum().sort_values(ascending=False)
    top = tables["village-top"].rows
    assert [r[2] for r in top] == list(villages.index[:10])


@pytest.mark.slow  # the demo build the report is read from takes about 30 s
def test_key_figures(demo_accounts: Path) -> None:
    accounts = read_accounts(demo_accounts)
    report = build_report([accounts], "zh")
    figures = dict(report.key_figures)
    gep = accounts.table[accounts.table.level == "city"]["value_yuan"].sum()
    assert figures["GEP 总值"] == f"{gep / 1e8:,.2f} 亿元"
    area = accounts.zones[accounts.zones.level == "city"]["area_km2"].iloc[0]
    assert number(figures["单位面积 GEP"].split()[0]) == pytest.approx(gep / area / 1e4, abs=0.01)
    assert figures["人均 GEP"].startswith("无数据")  # the demo has no 2019 population figure


def _font_dicts(pdf: PdfReader) -> list:
    found = {}
    for page in pdf.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            found[id(font)] = font
    return list(found.values())


def _to_unicode(font: object) -> set[str]:
    """Characters the font's ToUnicode CMap maps a glyph to (bfchar and bfrange entries)."""
    data = font["/ToUnicode"].get_object().get_data().decode("latin-1")  # type: ignore[index]
    chars: set[str] = set()
    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for _cid, uni in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            chars.add(bytes.fromhex(uni).decode("utf-16-be"))
    for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, start in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int(start, 16)
            chars.update(chr(first + i) for i in range(int(hi, 16) - int(lo, 16) + 1))
    return chars


def _glyph_count(font: object) -> int:
    from fontTools.cffLib import CFFFontSet

    desc = font["/DescendantFonts"][0].get_object()  # type: ignore[index]
    descriptor = desc["/FontDescriptor"].get_object()
    data = descriptor["/FontFile3"].get_object().get_data()
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(data), None)
    return len(cff[cff.fontNames[0]].CharStrings)


@pytest.mark.slow  # the demo build the report is read from takes about 30 s
def test_pdf_embeds_a_font_with_every_cjk_glyph(demo_accounts: Path) -> None:
    reader = PdfReader(demo_accounts / "report" / "gep_report_lishui_2019_zh.pdf")
    assert len(reader.pages) >= 8
    fonts = _font_dicts(reader)
    assert len(fonts) == 1 and "NotoSansCJK" in str(fonts[0]["/BaseFont"])
    mapped = _to_unicode(fonts[0])
    report = build_report([read_accounts(demo_accounts)], "zh")
    used = {ch for ch in plain(report.text()) if ord(ch) > 0x2E80}
    assert len(used) > 200
    missing = sorted(used - mapped)
    assert not missing, f"CJK characters without a glyph in the embedded font: {missing[:20]}"
    assert _glyph_count(fonts[0]) >= len(mapped)  # the subset holds a glyph for every mapped character
    first_page = re.sub(r"[\s\x00]+", "", reader.pages[0].extract_text())
    assert "丽水市2019年生态系统生产总值(GEP)核算报告" in first_page


@pytest.mark.slow  # the demo build the report is read from takes about 30 s
def test_pdf_rendering_reports_no_missing_glyph(demo_accounts: Path, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from gep.report.pdf import render_pdf

    caplog.set_level("WARNING")
    render_pdf(build_report([read_accounts(demo_accounts)], "zh"), tmp_path / "r.pdf")
    assert not [r for r in caplog.records if "missing" in r.getMessage()], caplog.text


@pytest.mark.slow  # the demo build the report is read from takes about 30 s
def test_html_is_self_contained(demo_accounts: Path) -> None:
    html = (demo_accounts / "report" / "gep_report_lishui_2019_zh.html").read_text(encoding="utf-8")
    assert re.search(r"""(src|href)=["']https?://""", html) is None
    assert "@font-face" in html and "font/woff2;base64," in html
    for sid in SECTIONS:
        assert f'id="{sid}"' in html
    assert html.count("data:image/png;base64,") >= 5


@pytest.mark.slow  # the demo build the report is read from takes about 30 s
def test_xlsx_has_one_sheet_per_table_with_chinese_headers(demo_accounts: Path) -> None:
    book = pd.read_excel(demo_accounts / "report" / "gep_report_lishui_2019_zh.xlsx", sheet_name=None)
    report = build_report([read_accounts(demo_accounts)], "zh")
    assert len(book) == len(report.all_tables()) + 1
    counties = next(df for name, df in book.items() if name.startswith("各县"))
    assert "区划" in counties.columns and "GEP(亿元)" in counties.columns
    accounts = read_accounts(demo_accounts)
    expected = accounts.table[accounts.table.level == "county"].groupby("zone_code")["value_yuan"].sum() / 1e8
    got = counties.set_index(counties["代码"].astype(str))["GEP(亿元)"]
    np.testing.assert_allclose(got.loc[expected.index].to_numpy(), expected.to_numpy(), atol=0.005)


def test_several_years_are_compared_at_constant_prices(tmp_path: Path) -> None:
    classes = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
    dirs = []
    for year, rain in ((2018, 1800.0), (2019, 2000.0)):
        layers = {"precipitation": np.full((2, 4), rain), "evapotranspiration": np.full((2, 4), 600.0)}
        root = TinyRegion(classes, layers, year=year).write(tmp_path / f"r{year}")
        out = account(load_region(root), year).write(tmp_path / f"a{year}")
        dirs.append(out)
    files = write_report(dirs, tmp_path / "report", lang="en", formats=("html",))
    html = files["html"].read_text(encoding="utf-8")
    assert 'id="years"' in html
    report = build_report([read_accounts(d) for d in dirs], "en")
    years = next(s for s in report.sections if s.id == "years")
    rows = years.tables[0].rows
    assert [r[0] for r in rows] == [2018, 2019]
    a18, a19 = (read_accounts(d) for d in dirs)
    # 2018 accounts (2018 prices) are moved to 2019 prices by the index ratio 124.94 / 121.42
    gep18 = a18.table[a18.table.level == "city"]["value_yuan"].sum() * 124.94 / 121.42
    assert number(rows[0][4]) == pytest.approx(gep18 / 1e9, abs=0.005)
    assert number(rows[1][4]) == pytest.approx(a19.table[a19.table.level == "city"]["value_yuan"].sum() / 1e9,
                                               abs=0.005)


@pytest.mark.slow  # the demo build the report is read from takes about 30 s
def test_unknown_format_is_refused(demo_accounts: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(demo_accounts), "--format", "docx"])
    assert result.exit_code == 2
    assert "unknown report format(s) docx" in result.output
