"""The registry and the cooperatives in a real browser, on the seeded demo, at desk and phone width: a clerk imports
parcels (a wrong file first), opens a parcel's rights and history and values it, values a drawn polygon; a
cooperative manager takes a right in, bundles a package, values it and shares its revenue; the villager sees
their rights, contracts and income and downloads their statement."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_kit import (
    collect_js_errors,
    fonts_ready,
    horizontal_overflow,
    log_in,
    require_browser,
    serve,
    shots,
)
from conftest import DEMO_PASSWORD, Demo

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("registry-browser")
    url = demo.copy_database(tmp / "gep.db")
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base


def _zoom_to_a_parcel(page: Page, kind: str = "forest_land") -> None:
    page.evaluate("""async (kind) => {
      const fc = await api(`/api/registry/regions/1/parcels?kind=${kind}&limit=1`);
      state.map.fitBounds(L.geoJSON(fc).getBounds());
      state.map.setZoom(14);
    }""", kind)
    page.wait_for_function("() => state.layer && state.layer.getLayers().length > 0")
    page.wait_for_load_state("networkidle")


def _parcel_file(tmp: Path, page: Page, bad: bool) -> Path:
    """A parcel file in WGS84 around the map's centre: a sand and gravel deposit, or a broken one."""
    lat, lng = page.evaluate("() => { const c = state.map.getCenter(); return [c.lat, c.lng]; }")
    d = 0.0008
    ring = [[lng - d, lat - d], [lng + d, lat - d], [lng + d, lat + d], [lng - d, lat + d], [lng - d, lat - d]]
    if bad:
        ring = [[lng - d, lat - d], [lng + d, lat + d], [lng + d, lat - d], [lng - d, lat + d], [lng - d, lat - d]]
    props = {"parcel_code": "BROWSER-1", "kind": "sand_gravel" if not bad else "quarry", "right_type": "use",
             "holder_name": "浏览器测试砂石公司", "holder_kind": "organisation", "certificate_no": "BROWSER-CERT-1",
             "term_start": "2024-01-01", "term_end": "2034-12-31"}
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": props,
                                                     "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    path = tmp / ("broken.geojson" if bad else "parcels.geojson")
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_clerk_imports_opens_and_values_parcels(page: Page, served: str, folder: Path, tmp_path: Path) -> None:
    errors = collect_js_errors(page)
    log_in(page, served, "analyst", DEMO_PASSWORD, target="/registry")
    page.wait_for_function("() => typeof state !== 'undefined' && state.map && state.map._loaded")
    _zoom_to_a_parcel(page)
    shots(page, folder, "registry-01-map", settle=lambda p: p.wait_for_load_state("networkidle"))

    page.click("#open-import")
    page.set_input_files("#import-file", str(_parcel_file(tmp_path, page, bad=True)))
    page.click("#import-submit")
    expect(page.locator("#import-problems")).to_be_visible()
    problems = page.locator("#import-problems tbody").inner_text()
    assert "BROWSER-1" in problems and "kind" in problems and "geometry" in problems
    shots(page, folder, "registry-02-import-refused")
    page.set_input_files("#import-file", str(_parcel_file(tmp_path, page, bad=False)))
    page.click("#import-submit")
    expect(page.locator("#import-result")).to_have_class("ok")

    page.evaluate("() => state.layer.getLayers().find((l) => l.feature.properties.kind === 'forest_land')"
                  ".fire('click')")
    expect(page.locator("#panel-body table")).to_be_visible()
    expect(page.locator(".timeline li")).not_to_have_count(0)
    page.click("#parcel-vep")
    page.wait_for_selector("#panel-body .vep")
    assert float(page.locator("#panel-body .vep").get_attribute("data-gep")) > 0
    shots(page, folder, "registry-03-parcel")

    page.click("#draw")
    box = page.locator("#map").bounding_box()
    for fx, fy in ((0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    page.click("#draw")
    page.wait_for_selector("#panel-body .vep")
    expect(page.locator("#panel-title")).to_have_text(re.compile("所绘范围|drawn"))
    shots(page, folder, "registry-04-drawn")
    page.set_viewport_size({"width": 390, "height": 844})
    assert not horizontal_overflow(page)
    assert not [e for e in errors if "status of 422" not in e], errors  # the broken file was refused on purpose


def test_a_cooperative_takes_in_bundles_values_and_shares_revenue(page: Page, served: str, folder: Path) -> None:
    errors = collect_js_errors(page)
    log_in(page, served, "coop", DEMO_PASSWORD, target="/cooperative")
    page.wait_for_selector("#available tbody tr[data-right]")
    fonts_ready(page)
    shots(page, folder, "coop-01-intake")
    first = page.locator("#available tbody tr[data-right] button").first
    first.click()
    page.select_option("#intake-mode", "shareholding")
    page.fill("#intake-share", "70")
    page.click("#intake-submit")
    expect(page.locator("#intake-form")).to_be_hidden()
    expect(page.locator("#coop-error")).to_be_hidden()

    page.click('.tab[data-tab="contracts"]')
    page.wait_for_selector("#contracts tbody tr[data-contract]")
    boxes = page.locator("#contracts tbody input[type=checkbox]")
    count = boxes.count()
    boxes.nth(count - 1).check()
    page.fill("#package-code", "BROWSER-PK")
    page.fill("#package-name", "浏览器测试资产包")
    shots(page, folder, "coop-02-contracts")
    page.click("#package-create")
    page.wait_for_selector(".package.on")
    expect(page.locator("#package-detail h2")).to_contain_text("BROWSER-PK")
    page.click("#package-value")
    page.wait_for_selector("#package-vep .vep")
    page.fill("#revenue-amount", "10000.00")
    page.fill("#revenue-source", "浏览器测试收益")
    page.click("#revenue-submit")
    page.wait_for_selector("#revenues .revenue")
    # one holder with 70 %: 10000.00 × 70 % = 7000.00 to them, 3000.00 kept
    assert "7,000.00" in page.locator("#revenues").inner_text()
    shots(page, folder, "coop-03-package")
    assert not errors, errors


def test_a_villager_sees_their_rights_contracts_and_income(page: Page, served: str, folder: Path,
                                                          tmp_path: Path) -> None:
    errors = collect_js_errors(page)
    log_in(page, served, "villager", DEMO_PASSWORD, target="/my")
    page.wait_for_selector("#my-rights tbody tr")
    expect(page.locator("#my-contracts tbody tr")).not_to_have_count(0)
    total = page.locator("#my-total").inner_text()
    assert re.fullmatch(r"[\d,]+\.\d\d", total) and total != "0.00", total
    fonts_ready(page)
    shots(page, folder, "my-01-income")
    with page.expect_download() as info:
        page.click("#my-statement")
    path = tmp_path / "statement.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert text.strip().splitlines()[-1].endswith(total.replace(",", ""))
    nav = page.locator("#nav a").all_inner_texts()
    assert not any(n == "合作社" or n == "Cooperative" for n in nav)  # a villager has no workspace
    assert not errors, errors
