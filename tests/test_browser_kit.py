"""The platform's pages in a real browser on a machine without Chinese fonts, at desk (1440 px) and phone (390 px)
width: every page readable (Chinese through the platform's web font, nothing wider than a phone, the map and
the charts inside their cards, the menu behind a button), and crafted links that change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from browser_kit import (
    PHONE,
    chinese_renders,
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

from playwright.sync_api import Page  # noqa: E402

pytestmark = pytest.mark.slow
HOSTILE_ZONE = '<img src=x onerror="window.__pwned=1">莲都区'


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo platform; one county renamed to markup, as a hostile data file could name it."""
    from gep.app import Settings, create_app
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.regions.models import Zone

    tmp = tmp_path_factory.mktemp("kit-browser")
    url = demo.copy_database(tmp / "gep.db")
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as s:
        zone = s.scalar(select(Zone).where(Zone.level == "county", Zone.name == "莲都区"))
        zone.name = HOSTILE_ZONE
    engine.dispose()
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base, url


def _user_count(url: str) -> int:
    from gep.auth.models import User
    from gep.db import make_engine, session_factory, unit_of_work

    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as s:
        n = len(s.scalars(select(User)).all())
    engine.dispose()
    return n


def test_a_crafted_link_opened_by_a_logged_in_administrator_changes_nothing(page: Page,
                                                                             served: tuple[str, str]) -> None:
    base, url = served
    log_in(page, base, "admin", DEMO_PASSWORD)
    users_before = _user_count(url)
    payload = ('"><script>fetch("/api/users",{method:"POST",headers:{"Content-Type":"application/json",'
               '"X-CSRF-Token":JSON.parse(document.getElementById("gep-config").textContent).csrf},'
               'body:JSON.stringify({username:"intruder",password:"correct-horse-42",role:"admin"})});'
               'window.__pwned=1</script><input x="')
    for link in (f"/login?next={quote(payload)}", f"/runs?lang={quote(payload)}", f"/nowhere{quote(payload)}",
                 f"/?next={quote(payload)}#zone={quote(payload)}"):
        page.goto(base + link)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => window.__pwned") is None, link
    assert _user_count(url) == users_before


def test_a_zone_named_with_markup_is_shown_as_text(page: Page, served: tuple[str, str]) -> None:
    base, _ = served
    log_in(page, base, "admin", DEMO_PASSWORD)
    page.wait_for_selector("path.zone")
    page.wait_for_load_state("networkidle")
    box = page.evaluate("""() => {
      const names = [...document.querySelectorAll('path.zone')];
      return names.map((p) => p.getBoundingClientRect())
        .map((r) => ({x: r.left + r.width / 2, y: r.top + r.height / 2}));
    }""")
    for point in box:  # hover every county until the hostile one's tooltip shows
        page.mouse.move(point["x"], point["y"])
        page.wait_for_timeout(50)
        tip = page.locator(".leaflet-tooltip")
        if tip.count() and "莲都区" in tip.inner_text():
            assert "<img" in tip.inner_text()  # the markup is text on the screen
            break
    else:
        pytest.fail("no tooltip showed the renamed county")
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator(".leaflet-tooltip img").count() == 0


PAGES = [("dashboard", "/", "path.zone"), ("runs", "/runs", "#runs tbody tr"), ("account", "/account", "#tokens"),
         ("users", "/admin/users", "#users tbody tr"), ("tasks", "/admin/tasks", "#tasks"),
         ("notifications", "/notifications", "#mark-all"), ("missing", "/admin/nothing", "main")]


@pytest.mark.parametrize(("name", "path", "ready"), PAGES)
def test_every_page_reads_at_desk_and_phone_width_without_chinese_fonts(page: Page, served: tuple[str, str],
                                                                        folder: Path, name: str, path: str,
                                                                        ready: str) -> None:
    base, _ = served
    errors = collect_js_errors(page)
    log_in(page, base, "admin", DEMO_PASSWORD)
    page.goto(base + path)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    fonts_ready(page)
    assert chinese_renders(page), "the Chinese web font did not load"
    shots(page, folder, f"kit-{name}")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    assert not horizontal_overflow(page), horizontal_overflow(page)
    if name == "dashboard":
        sizes = page.evaluate("""() => ({map: document.getElementById('map').getBoundingClientRect().height,
          cards: [...document.querySelectorAll('.js-plotly-plot')].map((p) => [p.getBoundingClientRect().right,
                  p.closest('.card').getBoundingClientRect().right])})""")
        assert sizes["map"] >= 300, sizes
        assert all(plot <= card + 1 for plot, card in sizes["cards"]), sizes
    assert not [e for e in errors if "404" not in e], errors


def test_the_phone_menu_opens_behind_its_button(page: Page, served: tuple[str, str], folder: Path) -> None:
    base, _ = served
    page.set_viewport_size(PHONE)
    log_in(page, base, "admin", DEMO_PASSWORD, target="/runs")
    assert not page.locator("#nav").is_visible()
    page.click("#menu-button")
    assert page.locator("#nav a", has_text="GEP 驾驶舱").is_visible()
    fonts_ready(page)
    page.screenshot(path=str(folder / "kit-menu-phone.png"), full_page=True)
    page.click("#nav a >> nth=0")
    page.wait_for_url(f"{base}/")


def test_the_login_page_at_both_widths(page: Page, served: tuple[str, str], folder: Path) -> None:
    base, _ = served
    page.goto(f"{base}/login")
    fonts_ready(page)
    assert chinese_renders(page, "h1")
    shots(page, folder, "kit-login")
    page.fill("#username", "admin")
    page.fill("#password", "not-the-password")
    page.click("#login-button")
    assert page.locator(".error").inner_text() == "用户名或密码错误"
    page.set_viewport_size(PHONE)
    assert not horizontal_overflow(page)
