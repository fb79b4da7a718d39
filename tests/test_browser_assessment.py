"""The GEP assessment in a real browser, on the seeded demo: the statistics bureau's reporter changes a value by
the form and sends a workbook with a bad row (seeing the row named) and then a good one; the assessment office
computes 2021, sees the counties' colour codes on the map and in the sheet, opens a county, publishes the year,
and pays the year's GEP-increment reward within a budget (downloading its notice), and checks a chemical plant
drawn in the red line, which the negative list refuses, reads the demo's tenure audit and its report, and
publishes the accounts of 2021; then, logged out and
with JavaScript off, the public portal down to the counties of 2021 and its method, the published colour codes and
a county's score card. Screenshots at desk and phone width."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_kit import DESK, collect_js_errors, horizontal_overflow, log_in, require_browser, serve, shots
from conftest import DEMO_PASSWORD, Demo

require_browser()

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow
SET, YEAR = "county-2021", 2021


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("assessment-browser")
    url = demo.copy_database(tmp / "gep.db")
    (tmp / "data").mkdir()
    shutil.copytree(demo.workdir / "data" / "keys", tmp / "data" / "keys")
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base


def filled(template: bytes, bad: bool) -> bytes:
    """The downloaded workbook with GDP growth filled in for every county (one row out of range if `bad`)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(template))
    ws = wb.worksheets[0]
    for i, row in enumerate(ws.iter_rows(min_row=2), start=0):
        row[6].value = 80 if bad and i == 2 else 5 + i / 10
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_submit_compute_publish_and_the_public_cards(browser: Any, served: str, folder: Path,
                                                     tmp_path: Path) -> None:
    context = browser.new_context(viewport=DESK, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = collect_js_errors(page)

    # 1. the statistics bureau's reporter: its one indicator (GDP growth) for the nine counties
    log_in(page, served, "statistics", DEMO_PASSWORD, target=f"/assessment?set={SET}&year={YEAR}")
    expect(page.locator("#entry tbody tr")).to_have_count(9)
    expect(page.locator("#entry thead th")).to_have_count(2)
    first = page.locator("#entry tbody input").first
    first.fill("7.3")
    page.click("#submit")
    expect(page.locator("#u-done")).to_contain_text(re.compile("1"))
    shots(page, folder, "assessment-01-department-form")
    assert not horizontal_overflow(page)
    with page.expect_download() as info:
        page.click("#template")
    template = Path(info.value.path()).read_bytes()
    bad = tmp_path / "gdp_bad.xlsx"
    bad.write_bytes(filled(template, bad=True))
    page.set_input_files("#file", str(bad))
    page.click("#upload button[type=submit]")
    expect(page.locator("#u-problems li")).to_have_count(1)
    expect(page.locator("#u-problems li")).to_contain_text(re.compile(r"4"))  # the spreadsheet row
    shots(page, folder, "assessment-02-workbook-refused")
    good = tmp_path / "gdp.xlsx"
    good.write_bytes(filled(template, bad=False))
    page.set_input_files("#file", str(good))
    page.click("#upload button[type=submit]")
    expect(page.locator("#u-done")).to_contain_text(re.compile("9"))
    expect(page.locator("#u-problems li")).to_have_count(0)
    page.click("button.link")  # log out
    page.wait_for_url(re.compile("/login"))

    # 2. the assessment office computes 2021: colour codes on the map and in the sheet
    log_in(page, served, "assessor", DEMO_PASSWORD, target=f"/assessment?set={SET}&year={YEAR}")
    expect(page.locator("#sheet tbody tr")).to_have_count(9)
    page.click("#compute")
    expect(page.locator("#a-done")).to_contain_text(re.compile("9"))
    chips = page.locator("#sheet tbody .code")
    expect(chips).to_have_count(9)
    colours = {chips.nth(i).get_attribute("class") for i in range(9)}
    assert len(colours) >= 2, colours
    expect(page.locator("#a-map path.leaflet-interactive")).to_have_count(9)
    page.locator("#sheet tbody tr").first.click()
    expect(page.locator("#d-indicators tbody tr")).to_have_count(29)
    shots(page, folder, "assessment-03-sheet")
    assert not horizontal_overflow(page)
    page.click("#publish")
    expect(page.locator("#a-done")).to_be_visible()
    expect(page.locator("#s-state .badge.published")).to_be_visible()
    page.click("#recheck")
    expect(page.locator("#a-done")).to_contain_text(re.compile("相同|same"))

    # 3. rewards: the 2021 GEP-increment round within a smaller budget, approved, its notice downloaded
    page.goto(f"{served}/assessment/rewards?policy=gep-increment-2019&year=2021")
    expect(page.locator("#r-zones tbody tr")).not_to_have_count(0)
    page.fill("#budget", "5000000")
    page.click("#r-compute")
    expect(page.locator("#r-done")).to_be_visible()
    expect(page.locator("#r-kpis .kpi").nth(1)).to_contain_text("5,000,000.00")  # the budget binds, to the fen
    page.click("#r-approve")
    expect(page.locator("#r-state .badge.published")).to_be_visible()
    shots(page, folder, "assessment-04-rewards")
    assert not horizontal_overflow(page)
    with page.expect_download() as info:
        page.click("#r-pdf-zh")
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")

    # 4. a chemical plant drawn inside the red line: the negative list refuses it, with its rule and GEP change
    page.goto(f"{served}/assessment/projects")
    red = page.locator('#p-map path[stroke="#b3261e"]').first
    expect(red).to_be_attached()
    expect(page.locator("#p-list tbody tr")).to_have_count(2)  # the demo's two checks
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)  # the map has fitted the counties (its zoom animation ended)
    # a spot well inside the red line: the centre of the first 13 × 13 px square whose every corner hits its outline
    spot = page.evaluate("""() => {
      const path = document.querySelector('#p-map path[stroke="#b3261e"]'), r = path.getBoundingClientRect();
      const hits = (x, y) => document.elementFromPoint(x, y) === path;
      for (let y = r.top + 8; y < r.bottom - 8; y += 3)
        for (let x = r.left + 8; x < r.right - 8; x += 3)
          if ([[0, 0], [-6, -6], [6, -6], [6, 6], [-6, 6]].every(([dx, dy]) => hits(x + dx, y + dy))) return [x, y];
      return null;
    }""")
    assert spot is not None
    cx, cy = spot
    for dx, dy in ((-6, -6), (6, -6), (6, 6), (-6, 6)):
        page.mouse.click(cx + dx, cy + dy)
    expect(page.locator("#p-drawn")).to_contain_text("4")
    page.fill("#p-name", "浏览器测试：化工项目")
    page.select_option("#p-industry", "C26")
    page.click("#p-keep")
    expect(page.locator("#p-verdict")).to_have_class(re.compile("forbidden"))
    expect(page.locator("#p-rule")).to_contain_text("NL-")
    expect(page.locator("#p-areas tbody tr")).not_to_have_count(0)
    expect(page.locator("#p-list tbody tr")).to_have_count(3)
    shots(page, folder, "assessment-05-project-refused")
    assert not horizontal_overflow(page)

    # 5. the demo's tenure audit: GEP at both ends of the term, what fell, the events, the report
    page.goto(f"{served}/assessment/audits")
    page.locator("#t-list tbody tr").first.click()
    expect(page.locator("#t-gep tbody tr")).not_to_have_count(0)
    expect(page.locator("#t-kpis .kpi")).to_have_count(5)  # with the forest stock
    shots(page, folder, "assessment-06-tenure-audit")
    assert not horizontal_overflow(page)
    with page.expect_download() as info:
        page.click("#t-pdf-zh")
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")

    # 6. the accounts of 2021 published on the public portal
    page.goto(f"{served}/assessment/release")
    row = page.locator("#runs tbody tr", has_text="2021")
    row.locator("button").click()
    expect(page.locator("#r-done")).to_contain_text("2021")
    expect(page.locator("#runs tbody .badge.published")).to_have_count(3)
    assert [e for e in errors if "422" not in e] == [], errors  # the refused workbook answers 422, as it should
    context.close()

    # 7. logged out, JavaScript off: the portal, a published year down to the counties, the method, the
    # published colour codes and a county's card are plain pages
    public = browser.new_context(viewport=DESK, java_script_enabled=False)
    page = public.new_page()
    page.goto(f"{served}/public")
    expect(page.locator("#published tbody tr")).to_have_count(3)
    shots(page, folder, "assessment-07-portal")
    page.locator("#published tbody tr", has_text="2021").locator("a").first.click()
    expect(page.locator("#zones tbody tr")).to_have_count(1)  # the city
    page.locator("#zones tbody a").first.click()
    expect(page.locator("#zones tbody tr")).to_have_count(9)  # its counties
    shots(page, folder, "assessment-08-public-year")
    assert not horizontal_overflow(page)
    page.click("text=方法与参数")
    expect(page.locator("#parameters tbody tr")).not_to_have_count(0)
    page.goto(f"{served}/public/assessment")
    sheets = page.locator("section.sheet")
    expect(sheets).to_have_count(3)  # 2020 for counties and departments, and 2021 for counties just published
    expect(page.locator("table.codes").first.locator("tbody tr")).to_have_count(9)
    shots(page, folder, "assessment-09-public-codes")
    assert not horizontal_overflow(page)
    page.locator("table.codes").first.locator("tbody tr a").first.click()
    expect(page.locator("#card-total")).to_have_text(re.compile(r"^\d+\.\d\d$"))
    expect(page.locator("#card-indicators tbody tr")).to_have_count(29)
    expect(page.locator("img.qr")).to_be_visible()
    shots(page, folder, "assessment-10-public-card")
    assert not horizontal_overflow(page)
    public.close()
