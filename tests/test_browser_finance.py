"""Ecological credit and a 两山贷 in a real browser, on the seeded demo: the credit officer records an event for
the demo villager and the administrator accepts it (never the recorder); the villager sees the grade change with
its explanation; the villager applies for a 两山贷 with a forest right pledged, seeing the terms and their
reasons first; the bank officer approves it on the workbench; the registry shows the right locked by the pledge;
the other bank cannot see the loan. Screenshots at desk and phone width on the way."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from browser_kit import DESK, collect_js_errors, horizontal_overflow, log_in, require_browser, serve, shots
from conftest import DEMO_PASSWORD, Demo

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("finance-browser")
    url = demo.copy_database(tmp / "gep.db")
    (tmp / "data").mkdir()
    shutil.copytree(demo.workdir / "data" / "keys", tmp / "data" / "keys")
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base, url


def person(browser: Any, base: str, username: str, target: str) -> Page:
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, base, username, DEMO_PASSWORD, target=target)
    return page


def villager_facts(url: str) -> tuple[str, int]:
    """The demo villager's household name (how the credit office finds them) and a free forest right of theirs."""
    from gep.auth.models import User
    from gep.credit.models import CreditSubject
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.registry.models import Lock, Parcel, Right

    with unit_of_work(session_factory(make_engine(url))) as s:
        user = s.scalar(select(User.id).where(User.username == "villager"))
        subject = s.scalar(select(CreditSubject).where(CreditSubject.user_id == user)
                           .execution_options(skip_scope=True))
        assert subject is not None and subject.holder_id is not None
        locked = select(Lock.right_id)
        right = s.scalar(select(Right.id).join(Parcel, Parcel.id == Right.parcel_id).where(
            Right.holder_id == subject.holder_id, Parcel.kind == "forest_land", Right.active.is_(True),
            Right.id.not_in(locked)).order_by(Right.id))
        assert right is not None, "the demo villager keeps a free forest right"
        return subject.name, right


def test_credit_grade_and_a_liangshan_loan(browser: Any, served: tuple[str, str], folder: Any) -> None:
    base, url = served
    name, right = villager_facts(url)

    # 1. the villager's credit before: grade, score and why
    villager = person(browser, base, "villager", "/credit/my")
    errors = collect_js_errors(villager)
    expect(villager.locator("#c-grade")).to_have_text(re.compile(r"^(AAA|AA|A|B|C|D)$"))
    score_before = int(re.search(r"\d+", villager.locator("#c-score").inner_text()).group())  # type: ignore[union-attr]
    expect(villager.locator("#live tbody tr")).not_to_have_count(0)
    shots(villager, folder, "credit-01-my-credit")
    assert not horizontal_overflow(villager)

    # 2. the credit officer records a provincial honour for them (pending review)
    office = person(browser, base, "credit", "/credit")
    office_errors = collect_js_errors(office)
    expect(office.locator("#dist tbody tr")).to_have_count(9)
    office.fill("#r-find", name[:2])
    office.locator("#r-find").dispatch_event("input")
    office.wait_for_function("(n) => [...document.querySelectorAll('#r-subjects option')].some((o) => "
                             "o.value.startsWith(n))", arg=name)
    option = office.evaluate("(n) => [...document.querySelectorAll('#r-subjects option')].map((o) => o.value)"
                             ".find((v) => v.startsWith(n))", name)
    office.fill("#r-find", option)
    office.select_option("#r-indicator", "P10")
    expect(office.locator("#r-rule")).to_contain_text("1095")
    office.fill("#r-qty", "province")
    office.fill("#r-evidence", "浙江省生态文明建设先进个人（演示）")
    shots(office, folder, "credit-02-office-record")
    office.click("#record button[type=submit]")
    expect(office.locator("#f-done")).to_contain_text("20")
    office.fill("#q-text", name)
    office.click("#q-find button")
    event_row = office.locator("#queue tbody tr", has_text=name).filter(has_text="P10")
    expect(event_row).to_have_count(1)
    # the recorder may not accept their own record
    event_row.get_by_role("button", name=re.compile("采纳|accept")).click()
    expect(office.locator("#f-error")).to_contain_text(re.compile("记录人以外|someone other"))
    shots(office, folder, "credit-03-office-queue")
    assert not horizontal_overflow(office)

    # 3. the administrator accepts it
    admin = person(browser, base, "admin", "/credit")
    admin.fill("#q-text", name)
    admin.click("#q-find button")
    admin_row = admin.locator("#queue tbody tr", has_text=name).filter(has_text="P10")
    admin_row.get_by_role("button", name=re.compile("采纳|accept")).click()
    expect(admin.locator("#f-done")).to_contain_text(str(score_before + 20))

    # 4. the villager sees the grade change with its explanation
    villager.reload()
    expect(villager.locator("#c-score")).to_contain_text(str(score_before + 20))
    expect(villager.locator("#live tbody")).to_contain_text("P10")
    expect(villager.locator("#history")).to_contain_text(f"{score_before} → {score_before + 20}")
    shots(villager, folder, "credit-04-grade-changed")

    # 5. the villager applies for a 两山贷 with a forest right pledged, seeing the terms first
    villager.goto(f"{base}/finance/loans")
    villager.select_option("#a-product", "liangshan")
    villager.select_option("#a-bank", label="丽水农商银行（演示）")
    villager.check(f"#a-rights input[value='{right}']")
    villager.fill("#a-months", "12")
    villager.click("#a-quote")
    expect(villager.locator("#a-terms")).to_contain_text(re.compile("额度|Limit"))
    expect(villager.locator("#a-terms")).to_contain_text(re.compile("LPR"))
    villager.fill("#a-amount", "50000")
    villager.fill("#a-purpose", "茶园扩种")
    shots(villager, folder, "finance-01-apply")
    assert not horizontal_overflow(villager)
    villager.click("#apply button[type=submit]")
    villager.wait_for_url(re.compile(r"/finance/loans/\d+$"))
    loan_url = villager.url
    expect(villager.locator("#n-state")).to_contain_text(re.compile("已申请|applied"))
    expect(villager.locator("#n-collateral")).to_contain_text(re.compile("未锁定|not locked"))
    shots(villager, folder, "finance-02-applied")

    # 6. the other bank cannot see it; the bank officer approves it on the workbench
    other = person(browser, base, "bank2", "/finance")
    code = loan_url.rsplit("/", 1)[1]
    assert other.request.get(f"{base}/api/finance/loans/{code}").status == 404
    expect(other.locator("#apps tbody")).not_to_contain_text(name)
    bank = person(browser, base, "bank", "/finance")
    bank_errors = collect_js_errors(bank)
    expect(bank.locator("#apps tbody")).to_contain_text(name)
    shots(bank, folder, "finance-03-workbench", settle=lambda p: p.wait_for_timeout(300))
    assert not horizontal_overflow(bank)
    bank.locator("#apps tbody tr", has_text=name).get_by_role("link").click()
    bank.wait_for_url(re.compile(r"/finance/loans/\d+$"))
    bank.fill("#n-reason", "信用良好，林权质押")
    bank.click("#n-approve button[type=submit]")
    expect(bank.locator("#n-state")).to_contain_text(re.compile("已通过审核|approved"))
    expect(bank.locator("#n-collateral")).to_contain_text(re.compile("已在登记簿锁定|locked in the registry"))
    shots(bank, folder, "finance-04-approved")

    # 7. the registry shows the right locked by the pledge
    locks = admin.request.get(f"{base}/api/finance/loans/{code}").json()["collateral"][0]
    admin.goto(f"{base}/registry#parcel={locks['parcel_id']}")
    expect(admin.locator("body")).to_contain_text(re.compile("质押|pledge"))
    expect(admin.locator("body")).to_contain_text("丽水农商银行（演示）")
    shots(admin, folder, "finance-05-registry-lock")

    # 8. the bank pays it out; the villager sees the schedule
    bank.get_by_role("button", name=re.compile("放款|Pay out")).click()
    expect(bank.locator("#n-state")).to_contain_text(re.compile("已放款|disbursed"))
    villager.goto(loan_url)
    expect(villager.locator("#schedule tbody tr")).to_have_count(12)
    shots(villager, folder, "finance-06-schedule")
    refused = [e for e in office_errors if "403" not in e]  # the recorder's own review was refused, as intended
    assert not (errors or refused or bank_errors), errors + refused + bank_errors
