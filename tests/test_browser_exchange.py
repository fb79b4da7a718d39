"""The exchange's whole flow in a real browser, on the seeded demo, with two bidders in two browser contexts:
an administrator shortens a category's periods; the cooperative lists a right it holds; the officer approves and
announces it; two enterprises register, each sees the other's bid arrive without reloading, and outbid each
other; the worker closes the auction on time; the winner signs and pays; the certificate verifies, and its PDF
checks as genuine on the public page. Screenshots at desk and phone width on the way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_kit import DESK, collect_js_errors, horizontal_overflow, log_in, require_browser, serve, shots
from conftest import DEMO_PASSWORD, Demo

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("exchange-browser")
    url = demo.copy_database(tmp / "gep.db")
    (tmp / "data").mkdir()
    import shutil

    shutil.copytree(demo.workdir / "data" / "keys", tmp / "data" / "keys")  # the demo's signing key
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base


def person(browser: Any, base: str, username: str, target: str) -> Page:
    """Another person at another computer: a context of their own, logged in."""
    context = browser.new_context(viewport=DESK, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda d: d.accept())  # confirm payment and the like
    log_in(page, base, username, DEMO_PASSWORD, target=target)
    return page


def test_two_bidders_from_listing_to_a_verified_certificate(browser: Any, served: str, folder: Path,
                                                            tmp_path: Path) -> None:
    admin = person(browser, served, "admin", "/exchange/categories")
    errors = collect_js_errors(admin)
    row = admin.locator("tr[data-category='forest_right']")
    row.get_by_role("button").click()
    admin.fill("#e-announce_days", "0.00002")  # notice: 2 s; bidding: about a minute
    admin.fill("#e-bidding_days", "0.0008")
    admin.click("#edit-form button[type=submit]")
    expect(admin.locator("#edit-card")).to_be_hidden()
    shots(admin, folder, "exchange-01-categories")

    coop = person(browser, served, "coop", "/exchange/new")
    errors += collect_js_errors(coop)
    coop.select_option("#n-kind", "right")
    coop.select_option("#n-category", "forest_right")
    coop.select_option("#n-mode", "ascending")
    coop.wait_for_function("() => document.querySelectorAll('#n-right option').length > 0")
    coop.fill("#n-title", "遂昌山林经营权整体转让（浏览器测试）")
    coop.fill("#n-price", "50000")
    coop.fill("#n-increment", "1000")
    coop.fill("#n-window", "0")
    coop.fill("#n-extension", "0")
    coop.fill("#n-description", "浏览器测试挂牌：两位竞买人轮流加价。")
    shots(coop, folder, "exchange-02-new-listing")
    coop.click("#n-create")
    coop.wait_for_url(re.compile(r".*/exchange/listings/\d+$"))
    listing_url = coop.url
    expect(coop.locator("#l-state")).to_have_text("草稿")
    coop.get_by_role("button", name="提交审核").click()
    expect(coop.locator("#l-state")).to_have_text("待审核")

    officer = person(browser, served, "officer", "/exchange/review")
    errors += collect_js_errors(officer)
    item = officer.locator(".queue .item", has_text="浏览器测试")
    shots(officer, folder, "exchange-03-review-queue")
    item.get_by_role("button", name="通过").click()
    item = officer.locator(".queue .item", has_text="浏览器测试")
    item.get_by_role("button", name=re.compile("立即发布公告")).click()
    expect(officer.locator(".queue .item", has_text="浏览器测试")).to_have_count(0)

    a = person(browser, served, "enterprise", listing_url.removeprefix(served))
    b = person(browser, served, "enterprise2", listing_url.removeprefix(served))
    errors += collect_js_errors(a) + collect_js_errors(b)
    for p in (a, b):
        p.reload()
        p.get_by_role("button", name="报名并冻结保证金").click()
        expect(p.locator("#bid-form")).to_be_visible(timeout=15_000)  # the notice ends; bidding opens
    a.fill("#bid-price", "50000")
    a.click("#bid-submit")
    expect(b.locator("#ladder tbody tr")).to_have_count(1, timeout=10_000)  # B sees A's bid arrive, no reload
    expect(b.locator("#l-price")).to_have_text(re.compile("50,000.00"))
    b.fill("#bid-price", "49000")  # below the price: a clear message, nothing changes
    b.click("#bid-submit")
    expect(b.locator("#l-error")).to_contain_text("出价至少为 51,000.00 元")
    b.fill("#bid-price", "51000")
    b.click("#bid-submit")
    expect(a.locator("#ladder tbody tr")).to_have_count(2, timeout=10_000)
    expect(a.locator("#l-next")).to_have_text(re.compile("52,000.00"))
    a.fill("#bid-price", "53000")
    a.click("#bid-submit")
    expect(b.locator("#ladder tbody tr")).to_have_count(3, timeout=10_000)
    b.fill("#bid-price", "60000")
    b.click("#bid-submit")
    expect(a.locator("#ladder tbody tr")).to_have_count(4, timeout=10_000)
    shots(b, folder, "exchange-04-bidding")
    shots(a, folder, "exchange-05-outbid")
    assert horizontal_overflow(b) == []

    # nobody touches anything: the worker closes the auction when its time comes
    expect(b.locator("#l-state")).to_have_text("已成交", timeout=120_000)
    b.get_by_role("button", name="签订合同").click()
    expect(b.locator("#deals")).to_contain_text("已签合同")
    b.get_by_role("button", name=re.compile("支付 ¥60,000.00")).click()
    expect(b.locator("#l-state")).to_have_text("已完成，已发证")
    shots(b, folder, "exchange-06-completed")
    expect(a.locator("#l-state")).to_have_text("已完成，已发证", timeout=15_000)

    b.locator("#deals a", has_text="证书").click()
    b.wait_for_url(re.compile(r".*/certificates/GEP-\d{4}-\d{6}$"))
    expect(b.locator("#c-verdict")).to_contain_text("真实有效")
    expect(b.locator("#c-lines")).to_contain_text("¥60,000.00")
    with b.expect_download() as download:
        b.click("#c-pdf")
    pdf = tmp_path / "certificate.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    b.set_input_files("#verify-file", str(pdf))
    b.click("#verify-submit")
    expect(b.locator("#v-verdict")).to_contain_text("真实有效")
    shots(b, folder, "exchange-07-certificate")

    b.goto(f"{served}/ledger")
    expect(b.locator("#statement tbody tr").first).to_be_visible()
    expect(b.locator("#statement")).to_contain_text("成交价款")
    shots(b, folder, "exchange-08-ledger")
    a.goto(f"{served}/exchange")
    expect(a.locator(".listing-card").first).to_be_visible()
    shots(a, folder, "exchange-09-listings")
    a.goto(f"{served}/exchange/demands")
    expect(a.locator("#board tbody tr").first).to_be_visible()
    shots(a, folder, "exchange-10-demands")
    a.goto(f"{served}/exchange/my")
    expect(a.locator("#bidding tbody tr").first).to_be_visible()
    shots(a, folder, "exchange-11-my")
    officer.goto(f"{served}/certificates/verify")
    shots(officer, folder, "exchange-12-verify")
    finance = person(browser, served, "finance", "/ledger")
    expect(finance.locator("#sheet-balanced")).to_have_text("借贷平衡")
    shots(finance, folder, "exchange-13-balance-sheet")
    assert errors == []
