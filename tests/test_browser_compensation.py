"""Watershed compensation and a damage case in a real browser, on the seeded demo: the environment officer
imports a year of observations for the Oujiang sections, sees every section's direction on the map and in the
table, closes the year's settlements, checks a section's settlement by recomputing it, then draws a damaged
forest on the map, opens the case and downloads its claim report. Screenshots at desk and phone width."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from browser_kit import DESK, collect_js_errors, horizontal_overflow, log_in, require_browser, serve, shots
from conftest import DEMO_PASSWORD, Demo

require_browser()

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow
YEAR = 2026


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("compensation-browser")
    url = demo.copy_database(tmp / "gep.db")
    (tmp / "data").mkdir()
    shutil.copytree(demo.workdir / "data" / "keys", tmp / "data" / "keys")
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base


def year_csv(path: Path) -> Path:
    """A whole year for the seven demo sections: some cleaner than their baseline, some dirtier."""
    rng = np.random.default_rng(7)
    lines = ["section,period,parameter,value,unit"]
    for k in range(1, 8):
        factor = [0.6, 1.0, 1.4, 0.6, 1.0, 1.4, 0.95][k - 1]
        for m in range(1, 13):
            for p, base in (("codmn", 2.0), ("nh3n", 0.15), ("tp", 0.05), ("tn", 0.9)):
                lines.append(f"OJ{k:02d},{YEAR}-{m:02d},{p},{base * factor * rng.uniform(0.95, 1.05):.3f},mg/L")
            lines.append(f"OJ{k:02d},{YEAR}-{m:02d},flow,{100 / factor:.1f},m3/s")
        lines.append(f"OJ{k:02d},{YEAR},efficiency,{38 * factor:.1f},m3/万元")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_close_and_a_damage_claim(browser: Any, served: str, folder: Path, tmp_path: Path) -> None:
    context = browser.new_context(viewport=DESK, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = collect_js_errors(page)
    log_in(page, served, "envofficer", DEMO_PASSWORD, target="/compensation")

    # 1. the basin as seeded: the latest year with data, its sections and the funds
    expect(page.locator("#settlements tbody tr")).to_have_count(7)
    expect(page.locator("#funds tbody tr")).not_to_have_count(0)
    page.locator("#f-statements details summary").first.click()  # a county's entries: stakes and payouts
    expect(page.locator("#f-statements details[open] tbody tr")).not_to_have_count(0)
    shots(page, folder, "compensation-01-basin")
    assert not horizontal_overflow(page)

    # 2. last year, still open: one section lacks a month; the gap is accepted with a reason and the year closed
    expect(page.locator("#settlements tbody .badge.gaps")).to_have_count(1)
    page.check("#c-accept")
    page.fill("#c-reason", "11月断面改造停测，按其余月份均值结算（演示）")
    page.click("#close button[type=submit]")
    expect(page.locator("#settlements tbody .badge.closed")).to_have_count(7)

    # 3. a year of observations from a CSV file
    page.set_input_files("#file", str(year_csv(tmp_path / f"observations_{YEAR}.csv")))
    page.click("#upload button[type=submit]")
    expect(page.locator("#b-done")).to_contain_text("427")
    page.select_option("#year", str(YEAR))
    # the template link, the figures and the table are redrawn together once the year's answer is in
    expect(page.locator("#b-template")).to_have_attribute("href", re.compile(f"year={YEAR}"))
    expect(page.locator("#settlements tbody tr").first.locator(".dir")).to_be_visible()
    rows = page.locator("#settlements tbody tr")
    expect(rows).to_have_count(7)
    directions = [rows.nth(i).locator(".dir").inner_text() for i in range(7)]
    assert len(set(directions)) == 3, directions  # every direction appears on the demo's year
    expect(page.locator("#b-map path.leaflet-interactive")).not_to_have_count(0)
    shots(page, folder, "compensation-02-year-imported")

    # 4. close the year: every pair's settlement posts once
    page.uncheck("#c-accept")
    page.click("#close button[type=submit]")
    expect(page.locator("#b-done")).to_contain_text(re.compile(r"7"))
    expect(page.locator("#settlements tbody .badge.closed")).to_have_count(7)
    shots(page, folder, "compensation-03-closed")

    # 5. one section: its monthly chart with the thresholds, and its settlement recomputed to the fen
    rows.first.locator("a").click()
    page.wait_for_url(re.compile(r"/compensation/sections/\d+"))
    expect(page.locator("#s-chart .main-svg").first).to_be_visible()
    page.click("#recompute")
    expect(page.locator("#r-result")).to_contain_text(re.compile("相同|same"))
    shots(page, folder, "compensation-04-section")
    assert not horizontal_overflow(page)

    # 6. a damaged forest drawn on the map, valued and opened as a case
    page.goto(f"{served}/compensation/damage")
    expect(page.locator("#cases tbody tr")).not_to_have_count(0)
    expect(page.locator("#n-map path").first).to_be_attached()  # the counties are drawn: the map has its view
    page.locator("#n-map").scroll_into_view_if_needed()
    for _ in range(3):  # closer in: a damage of a few hundred hectares
        page.click("#n-map .leaflet-control-zoom-in")
        page.wait_for_timeout(400)
    box = page.locator("#n-map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-30, -30), (30, -30), (30, 30), (-30, 30)):
        page.mouse.click(cx + dx, cy + dy)
    expect(page.locator("#n-drawn")).to_contain_text("4")
    page.fill("#n-title", "浏览器测试：毁林案")
    page.fill("#n-resp", "某公司")
    page.fill("#n-years", "8")
    page.click("#n-preview")
    expect(page.locator("#n-result .kpi")).to_have_count(4)
    shots(page, folder, "compensation-05-new-case")
    page.click("#case button[type=submit]")
    page.wait_for_url(re.compile(r"/compensation/damage/\d+"))
    expect(page.locator("#c-schedule tbody tr")).to_have_count(8)
    expect(page.locator("#c-map path.leaflet-interactive").first).to_be_visible()
    shots(page, folder, "compensation-06-case")
    assert not horizontal_overflow(page)
    with page.expect_download() as info:
        page.click("#c-pdf-zh")
    pdf = tmp_path / "claim.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000
    page.click("#c-recompute")
    expect(page.locator("#c-done")).to_contain_text(re.compile("相同|same"))
    assert not errors, errors
    context.close()
