"""The web UI in a real browser: log in, run the accounting of the demo region, drill down the map, download the report.

Playwright drives Debian's `chromium` package (/usr/bin/chromium; never a downloaded browser). Every step leaves a
full-page screenshot in $GEP_SCREENSHOTS, or else in pytest's base temporary folder under `screenshots/`.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow

USERNAME = "admin"
PASSWORD = "Browser-Test-2019!"  # >= 10 characters, not containing the username
YEAR = "2019"
RUN_TIMEOUT_S = 300
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@dataclass
class Platform:
    base: str


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The demo region (1 km grid) imported into a fresh SQLite platform, served by uvicorn in a thread."""
    import uvicorn

    from gep.auth import service as auth
    from gep.db import make_engine, session_factory, unit_of_work, upgrade
    from gep.demo import build_lishui_region
    from gep.regions.service import import_region
    from gep.web.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("browser")
    region_dir = build_lishui_region(tmp / "region", resolution=1000.0)
    url = f"sqlite:///{tmp / 'gep.db'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as s:
        auth.create_user(s, USERNAME, PASSWORD, "admin", "浏览器测试")
        import_region(s, region_dir, auth.SYSTEM)
    engine.dispose()

    app = create_app(Settings(database_url=url, data_dir=tmp / "data"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            pytest.fail("the platform did not answer within 30 s")
        time.sleep(0.1)
    try:
        yield Platform(base)
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("GEP_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def browser(platform: Platform) -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


def _collect_js_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and "favicon" not in (msg.location.get("url") or "") + msg.text:
            errors.append(f"console: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


def _log_in(page: Page, base: str) -> bool:
    """Submit the filled login form; True if it lands on the dashboard, False if it bounced back to the login."""
    page.click("#login-button")
    page.wait_for_url(re.compile(r"^[^?]*://[^/]+/(\?.*)?$|/login\?(next|error)="))
    page.wait_for_load_state("load")
    assert "error=" not in page.url, "the login was refused"
    return page.url == f"{base}/"


def _breadcrumb(page: Page) -> list[str]:
    return page.locator("#breadcrumb a").all_inner_texts()


# A point of the zone's polygon that is really on top (what a person can click), nearest its centre.
_POINT_IN_ZONE = """(code) => {
  const el = document.querySelector(`path.zone[data-code="${code}"]`);
  if (!el) return null;
  const r = el.getBoundingClientRect(), cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const pts = [];
  for (let i = 1; i < 20; i++)
    for (let j = 1; j < 20; j++) pts.push([r.left + r.width * i / 20, r.top + r.height * j / 20]);
  pts.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
  for (const [x, y] of pts) if (document.elementFromPoint(x, y) === el) return {x, y};
  return null;
}"""


def _drill(page: Page, code: str, lowest: bool) -> None:
    """Click a zone on the map like a person (mouse on the polygon) and wait until the map shows what is below it."""
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
    """The zone whose polygon is biggest on screen (easiest to see in the screenshots)."""
    return page.evaluate("""() => {
      const zones = [...document.querySelectorAll('path.zone')];
      const size = (z) => { const r = z.getBoundingClientRect(); return r.width * r.height; };
      zones.sort((a, b) => size(b) - size(a));
      return zones[0].dataset.code;
    }""")


def test_login_run_drill_down_and_download(page: Page, platform: Platform, screenshots: Path,
                                           tmp_path: Path) -> None:
    base = platform.base
    errors = _collect_js_errors(page)

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)

    # 1. log in; with no run yet the dashboard says so
    page.goto(f"{base}/login")
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    shot("01-login")
    assert _log_in(page, base), f"login did not land on the dashboard: {page.url}"
    assert page.url == f"{base}/"
    expect(page.locator("#empty")).to_be_visible()
    page.wait_for_selector("path.zone")
    _settle(page)
    shot("02-dashboard-empty")

    # 2. start an accounting run of the demo year and watch it to the end
    page.goto(f"{base}/runs")
    page.wait_for_selector(f'#run-year option[value="{YEAR}"]', state="attached")
    page.select_option("#run-year", YEAR)
    page.click("#start-run")
    finished = page.locator('#runs tr[data-status="succeeded"]')
    running = page.locator('#runs tr[data-status="running"]')
    saw_progress = False
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while finished.count() == 0:
        assert not page.locator("#run-error").is_visible(), page.locator("#run-error").inner_text()
        assert page.locator('#runs tr[data-status="failed"]').count() == 0, \
            page.locator('#runs tr[data-status="failed"]').inner_text()
        assert time.monotonic() < deadline, f"the run did not finish within {RUN_TIMEOUT_S} s"
        if not saw_progress and running.count() and running.locator(".bar .fill").count() \
                and running.locator(".stage").inner_text().strip():
            saw_progress = True
            shot("02b-run-running")
        page.wait_for_timeout(250)
    print(f"progress bar and stage seen while running: {saw_progress}")
    row = finished.first
    gep_cell = row.locator("td.n").inner_text()
    assert re.fullmatch(r"[\d,]+\.\d\d", gep_cell.strip()), gep_cell
    expect(row.locator(".bar .fill")).to_have_attribute("style", "width:100%")
    expect(row.locator('a.dl[data-report="zh.pdf"]')).to_be_visible()
    shot("03-run-finished")

    # 3. drill down the map: city → county → township → village
    page.goto(f"{base}/")
    page.wait_for_selector("path.zone")
    _settle(page)
    expect(page.locator("#empty")).to_be_hidden()
    assert _breadcrumb(page) == ["丽水市"]
    expect(page.locator("#kpi-gep")).to_contain_text(re.compile(r"\((亿元|万元)\)[\d,]+\.\d\d"))
    city_gep = page.locator("#kpi-gep .v").inner_text()
    shot("04-city")

    county = _first_zone(page)
    _drill(page, county, lowest=False)
    assert len(_breadcrumb(page)) == 2
    expect(page.locator("#zone-title")).to_contain_text("县")
    expect(page.locator("#kpi-gep")).to_contain_text(re.compile(r"\((亿元|万元)\)[\d,]+\.\d\d"))
    assert page.locator("#kpi-gep .v").inner_text() != city_gep
    shot("05-county")

    township = _first_zone(page)
    _drill(page, township, lowest=False)
    assert len(_breadcrumb(page)) == 3
    expect(page.locator("#zone-title")).to_contain_text("乡镇")
    shot("06-township")

    village = _first_zone(page)
    _drill(page, village, lowest=True)
    crumbs = _breadcrumb(page)
    assert len(crumbs) == 4 and crumbs[0] == "丽水市", crumbs
    expect(page.locator("#zone-title")).to_contain_text("村")
    expect(page.locator("#kpi-gep")).to_contain_text(re.compile(r"\((亿元|万元)\)[\d,]+\.\d\d"))
    assert page.locator("#indicators tbody tr").count() > 5
    shot("07-village")

    # 4. English
    page.click("#lang-switch")
    page.wait_for_url(re.compile(r"lang=en"))
    page.wait_for_selector("path.zone")
    _settle(page)
    expect(page.get_by_role("link", name="GEP dashboard")).to_be_visible()
    expect(page.locator("#kpi-gep")).to_contain_text(re.compile(r"GEP \((100 M|10 k) yuan\)"))
    assert len(_breadcrumb(page)) == 4  # the switch keeps the zone the user had drilled down to
    shot("08-english")

    # 5. the report, as the user downloads it from the runs page
    page.goto(f"{base}/runs")
    link = page.locator('#runs tr[data-status="succeeded"] a.dl[data-report="zh.pdf"]')
    with page.expect_download() as info:
        link.click()
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf)
    head = pdf.read_bytes()[:4]
    assert head == b"%PDF", head
    assert pdf.stat().st_size > 50_000, pdf.stat().st_size
    for key in ("zh.html", "en.xlsx"):
        with page.expect_download() as info:
            page.locator(f'#runs tr[data-status="succeeded"] a.dl[data-report="{key}"]').click()
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
