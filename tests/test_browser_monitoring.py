"""Monitoring in a real browser, on the seeded demo: the monitoring centre sees the stations and the seeded alerts,
imports a day of readings with an ammonia episode and sees its alert, opens the station's chart and the
land-cover change map; a ranger files a patrol report with a photo on a phone-sized screen. Screenshots at desk
and phone width."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from browser_kit import DESK, PHONE, collect_js_errors, horizontal_overflow, log_in, require_browser, serve, shots
from conftest import DEMO_PASSWORD, Demo

require_browser()

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("monitoring-browser")
    url = demo.copy_database(tmp / "gep.db")
    shutil.copytree(demo.workdir / "data", tmp / "data")
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base


def day_csv(path: Path) -> Path:
    """The six hours after the seeded year ends at W01 (UTC): ammonia past class III for four hours."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    lines = ["station,time,parameter,value,unit"]
    for h in range(6):
        t = (start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%MZ")
        lines.append(f"W01,{t},nh3n,{1.8 if 1 <= h <= 4 else 0.3},mg/L")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def photo(path: Path) -> Path:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 110, 60)).save(buf, format="JPEG")
    path.write_bytes(buf.getvalue())
    return path


def test_stations_alerts_change_and_a_patrol(browser: Any, served: str, folder: Path, tmp_path: Path) -> None:
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = collect_js_errors(page)
    log_in(page, served, "monitor", DEMO_PASSWORD, target="/monitoring")

    # 1. the stations on the map, the seeded alerts
    expect(page.locator("#stations tbody tr")).to_have_count(12)
    expect(page.locator("#m-map path.leaflet-interactive")).to_have_count(12)
    expect(page.locator("#alerts tbody tr")).not_to_have_count(0)
    shots(page, folder, "monitoring-01-map")
    assert not horizontal_overflow(page)
    before = page.locator("#alerts tbody tr").count()

    # 2. a day of readings with an ammonia episode: stored, and its alert shows at once
    page.set_input_files("#file", str(day_csv(tmp_path / "w01.csv")))
    page.click("#upload button[type=submit]")
    expect(page.locator("#m-done")).to_contain_text("6")
    expect(page.locator("#alerts tbody tr")).to_have_count(before + 1)
    expect(page.locator("#alerts tbody")).to_contain_text("1.8")
    shots(page, folder, "monitoring-02-alert")

    # 3. the station's chart against its limit
    page.locator("#stations tbody tr", has_text="水质").first.locator("a").click()
    page.wait_for_url(re.compile(r"/monitoring/stations/\d+"))
    page.select_option("#s-param", "nh3n")
    expect(page.locator("#s-chart .main-svg").first).to_be_visible()
    shots(page, folder, "monitoring-03-station")

    # 4. the land-cover change between the demo's two years
    page.goto(f"{served}/monitoring/changes")
    expect(page.locator("#losses tbody tr")).not_to_have_count(0)
    expect(page.locator("#c-map img.leaflet-image-layer")).to_have_count(1)
    shots(page, folder, "monitoring-04-change")
    assert not horizontal_overflow(page)
    assert not errors, errors
    context.close()

    # 5. a ranger on a phone files a report with a photo
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors += collect_js_errors(page)
    log_in(page, served, "ranger", DEMO_PASSWORD, target="/monitoring/patrols")
    expect(page.locator("#reports tbody tr").first).to_be_visible()  # the seeded reports are listed first
    rows = page.locator("#reports tbody tr").count()
    page.select_option("#r-category", "pests")
    page.fill("#r-note", "浏览器测试：松树枯黄")
    page.locator("#r-map").scroll_into_view_if_needed()
    box = page.locator("#r-map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#r-lat")).not_to_have_value("")
    page.set_input_files("#r-photos", str(photo(tmp_path / "tree.jpg")))
    shots(page, folder, "monitoring-05-patrol-form")
    page.click("#report button[type=submit]")
    expect(page.locator("#p-done")).to_be_visible()
    expect(page.locator("#reports tbody tr")).to_have_count(rows + 1)
    shots(page, folder, "monitoring-06-patrol-sent")
    assert not horizontal_overflow(page)
    assert not errors, errors
    context.close()
