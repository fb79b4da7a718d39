"""The regional brand in a real browser, on the seeded demo: the brand office takes a submitted application
(松阳土蜂蜜) through inspection to a certificate, the tea company opens a batch of it, prints its labels and signs
each step from harvest to settlement onto the batch's chain, and a buyer with no login opens the trace page from
a label's QR payload — then a made-up code is refused. Screenshots at desk and phone width."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_kit import DESK, PHONE, collect_js_errors, horizontal_overflow, log_in, require_browser, serve, shots
from conftest import DEMO_PASSWORD, Demo

require_browser()

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow
HONEY = {"lead": "0.2", "moisture": "19.5", "sugars": "68"}


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("brands-browser")
    url = demo.copy_database(tmp / "gep.db")
    (tmp / "data").mkdir()
    shutil.copytree(demo.workdir / "data" / "keys", tmp / "data" / "keys")
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base


def test_certify_label_trace(browser: Any, served: str, folder: Path, tmp_path: Path) -> None:
    context = browser.new_context(viewport=DESK, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors = collect_js_errors(page)
    log_in(page, served, "brandoffice", DEMO_PASSWORD, target="/brands")

    # 1. the office: the queue, the certified products on the map, the batches
    expect(page.locator("#apps tbody tr")).not_to_have_count(0)
    expect(page.locator("#o-map path.leaflet-interactive")).not_to_have_count(0)
    expect(page.locator("#batches tbody tr")).to_have_count(2)
    shots(page, folder, "brands-01-office")
    assert not horizontal_overflow(page)

    # 2. the submitted honey: inspection started, results recorded, certified
    page.select_option("#o-filter", "open")
    honey = page.locator("#apps tbody tr", has_text="蜂蜜")
    honey.locator("button").click()
    expect(page.locator("#detail")).to_be_visible()
    page.click("#d-buttons button >> nth=0")  # start the inspection
    expect(page.locator("#d-inspection")).to_be_visible()
    for code, value in HONEY.items():
        page.fill(f"#d-items input[name={code}]", value)
    page.fill("#d-lab", "浏览器测试检测中心")
    page.click("#d-inspection button[type=submit]")
    expect(page.locator("#d-facts")).to_contain_text(re.compile("passed|通过"))
    shots(page, folder, "brands-02-inspection")
    page.click("#d-buttons button >> nth=0")  # certify
    expect(page.locator("#d-title .badge")).to_have_class(re.compile("st-certified"))
    expect(page.locator("#d-facts")).to_contain_text("LSSG-")
    context.close()

    # 3. the producer (the tea company's user) opens a batch of it and prints its labels
    context = browser.new_context(viewport=DESK, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors += collect_js_errors(page)
    log_in(page, served, "teamaker", DEMO_PASSWORD, target="/brands")
    expect(page.locator("#b-app option")).not_to_have_count(0)
    page.select_option("#b-app", page.locator("#b-app option", has_text="蜂蜜").get_attribute("value"))
    page.fill("#b-quantity", "30")
    page.fill("#b-codes", "21")
    page.click("#batch button[type=submit]")
    page.wait_for_url(re.compile(r"/brands/batches/\d+"))
    expect(page.locator("#t-chain")).to_contain_text("0")
    with page.expect_download() as info:
        page.click("#l-pdf")
    sheet = tmp_path / "labels.pdf"
    info.value.save_as(sheet)
    assert sheet.read_bytes().startswith(b"%PDF")

    # 4. every step, signed onto the chain
    def step(kind: str, fill: dict[str, str], select: dict[str, Any] | None = None) -> None:
        page.select_option("#s-kind", kind)
        for sel, value in (select or {}).items():
            if "text" in value:  # the option whose words hold the text
                page.select_option(sel, page.locator(f"{sel} option", has_text=value["text"]).first.get_attribute(
                    "value"))
            else:
                page.select_option(sel, **value)
        for sel, value in fill.items():
            page.fill(sel, value)
        page.click("#step button[type=submit]")
        expect(page.locator("#t-done")).to_be_visible()

    step("harvest", {"#s-quantity": "120"}, {"#s-grower": {"index": 0}})
    step("processing", {"#s-process": "过滤、低温浓缩", "#s-output": "30"})
    step("inspection", {"#s-items input[name=lead]": "0.2", "#s-items input[name=moisture]": "19.5",
                        "#s-items input[name=sugars]": "68", "#s-lab": "浏览器测试检测中心"})
    step("sale", {"#s-quantity": "30", "#s-price": "180"}, {"#s-buyer": {"text": "经销商"}})
    step("settlement", {"#s-amount": "5400", "#s-ref": "CARD-0001"}, {"#s-sale": {"value": "4"}})
    expect(page.locator("#steps li")).to_have_count(5)
    expect(page.locator("#t-chain")).to_have_class(re.compile("ok"))
    shots(page, folder, "brands-03-batch")
    assert not horizontal_overflow(page)
    label_url = page.locator("#l-first-url").get_attribute("href")
    assert label_url and "/trace/" in label_url and "?b=LSSG-" in label_url
    context.close()

    # 5. a buyer scans a label: no login, on a phone
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors += collect_js_errors(page)
    page.goto(label_url)
    expect(page.locator("#verdict")).to_have_class(re.compile("warning|genuine"))  # sold out: a warning
    expect(page.locator("#history li")).to_have_count(5)
    expect(page.locator("#facts")).to_contain_text("蜂蜜")
    shots(page, folder, "brands-04-trace")
    assert not horizontal_overflow(page)
    page.fill("#q-code", "ABCD-EFGH-JKLM")
    page.click("#lookup button[type=submit]")
    expect(page.locator("#verdict")).to_have_class(re.compile("refused"))
    shots(page, folder, "brands-05-forged")
    assert not errors, errors
    context.close()
