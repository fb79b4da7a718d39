"""What the browser tests share: the platform served by uvicorn in a thread, Debian's Chromium driven by
Playwright (never a downloaded browser), logging in, JavaScript errors, and screenshots at desk and phone width.

Screenshots go to $GEP_SCREENSHOTS, or else to pytest's base temporary folder under `screenshots/`.
This machine has no Chinese system font, like many a server a user's browser may be on: the pages must show
Chinese through the platform's own web font.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESK, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}


def require_browser() -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on a free local port; yields its base URL."""
    import uvicorn

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
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium for a test module (import this fixture into the module)."""
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context at desk width that accepts downloads, for one test."""
    context = browser.new_context(viewport=DESK, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's screenshots go."""
    return screenshot_folder(tmp_path_factory)


def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("GEP_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {folder}")
    return folder


def collect_js_errors(page: Any) -> list[str]:
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type == "error" and "favicon" not in (msg.location.get("url") or "") + msg.text:
            errors.append(f"console: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


def log_in(page: Any, base: str, username: str, password: str, target: str = "/") -> None:
    """Fill and send the login form like a person; lands on `target`."""
    page.goto(f"{base}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_url(re.compile(rf"^{re.escape(base)}{re.escape(target)}(\?.*)?(#.*)?$"))
    page.wait_for_load_state("load")


def fonts_ready(page: Any) -> None:
    """Wait until the web fonts the page asked for have loaded (Chinese needs them on this machine)."""
    page.evaluate("() => document.fonts.ready")
    page.wait_for_function("() => document.fonts.status === 'loaded'")


def chinese_renders(page: Any, selector: str = ".brand") -> bool:
    """Whether every Chinese character of an element is drawn by a real font (the local ones or the platform's
    web font), not by a system font without Chinese glyphs (which draws boxes): asked of Chromium itself."""
    text = page.locator(selector).first.inner_text()
    cjk = sum(1 for c in text if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef")
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    drawn = sum(f["glyphCount"] for f in fonts if "CJK" in f["familyName"] or f.get("isCustomFont"))
    return drawn >= cjk > 0


def shots(page: Any, folder: Path, name: str, settle: Any = None) -> None:
    """Full-page screenshots of the current page at desk (1440 px) and phone (390 px) width."""
    for label, size in (("desk", DESK), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(250)
        if settle is not None:
            settle(page)
        fonts_ready(page)
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESK)
    page.wait_for_timeout(250)
    if settle is not None:
        settle(page)


def horizontal_overflow(page: Any) -> list[str]:
    """Elements wider than the viewport (what makes a phone page scroll sideways), outside scrollable tables."""
    return page.evaluate("""() => {
      const width = document.documentElement.clientWidth, out = [];
      for (const e of document.querySelectorAll('body *')) {
        if (e.closest('.table-wrap, .leaflet-container, pre, .js-plotly-plot')) continue;
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.right > width + 1)
          out.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className} (${Math.round(r.right)} > ${width})`);
      }
      return out.slice(0, 10);
    }""")
