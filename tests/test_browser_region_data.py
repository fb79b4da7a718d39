"""GEP 一键算 from the browser, as a county analyst: upload a region package, see its problem in the page, upload
it again fixed, download the statistics template, fill it, send it back, override a price with its source, run the
accounting and find the override and its source in the report. Screenshots at desk and phone width."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from browser_kit import DESK, collect_js_errors, horizontal_overflow, log_in, require_browser, serve, shots
from conftest import PASSWORD
from gep.testing import TinyRegion

require_browser()

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow
CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
LAYERS = {"precipitation": np.full((2, 4), 2000.0), "evapotranspiration": np.full((2, 4), 700.0)}
STATS = [{"zone_code": "100101", "year": 2019, "item": "agriculture.output_value", "value": 500, "unit": "万元",
          "source": "县统计年鉴 2020"}]
SOURCE = "某县发展和改革局 2019 年居民生活用水价格通知"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from gep.app import Settings, create_app
    from gep.auth import service as auth
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import SYSTEM
    from gep.migrations import upgrade

    tmp = tmp_path_factory.mktemp("region-data-browser")
    url = f"sqlite:///{tmp / 'gep.db'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as s:
        county = auth.create_organisation(s, "某县自然资源和规划局", "government", SYSTEM)
        auth.create_user(s, "county_analyst", PASSWORD, "analyst", SYSTEM, organisation_id=county.id)
    engine.dispose()
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base


def zipped(root: Path, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                z.write(p, f"my-county/{p.relative_to(root)}")
    return path


def test_a_county_analyst_brings_in_a_region_and_accounts_it(browser: Any, served: str, folder: Path,
                                                              tmp_path: Path) -> None:
    root = TinyRegion(CLASSES, LAYERS, statistics=STATS).write(tmp_path / "pkg")
    good = (root / "region.toml").read_text(encoding="utf-8")
    (root / "region.toml").write_text(good.replace("resolution = 100.0", "resolutoin = 100.0"), encoding="utf-8")
    broken = zipped(root, tmp_path / "my-county-broken.zip")
    (root / "region.toml").write_text(good, encoding="utf-8")
    fixed = zipped(root, tmp_path / "my-county.zip")

    context = browser.new_context(viewport=DESK, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors = collect_js_errors(page)
    log_in(page, served, "county_analyst", PASSWORD, target="/runs")
    page.click("a[href='/regions/data']")
    expect(page.locator("h1")).to_contain_text("区域数据")

    # 1. the package with a typo: its problems in the page, grouped by file, nothing stored
    page.set_input_files("#upload-files", str(broken))
    page.click("#upload-button")
    expect(page.locator("#upload-problems")).to_be_visible()
    expect(page.locator("#upload-problems h3").first).to_have_text("region.toml")
    expect(page.locator("#upload-problems")).to_contain_text("resolutoin")
    expect(page.locator("#upload-problems")).to_contain_text("是否应为 'resolution'")
    shots(page, folder, "region-data-01-problem")
    assert not horizontal_overflow(page)

    # 2. uploaded again, fixed: the region is stored and chosen
    page.set_input_files("#upload-files", str(fixed))
    page.click("#upload-button")
    expect(page.locator("#upload-done")).to_contain_text("2019")
    expect(page.locator("#upload-problems")).to_be_hidden()
    expect(page.locator("#data-region option:checked")).to_have_text("测试市")

    # 3. the statistics template: downloaded, filled by a script, sent back
    with page.expect_download() as info:
        page.click("#template-download")
    template = tmp_path / "template.xlsx"
    info.value.save_as(template)
    book = openpyxl.load_workbook(template)
    ws = book["市 City"]
    col = next(c.column for c in ws[1] if str(c.value).startswith("water_supply.domestic ["))
    ws.cell(row=3, column=col).value = 2_000_000
    book.save(template)
    page.set_input_files("#template-file", str(template))
    page.click("#template-upload")
    expect(page.locator("#template-done")).to_contain_text("新增 1 个数据")
    expect(page.locator("#template-missing li[data-indicator=hydropower]")).to_contain_text("水力发电将不核算")
    shots(page, folder, "region-data-02-template")

    # 4. a price overridden with its source, shown beside the method's value
    page.select_option("#override-parameter", "water_supply.price_domestic")
    expect(page.locator("#override-unit")).to_have_value("yuan/m3")
    page.fill("#override-value", "3.1")
    page.fill("#override-year", "2019")
    page.fill("#override-source", SOURCE)
    page.click("#override-save")
    row = page.locator("#param-water_supply\\.price_domestic")
    expect(row).to_contain_text(SOURCE)
    expect(row).to_contain_text("白玛卓嘎")
    shots(page, folder, "region-data-03-override")
    assert not horizontal_overflow(page)

    # 5. the accounting, and the override with its source in the report
    page.goto(f"{served}/runs")
    page.click("#start-run")
    finished = page.locator("#runs tbody tr[data-status=succeeded]")
    expect(finished).to_have_count(1, timeout=120_000)
    link = finished.locator("a[data-report='zh.html']")
    html = page.request.get(served + link.get_attribute("href")).text()
    assert SOURCE in html and "3.1" in html
    shots(page, folder, "region-data-04-run")
    unexpected = [e for e in errors if "status of 422" not in e]  # step 1's refusal is the expected 422
    assert not unexpected, unexpected
    context.close()
