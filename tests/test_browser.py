"""GEP accounting in a real browser: log in, run the accounting of the demo region, watch it, drill down the map
city → county → township → village, switch to English, download the report; at desk and phone width.

Playwright drives Debian's `chromium` package (/usr/bin/chromium; never a downloaded browser).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from browser_kit import (
    collect_js_errors,
    horizontal_overflow,
    require_browser,
    serve,
    shots,
)
from conftest import DEMO_PASSWORD, Demo

require_browser()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

pytestmark = pytest.mark.slow

USERNAME = "admin"
PASSWORD = DEMO_PASSWORD
YEAR = "2019"
RUN_TIMEOUT_S = 300


@dataclass
class Platform:
    base: str


@pytest.fixture(scope="module")
def platform(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The seeded demo platform (a copy of its database), served with its worker inside the process."""
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("browser")
    url = demo.copy_database(tmp / "gep.db")
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield Platform(base)


def _log_in(page: Page, base: str) -> bool:
    """Submit the filled login form; True if it lands on the dashboard, False if it bounced back to the login."""
    page.click("#login-button")
    page.wait_for_url(re.compile(r"^[^?]*://[^/]+/(\?.*)?$|/login"))
    page.wait_for_load_state("load")
    return page.url == f"{base}/"


def _breadcrumb(page: Page) -> list[str]:
    return page.locator("#breadcrumb a").all_inner_texts()


# A point of the zone's polygon that is really on top (what a person can click), nearest its centre. The probe
# covers only the part of the polygon inside both the map and the window (after a screenshot at phone width the
# map can sit partly below the fold), on a grid fine enough for thin or many-part polygons.
_CLICKABLE_POINT_JS = """(el) => {
  const map = document.querySelector('#map').getBoundingClientRect();
  const b = el.getBoundingClientRect();
  const left = Math.max(b.left, map.left, 0), right = Math.min(b.right, map.right, window.innerWidth);
  const top = Math.max(b.top, map.top, 0), bottom = Math.min(b.bottom, map.bottom, window.innerHeight);
  if (right <= left || bottom <= top) return null;
  const cx = (left + right) / 2, cy = (top + bottom) / 2, pts = [];
  for (let i = 1; i < 40; i++)
    for (let j = 1; j < 40; j++) pts.push([left + (right - left) * i / 40, top + (bottom - top) * j / 40]);
  pts.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
  for (const [x, y] of pts) if (document.elementFromPoint(x, y) === el) return {x, y};
  return null;
}"""

_POINT_IN_ZONE = f"""(code) => {{
  const el = document.querySelector(`path.zone[data-code="${{code}}"]`);
  return el ? ({_CLICKABLE_POINT_JS})(el) : null;
}}"""


def _show_map(page: Page) -> None:
    """Bring the whole map into the window and take the mouse off it (its tooltip would cover a polygon)."""
    page.locator("#map").scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    page.wait_for_timeout(100)


def _drill(page: Page, code: str, lowest: bool) -> None:
    """Click a zone on the map like a person (mouse on the polygon) and wait until the map shows what is below it."""
    _show_map(page)
    point = page.evaluate(_POINT_IN_ZONE, code)
    assert point, f"zone {code} has no clickable point on the map"
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function(
        """([code, lowest]) => {
          const links = [...document.querySelectorAll('#breadcrumb a')];
          if (!links.length || links[links.length - 1].dataset.code !== code) return false;
          const zones = [...document.querySelectorAll('path.zone')];
          if (!zones.length) return false;
          if (lowest) {
            const me = document.querySelector(`path.zone[data-code="${code}"]`);
            return !!me && me.getAttribute('stroke') === '#d7301f';
          }
          return zones.every((z) => z.dataset.code.startsWith(code) && z.dataset.code !== code);
        }""",
        arg=[code, lowest])
    _settle(page)


def _settle(page: Page) -> None:
    """Wait for the requests to end and the map to stop moving (fitBounds animates the zoom and the pan)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("""() => {
      const z = document.querySelector('path.zone');
      if (!z || document.querySelector('#map.leaflet-zoom-anim, #map .leaflet-pan-anim')) return false;
      const rect = JSON.stringify(z.getBoundingClientRect()), same = window.__gepRect === rect;
      window.__gepRect = rect;
      return same;
    }""", polling=200)


def _first_zone(page: Page) -> str:
    """The zone whose polygon is biggest on screen (easiest to see in the screenshots) among those a person can
    click (a polygon wholly under another one or outside the window is not)."""
    _show_map(page)
    code = page.evaluate(f"""() => {{
      const clickable = {_CLICKABLE_POINT_JS};
      const zones = [...document.querySelectorAll('path.zone')];
      const size = (z) => {{ const r = z.getBoundingClientRect(); return r.width * r.height; }};
      zones.sort((a, b) => size(b) - size(a));
      const zone = zones.find((z) => clickable(z) !== null);
      return zone ? zone.dataset.code : null;
    }}""")
    assert code, "no zone of the map can be clicked"
    return str(code)


def test_login_run_drill_down_and_download(page: Page, platform: Platform, folder: Path,
                                           tmp_path: Path) -> None:
    base = platform.base
    errors = collect_js_errors(page)

    def shot(name: str, settle: bool = False) -> None:
        shots(page, folder, name, settle=_settle if settle else None)

    # 1. log in: the demo's accounts of 2019 are on the dashboard
    page.goto(f"{base}/login")
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    shot("01-login")
    assert _log_in(page, base), f"login did not land on the dashboard: {page.url}"
    page.wait_for_selector("path.zone")
    _settle(page)

    # 2. start an accounting run of the demo year and watch it to the end
    page.goto(f"{base}/runs")
    page.wait_for_selector(f'#run-year option[value="{YEAR}"]', state="attached")
    page.select_option("#run-year", YEAR)
    page.wait_for_selector("#runs tbody tr")
    before = set(page.locator("#runs tbody tr").evaluate_all("(rows) => rows.map((r) => r.id)"))
    page.click("#start-run")
    page.wait_for_function("(before) => [...document.querySelectorAll('#runs tbody tr')]"
                           ".some((r) => !before.includes(r.id))", arg=sorted(before))
    run_id = next(i for i in page.locator("#runs tbody tr").evaluate_all("(rows) => rows.map((r) => r.id)")
                  if i not in before)
    row = page.locator(f"#{run_id}")
    saw_progress = False
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while row.get_attribute("data-status") != "succeeded":
        assert not page.locator("#run-error").is_visible(), page.locator("#run-error").inner_text()
        assert row.get_attribute("data-status") != "failed", row.inner_text()
        assert time.monotonic() < deadline, f"the run did not finish within {RUN_TIMEOUT_S} s"
        if not saw_progress and row.get_attribute("data-status") == "running" \
                and row.locator(".stage").inner_text().strip():
            saw_progress = True
            page.screenshot(path=str(folder / "02b-run-running-desk.png"), full_page=True)
        page.wait_for_timeout(250)
    print(f"progress bar and stage seen while running: {saw_progress}")
    gep_cell = row.locator("td.n").inner_text()
    assert re.fullmatch(r"[\d,]+\.\d\d", gep_cell.strip()), gep_cell
    expect(row.locator(".bar .fill")).to_have_attribute("style", "width:100%")
    expect(row.locator('a.dl[data-report="zh.pdf"]')).to_be_visible()
    shot("03-run-finished")
    assert not horizontal_overflow(page)

    # 3. drill down the map: city → county → township → village
    page.goto(f"{base}/")
    page.wait_for_selector("path.zone")
    _settle(page)
    expect(page.locator("#empty")).to_be_hidden()
    assert _breadcrumb(page) == ["丽水市"]
    expect(page.locator("#kpi-gep")).to_contain_text(re.compile(r"\((亿元|万元)\)[\d,]+\.\d\d"))
    city_gep = page.locator("#kpi-gep .v").inner_text()
    shot("04-city", settle=True)

    county = _first_zone(page)
    _drill(page, county, lowest=False)
    assert len(_breadcrumb(page)) == 2
    expect(page.locator("#zone-title")).to_contain_text("县")
    expect(page.locator("#kpi-gep")).to_contain_text(re.compile(r"\((亿元|万元)\)[\d,]+\.\d\d"))
    assert page.locator("#kpi-gep .v").inner_text() != city_gep
    shot("05-county", settle=True)

    township = _first_zone(page)
    _drill(page, township, lowest=False)
    assert len(_breadcrumb(page)) == 3
    expect(page.locator("#zone-title")).to_contain_text("乡镇")
    shot("06-township", settle=True)

    village = _first_zone(page)
    _drill(page, village, lowest=True)
    crumbs = _breadcrumb(page)
    assert len(crumbs) == 4 and crumbs[0] == "丽水市", crumbs
    expect(page.locator("#zone-title")).to_contain_text("村")
    expect(page.locator("#kpi-gep")).to_contain_text(re.compile(r"\((亿元|万元)\)[\d,]+\.\d\d"))
    assert page.locator("#indicators tbody tr").count() > 5
    shot("07-village", settle=True)

    # 4. English
    page.click("#lang-switch")
    page.wait_for_url(re.compile(r"lang=en"))
    page.wait_for_selector("path.zone")
    _settle(page)
    expect(page.locator("#nav a", has_text="GEP dashboard")).to_have_count(1)
    expect(page.locator("#kpi-gep")).to_contain_text(re.compile(r"GEP \((100 M|10 k) yuan\)"))
    assert len(_breadcrumb(page)) == 4  # the switch keeps the zone the user had drilled down to
    shot("08-english", settle=True)

    # 5. the report, as the user downloads it from the runs page
    page.goto(f"{base}/runs")
    link = page.locator(f'#{run_id} a.dl[data-report="zh.pdf"]')
    with page.expect_download() as info:
        link.click()
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf)
    head = pdf.read_bytes()[:4]
    assert head == b"%PDF", head
    assert pdf.stat().st_size > 50_000, pdf.stat().st_size
    for key in ("zh.html", "en.xlsx"):
        with page.expect_download() as info:
            page.locator(f'#{run_id} a.dl[data-report="{key}"]').click()
        path = tmp_path / f"{key}-{info.value.suggested_filename}"
        info.value.save_as(path)
        assert path.stat().st_size > 0, key
    shot("09-runs-english")

    assert not errors, "\n".join(errors)


def test_login_always_lands_on_the_dashboard(browser: Browser, platform: Platform) -> None:
    """The session is committed before the redirect answers (no race between POST /login and GET /)."""
    landed = []
    for _ in range(6):
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(f"{platform.base}/login")
            page.fill("#username", USERNAME)
            page.fill("#password", PASSWORD)
            _log_in(page, platform.base)
            landed.append(page.url.removeprefix(platform.base))
        finally:
            context.close()
    assert landed == ["/"] * len(landed), landed
