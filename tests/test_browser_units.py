"""Forest carbon and discharge quota in a real browser, on the seeded demo.

Carbon: the cooperative registers a project on two parcels and reports its first period; the verifier verifies
it; the forestry officer issues its units; the cooperative sets 300 t aside for
the exchange, and (played through the exchange's use cases, like the demo does) two enterprises win them in a
multi-unit auction; the photovoltaic company sees its units, retires some for an event, and anyone finds the
retirement on the public registry by its serial number. Discharge: the chemical plant's card shows the 80 %
alert; it imports a bad file (each problem named), then a good one that takes it over 100 %; the bureau's
overview lists it first. Screenshots at desk and phone width on the way."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
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
    """A copy of the demo's database, served with its worker."""
    from gep.app import Settings, create_app

    tmp = tmp_path_factory.mktemp("units-browser")
    url = demo.copy_database(tmp / "gep.db")
    (tmp / "data").mkdir()
    shutil.copytree(demo.workdir / "data" / "keys", tmp / "data" / "keys")
    with serve(create_app(Settings(database_url=url, data_dir=tmp / "data"))) as base:
        yield base, url


def free_forest_parcels(url: str, n: int) -> list[str]:
    """Forest parcels of the demo that belong to no carbon project yet."""
    from gep.carbon.models import ProjectStand
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.registry.models import Parcel

    with unit_of_work(session_factory(make_engine(url))) as s:
        taken = select(ProjectStand.parcel_id)
        return list(s.scalars(select(Parcel.code).where(Parcel.kind == "forest_land", Parcel.id.not_in(taken))
                              .order_by(Parcel.id.desc()).limit(n)))


def person(browser: Any, base: str, username: str, target: str) -> Page:
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda d: d.accept())
    log_in(page, base, username, DEMO_PASSWORD, target=target)
    return page


def sell_through_the_exchange(url: str, units_ref: str) -> None:
    """What the exchange's people do (their pages have their own browser test): price, review, announce, two
    bids, close, sign and pay — through the same use cases, on the served database."""
    from gep.certificates import keys
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.exchange import bidding, deals, listings, store
    from gep.exchange.models import Listing, Registration
    from gep.kit.audit import now
    from gep.kit.principal import ALL, SYSTEM, Principal

    factory = session_factory(make_engine(url))

    def who(name: str, org: int | None) -> Principal:
        return Principal(None, name, "demo", org, frozenset({ALL}), "system", party=name)

    with unit_of_work(factory) as s:
        from gep.auth.models import Organisation

        orgs = {o.name: o.id for o in s.scalars(select(Organisation))}
        listing = s.scalar(select(Listing).where(Listing.units_ref == units_ref))
        assert listing is not None and listing.state == "draft"
        seller = who(listing.seller_name, listing.seller_org_id)
        officer = who("丽水市公共资源交易中心（演示）", orgs["丽水市公共资源交易中心（演示）"])
        listings.update(s, listing.id, {"start_price_fen": 5000, "max_bids": 3}, seller)
        listings.submit(s, listing.id, seller)
        listings.review(s, listing.id, True, "", officer)
        listings.announce(s, listing.id, officer)
        listing.opens_at = now() - timedelta(seconds=1)
        listings.open_if_due(s, listing, SYSTEM)
        buyers = [who(n, orgs[n]) for n in ("丽水某光伏企业（演示）", "丽水某文旅企业（演示）", "丽水农商银行（演示）")]
        for b, price, qty in zip(buyers, (6200, 5800, 5100), (200, 100, 100), strict=True):
            from gep.ledger import service as ledger

            ledger.payment_in(s, ledger.funds_of_caller(s, b), 5_000_000, "浏览器测试资金", SYSTEM,
                              key=f"browser-funds-{b.organisation_id}-{units_ref}")
            bidding.register(s, listing.id, b)
            bidding.place_bid(s, listing.id, price, qty, b, key=f"browser-{b.organisation_id}")
        listing.closes_at = now() - timedelta(seconds=1)
        bidding.close(s, listing.id, SYSTEM)
        signer = keys.signer(keys.key_path(Path(url.removeprefix("sqlite:///")).parent / "data"))
        by_key = {store.bidder_key(b): b for b in buyers}
        for deal in store.deals_of(s, listing.id):
            reg = s.get(Registration, deal.registration_id)
            assert reg is not None
            deals.sign(s, deal.id, by_key[reg.bidder_key])
            deals.settle(s, deal.id, by_key[reg.bidder_key], signer)


def test_carbon_units_issued_sold_retired_and_found(browser: Any, served: tuple[str, str], folder: Path) -> None:
    base, url = served
    parcels = free_forest_parcels(url, 2)
    coop = person(browser, base, "coop", "/carbon/new")  # 遂昌县两山合作社
    errors = collect_js_errors(coop)
    coop.fill("#p-name", "浏览器测试碳汇造林项目")
    coop.fill("#p-start", "2024-01-01")
    coop.fill("#p-stands", f"{parcels[0]}, chinese_fir\n{parcels[1]}, masson_pine")
    shots(coop, folder, "carbon-01-new-project")
    coop.click("#new button[type=submit]")
    coop.wait_for_url(re.compile(r".*/carbon/projects/\d+$"))
    project_url = coop.url.removeprefix(base)
    coop.fill("#r-start", "2024-01-01")
    coop.fill("#r-end", "2025-12-31")
    coop.fill("#r-rows", f"{parcels[0]}, 20, 21, 20, 34\n{parcels[1]}, 15, 16, 15, 27")
    coop.click("#report button[type=submit]")
    expect(coop.locator("#periods tbody tr")).to_have_count(1)
    coop.get_by_role("button", name="提交核证").click()
    expect(coop.locator("#periods")).to_contain_text("已提交核证")

    verifier = person(browser, base, "verifier", project_url)
    errors += collect_js_errors(verifier)
    verifier.get_by_role("button", name="核证通过").first.click()
    expect(verifier.locator("#verify")).to_be_visible()
    verifier.fill("#v-opinion", "现场抽样核查，蓄积量与报告一致（浏览器测试）")
    shots(verifier, folder, "carbon-02-verify")
    verifier.click("#verify button[name=approve]")
    expect(verifier.locator("#periods")).to_contain_text("已核证")

    forester = person(browser, base, "forester", project_url)
    errors += collect_js_errors(forester)
    forester.get_by_role("button", name="签发碳汇").click()
    expect(forester.locator("#periods")).to_contain_text("已签发", timeout=10_000)
    expect(forester.locator("#p-issuances tbody tr")).to_have_count(1)
    forester.get_by_role("button", name="估算明细").first.click()
    expect(forester.locator("#stands tbody tr")).to_have_count(2)
    expect(forester.locator("#stands")).to_contain_text("杉木")
    shots(forester, folder, "carbon-03-project")
    assert horizontal_overflow(forester) == []
    forester.goto(f"{base}/carbon")
    expect(forester.locator("#projects tbody tr")).to_have_count(4)
    expect(forester.locator("#projects")).to_contain_text("已预警")  # the demo's afforestation project
    shots(forester, folder, "carbon-04-registry")

    coop.goto(f"{base}/carbon/my")
    expect(coop.locator("#blocks tbody tr").first).to_be_visible()
    coop.fill("#o-qty", "300")
    coop.fill("#o-title", "遂昌林业碳汇 300 吨（浏览器测试）")
    coop.click("#offer button[type=submit]")
    expect(coop.locator("#m-done")).to_contain_text("冻结")
    shots(coop, folder, "carbon-05-my-units")
    coop.goto(f"{base}/exchange/my")
    expect(coop.locator("#selling")).to_contain_text("遂昌林业碳汇 300 吨（浏览器测试）", timeout=15_000)
    shots(coop, folder, "carbon-06-draft-listing")
    from gep.carbon.models import ExchangeOffer
    from gep.db import make_engine, session_factory, unit_of_work

    with unit_of_work(session_factory(make_engine(url))) as s:
        offer = s.scalar(select(ExchangeOffer).order_by(ExchangeOffer.id.desc()).limit(1))
        assert offer is not None and offer.quantity == 300
        ref = f"carbon:{offer.id}"
        from gep.auth.models import Organisation
        from gep.carbon import service as carbon

        pv_org = s.scalar(select(Organisation.id).where(Organisation.name == "丽水某光伏企业（演示）"))
        before = carbon.balance(s, carbon.holding_account(s, pv_org, None, "丽水某光伏企业（演示）").id)
    sell_through_the_exchange(url, ref)

    pv = person(browser, base, "enterprise", "/carbon/my")
    errors += collect_js_errors(pv)
    for _ in range(30):  # the worker delivers the units in a moment; a person reloads the page
        if f"{before + 200:,}" in pv.locator("#balance").inner_text():
            break
        pv.wait_for_timeout(1000)
        pv.reload()
        pv.wait_for_function("() => document.getElementById('balance').textContent.trim() !== ''")
    expect(pv.locator("#balance")).to_contain_text(f"{before + 200:,}")
    pv.fill("#r-qty", "50")
    pv.select_option("#r-purpose", "event")
    pv.fill("#r-beneficiary", "丽水马拉松组委会（浏览器测试）")
    pv.fill("#r-detail", "2026 丽水马拉松碳中和")
    pv.dblclick("#retire button[type=submit]")  # a double click retires once
    expect(pv.locator("#m-done")).to_contain_text("注销 ZX")
    expect(pv.locator("#balance")).to_contain_text(f"{before + 150:,}")
    shots(pv, folder, "carbon-07-retired")

    with unit_of_work(session_factory(make_engine(url))) as s:
        from gep.carbon.models import Retirement

        retirement = s.scalar(select(Retirement).order_by(Retirement.id.desc()).limit(1))
        assert retirement is not None and retirement.quantity == 50
        serial = retirement.ranges[0]["serials"].split(" – ")[0]
    public = browser.new_context(viewport=DESK).new_page()
    errors += collect_js_errors(public)
    public.goto(f"{base}/carbon")
    public.fill("#q", serial)
    public.click("#search button[type=submit]")
    expect(public.locator("#retirements tbody tr")).to_have_count(1)
    expect(public.locator("#retirements")).to_contain_text("丽水马拉松组委会（浏览器测试）")
    shots(public, folder, "carbon-08-public-search")
    public.locator("#retirements a").first.click()
    public.wait_for_url(re.compile(r".*/certificates/"))
    expect(public.locator("#c-verdict")).to_contain_text("真实有效")
    shots(public, folder, "carbon-09-certificate")
    assert errors == []


def test_the_discharge_card_shows_its_alerts_after_an_import(browser: Any, served: tuple[str, str], folder: Path,
                                                             tmp_path: Path) -> None:
    base, url = served
    plant = person(browser, base, "factory", "/discharge/card")
    errors = collect_js_errors(plant)
    expect(plant.locator("#d-alerts .alert")).to_have_count(1)  # the seeded month took COD past 80 %
    expect(plant.locator("#d-alerts")).to_contain_text("80")
    shots(plant, folder, "discharge-01-card")
    assert horizontal_overflow(plant) == []
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.discharge.models import Enterprise

    with unit_of_work(session_factory(make_engine(url))) as s:
        code = s.scalar(select(Enterprise.credit_code).where(Enterprise.name == "丽水某化工企业（演示）"))
    today = datetime.now().date()
    bad = tmp_path / "bad.csv"
    bad.write_text("enterprise,pollutant,time,value,unit\n"
                   f"{code},cod,{today}T08:00:00+08:00,120,kg\n"
                   f"NOTACODE,cod,{today}T09:00:00+08:00,1,kg\n"
                   f"{code},cod,{today}T10:00:00+08:00,-4,kg\n"
                   f"{code},cod,{today}T11:00:00+08:00,4,lb\n", encoding="utf-8")
    plant.set_input_files("#file", str(bad))
    plant.click("#upload button[type=submit]")
    expect(plant.locator("#u-problems li")).to_have_count(3)
    expect(plant.locator("#u-problems")).to_contain_text("第 3 行")
    shots(plant, folder, "discharge-02-bad-file")
    good = tmp_path / "good.csv"
    good.write_text("enterprise,pollutant,time,value,unit\n" + "".join(
        f"{code},cod,{today}T{h:02d}:00:00+08:00,60,kg\n" for h in range(8, 14)), encoding="utf-8")
    plant.set_input_files("#file", str(good))
    plant.click("#upload button[type=submit]")
    expect(plant.locator("#u-done")).to_contain_text("已入账 6 条记录")
    expect(plant.locator("#d-alerts .alert")).to_have_count(2)
    expect(plant.locator("#d-alerts .alert.over")).to_contain_text("100")
    shots(plant, folder, "discharge-03-over-quota")
    plant.set_input_files("#file", str(good))  # the same file again books nothing
    plant.click("#upload button[type=submit]")
    expect(plant.locator("#u-done")).to_contain_text("已入账 0 条记录，6 条此前已入账")

    # the bad file's answer (422) is what the page showed as problems, not a fault of the page
    errors = [e for e in errors if "422" not in e or "/api/discharge/emissions/import" not in e]
    bureau = person(browser, base, "envofficer", "/discharge")
    errors += collect_js_errors(bureau)
    expect(bureau.locator("#enterprises tbody tr").first).to_contain_text("丽水某化工企业")
    expect(bureau.locator("#checks")).to_contain_text("不予建设")
    bureau.fill("#k-name", "龙泉新建造纸项目（浏览器测试）")
    bureau.select_option("#k-county", label="龙泉市")
    bureau.select_option("#k-pollutant", "cod")
    bureau.fill("#k-t", "5")
    bureau.click("#check button[type=submit]")
    expect(bureau.locator("#o-done")).to_have_text("不予建设：储备不足")
    expect(bureau.locator("#checks li").first).to_contain_text("龙泉新建造纸项目（浏览器测试）")
    shots(bureau, folder, "discharge-04-overview")
    assert errors == []
