"""The GEP assessment on a database (SQLite, and PostgreSQL when set): three counties whose stored accounts and
submitted values are chosen so every computed indicator can be scored by hand; one county's accounts changed
moves its score by the expected points; departments' workbooks with every kind of bad row refused by row with
nothing stored; the workbook template round trip; the departments' own assessment of how they provided data;
trades counted once from the exchange's event; and the API and public pages under each role and logged out."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update

from conftest import PASSWORD, served_app
from conftest import bearer as login
from gep.accounting.indicators import REGISTRY
from gep.app import build_platform
from gep.assessment import handlers, notice, rewards, service
from gep.assessment.models import RewardRound, Submission
from gep.auth import service as auth
from gep.db import make_engine, session_factory, unit_of_work
from gep.errors import Conflict, FileError, PermissionDenied
from gep.kit.events import Event
from gep.kit.principal import SYSTEM, Principal
from gep.migrations import upgrade
from gep.regions import service as regions
from gep.regions.models import AccountingRun, AccountValue
from gep.testing import TinyRegion, Village

K1, K2, K3 = "100101", "100102", "100103"
OFFICE = Principal(None, "office", "assessor", None, frozenset({"*"}), "system")
COUNTY, DEPT = "county-2021", "department-2021"
INDEX = {"2019": 100.0, "2020": 102.0}
SCALE = 1e6  # the values below are in millions of yuan
# 2019 at 2019 prices; 2020 given at constant prices here and stored ×1.02 (at 2020 prices, index 100 → 102)
Y2019 = {k: {"agriculture": 100.0, "water_conservation": 500.0, "climate_regulation": 300.0, "tourism": 100.0}
         for k in (K1, K2, K3)}
Y2020 = {K1: {"agriculture": 105.0, "water_conservation": 515.0, "climate_regulation": 300.0, "tourism": 100.0},
         K2: {"agriculture": 100.0, "water_conservation": 540.0, "climate_regulation": 300.0, "tourism": 110.0},
         K3: {"agriculture": 95.0, "water_conservation": 480.0, "climate_regulation": 290.0, "tourism": 95.0}}


@dataclass
class World:
    url: str
    factory: Any
    region_id: int
    runs: dict[int, int]


def region_package(root: Path) -> Path:
    classes = np.full((2, 6), 11)
    villages = [Village(f"{k}001001", (0, 2), (2 * i, 2 * i + 2), township=f"{k}001", county=k)
                for i, k in enumerate((K1, K2, K3))]
    return TinyRegion(classes, {"precipitation": np.full((2, 6), 1800.0)}, villages=villages).write(root)


def store_accounts(factory: Any, region_id: int, year: int, price_year: int, values: dict[str, dict[str, float]],
                   factor: float = 1.0) -> int:
    with unit_of_work(factory) as s:
        run = AccountingRun(region_id=region_id, year=year, method="zhejiang-2020", price_year=price_year,
                            status="succeeded", progress=1.0, stage="", message="", message_params={}, traceback="",
                            run_metadata={"price_index": {"values": INDEX}, "statistics": [
                                {"zone_code": K3, "item": "forest_stock", "value": 1e6 + (year - 2019) * 5e4,
                                 "unit": "m3"}]})
        s.add(run)
        s.flush()
        for county, inds in values.items():
            for ind, yuan in inds.items():
                for level, zone in (("county", county), ("township", f"{county}001")):  # one township a county
                    s.add(AccountValue(run_id=run.id, level=level, zone_code=zone, indicator=ind, sub_indicator=ind,
                                       category=REGISTRY[ind].SPEC.category, quantity=0.0, unit="",
                                       value_yuan=yuan * SCALE * factor))
        return run.id


@pytest.fixture(scope="module")
def world(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(empty_db, tmp_path_factory.mktemp("assess"))


def make_world(url: str, tmp: Path) -> World:
    """Three counties of one township each, their 2019 and 2020 accounts, the sets and policies, the users."""
    upgrade(url)
    factory = session_factory(make_engine(url))
    roles = build_platform().roles
    package = region_package(tmp / "three")
    with unit_of_work(factory) as s:
        region_id = regions.import_region(s, package, SYSTEM).id
        service.install(s)
        rewards.install_policies(s)
        stats = auth.create_organisation(s, "统计局", "government", SYSTEM)
        forestry = auth.create_organisation(s, "林业局", "government", SYSTEM)
        for name, role, org in (("office", "assessor", None), ("stats", "department_reporter", stats.id),
                                ("forester", "department_reporter", forestry.id), ("analyst", "analyst", None),
                                ("villager", "villager", None)):
            auth.create_user(s, name, PASSWORD, role, SYSTEM, roles=roles, organisation_id=org)
        service.link_department(s, "tjj", stats.id, OFFICE)
        service.link_department(s, "lyj", forestry.id, OFFICE)
    runs = {2019: store_accounts(factory, region_id, 2019, 2019, Y2019),
            2020: store_accounts(factory, region_id, 2020, 2020, Y2020, factor=1.02)}
    return World(url, factory, region_id, runs)


def as_user(w: World, username: str) -> Principal:
    from gep.auth.models import User

    with unit_of_work(w.factory) as s:
        u = s.scalar(select(User).where(User.username == username))
        perms = build_platform().permissions_of(u.role)
        return Principal(u.id, u.username, u.role, u.organisation_id, frozenset(perms), "password")


def rows(indicator: str, unit: str, values: dict[str, str]) -> list[dict[str, str]]:
    return [{"unit_code": k, "indicator": indicator, "value": v, "unit": unit} for k, v in values.items()]


def submit(w: World, year: int, data: list[dict[str, str]], by: Principal = OFFICE, **kw: Any) -> service.SubmitResult:
    with unit_of_work(w.factory) as s:
        return service.submit(s, COUNTY, year, w.region_id, data, by, **kw)


def cells(sheet_body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["code"]: u for u in sheet_body["units"]}


def test_a_year_scored_by_hand(world: World) -> None:
    w = world
    with unit_of_work(w.factory) as s:
        for deal, (county, yuan) in enumerate(((K1, 1_000_000), (K1, 500_000), (K2, 500_000)), start=1):
            handlers.trade_settled(s, Event(deal, handlers.TRADE_SETTLED, {
                "deal_id": deal, "listing": f"L{deal}", "county_code": county, "settled_on": "2020-06-01",
                "price_fen": yuan * 100}, None, datetime.now(UTC)))
    stats, forester = as_user(w, "stats"), as_user(w, "forester")
    submit(w, 2020, rows("D1.2", "%", {K1: "6", K2: "-1", K3: "4"}), stats)
    submit(w, 2020, rows("A2.1", "%", {K1: "81", K2: "76", K3: "69"}), forester)
    submit(w, 2019, rows("C2.2", "万人次", {K1: "100", K3: "100"}))
    submit(w, 2020, rows("C2.2", "万人次", {K1: "130", K2: "150", K3: "90"}))
    with unit_of_work(w.factory) as s:
        sheet = service.compute(s, COUNTY, w.region_id, 2020, OFFICE)
        body, sheet_id = sheet.body, sheet.id
    u = cells(body)
    pts = {k: {c: D(v["points"]) for c, v in u[k]["indicators"].items()} for k in u}
    vals = {k: {c: v["value"] for c, v in u[k]["indicators"].items()} for k in u}
    # growth at constant prices: 2020's values revalued by 100/102 before they meet 2019's
    assert (vals[K1]["D1.1"], vals[K2]["D1.1"], vals[K3]["D1.1"]) == ("2.00", "5.00", "-4.00")
    assert (pts[K1]["D1.1"], pts[K2]["D1.1"], pts[K3]["D1.1"]) == (D(40), D(60), D(0))  # 60 × g/3, capped
    assert (pts[K1]["A1.1"], pts[K2]["A1.1"], pts[K3]["A1.1"]) == (D(50), D(0), D(0))  # material +5/0/−5 %
    assert (pts[K2]["B1.1"], pts[K1]["B1.1"], pts[K3]["B1.1"]) == (D(50), D(40), D(30))  # rank 1/2/3, floor 0.6
    assert (pts[K1]["B3.1"], pts[K2]["B3.1"], pts[K3]["B3.1"]) == (D(40), D(40), D(24))  # a tie shares rank 1
    assert vals[K1]["B6.2"] == "1.88" and pts[K1]["B6.2"] == D("18.80")  # 815/800 − 1 = 1.875 % → 1.88
    assert (pts[K1]["D1.2"], pts[K2]["D1.2"], pts[K3]["D1.2"]) == (D(40), D(0), D("26.67"))
    assert (vals[K1]["D1.3"], vals[K2]["D1.3"], vals[K3]["D1.3"]) == ("1", "0", "0")  # both grew only in K1
    assert (pts[K1]["A2.1"], pts[K2]["A2.1"], pts[K3]["A2.1"]) == (D(30), D(24), D(0))
    assert (pts[K1]["C2.2"], pts[K2]["C2.2"], pts[K3]["C2.2"]) == (D(24), D(0), D(0))  # +30 of 50; K2 no 2019
    assert u[K2]["indicators"]["C2.2"]["note"] == "no value for the previous year"
    assert (vals[K1]["E2.1"], vals[K2]["E2.1"], vals[K3]["E2.1"]) == ("150.00", "50.00", "0.00")  # 万元
    assert (pts[K1]["E2.2"], pts[K2]["E2.2"]) == (D(2), D(1))
    # E2.1 ranks the amount but a county without a trade is not ranked: K1 40, K2 (last of two) 24, K3 0
    assert (pts[K1]["E2.1"], pts[K2]["E2.1"], pts[K3]["E2.1"]) == (D(40), D(24), D(0))
    assert u[K1]["indicators"]["A3.1"] == {"value": None, "points": "0.00", "note": "no value"}
    assert [(x["code"], x["total"], x["rank"]) for x in body["units"]] == [
        (K1, "364.80", 1), (K2, "269.00", 2), (K3, "80.67", 3)]
    assert u[K1]["level1"] == {"A": "80.00", "B": "98.80", "C": "24.00", "D": "120.00", "E": "42.00"}
    assert all(x["colour"] == "red" for x in body["units"])
    with unit_of_work(w.factory) as s:
        assert service.recheck(s, sheet_id)["same"]
        # the GEP-increment reward of the townships (one a county): 2 % of the increment at constant prices
        reward = rewards.compute_round(s, "gep-increment-2019", w.region_id, 2020, OFFICE)
        zones = {z["code"]: z for z in reward.body["zones"]}
        assert zones[f"{K1}001"]["basis_yuan"] == 20_000_000.0 and zones[f"{K1}001"]["wanted_fen"] == 40_000_000
        assert zones[f"{K2}001"]["wanted_fen"] == 100_000_000  # +50 M yuan
        assert zones[f"{K3}001"] == {**zones[f"{K3}001"], "wanted_fen": 0, "paid_fen": 0,
                                     "note": "basis not above the threshold"}
        assert reward.total_fen == 140_000_000 and not reward.body["binding"]
        reward_id = reward.id

    # one county's accounts change: K3's water conservation 480 → 560 at constant prices
    with unit_of_work(w.factory) as s:
        s.execute(update(AccountValue).where(AccountValue.run_id == w.runs[2020],
                                             AccountValue.zone_code.in_([K3, f"{K3}001"]),
                                             AccountValue.indicator == "water_conservation")
                  .values(value_yuan=560.0 * SCALE * 1.02))
        check = service.recheck(s, sheet_id)
        assert not check["same"] and {m["code"] for m in check["moved"]} == {K1, K2, K3}
        moved = rewards.recheck(s, reward_id)
        assert moved["moved"] == [{"code": f"{K3}001", "was_fen": 0, "now_fen": 80_000_000}]  # 2 % of +40 M yuan
        again = cells(service.compute(s, COUNTY, w.region_id, 2020, OFFICE).body)
    # K3: B1.1 30 → 50, B6.2 0 → 30, D1.1 0 → 60 (+4 %), D1.3 0 → 40; K1 and K2 drop a place in B1.1
    assert again[K3]["total"] == "230.67" and again[K3]["rank"] == 3
    assert again[K2]["total"] == "259.00" and again[K1]["total"] == "354.80"
    with unit_of_work(w.factory) as s:
        s.execute(update(AccountValue).where(AccountValue.run_id == w.runs[2020],
                                             AccountValue.zone_code.in_([K3, f"{K3}001"]),
                                             AccountValue.indicator == "water_conservation")
                  .values(value_yuan=480.0 * SCALE * 1.02))
        published = service.publish(s, service.compute(s, COUNTY, w.region_id, 2020, OFFICE).id, OFFICE)
        with pytest.raises(Conflict, match="published"):
            service.compute(s, COUNTY, w.region_id, 2020, OFFICE)
        assert cells(published.body)[K3]["total"] == "80.67"


def workbook_bytes(rows_: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["单位代码 unit_code", "指标代码 indicator", "计量单位 unit", "数值 value"])
    for r in rows_:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_bad_workbooks_are_refused_by_row_and_store_nothing(world: World) -> None:
    from gep.assessment import workbook

    w = world
    forester = as_user(w, "forester")
    with unit_of_work(w.factory) as s:
        before = s.scalar(select(func.count()).select_from(Submission))
    data = workbook_bytes([
        [K1, "A2.1", "%", 80],          # row 2: fine
        [K1, "Z9.9", "%", 1],           # 3: unknown indicator
        [K2, "A2.1", "km", 70],         # 4: wrong unit
        [K1, "A2.1", "%", 81],          # 5: K1 A2.1 twice
        [K3, "A2.1", "%", 180],         # 6: out of range
        ["999999", "A2.1", "%", 70],    # 7: not an assessed county
        [K2, "D1.2", "%", 5],           # 8: another department's indicator
        [K2, "D1.1", "%", 5],           # 9: computed by the platform
        [K3, "B6.1", "%", "lots"],      # 10: not a number
    ])
    rows_, first = workbook.read(data, "forestry.xlsx")
    with unit_of_work(w.factory) as s, pytest.raises(FileError) as err:
        service.submit(s, COUNTY, 2021, w.region_id, rows_, forester, "forestry.xlsx", data, first)
    got = {p.params["row"]: p.text() for p in err.value.problems}
    assert set(got) == {3, 4, 5, 6, 7, 8, 9, 10}, got
    assert "unknown indicator 'Z9.9'" in got[3]
    assert "measured in %, not 'km'" in got[4]
    assert "given twice (rows 2 and 5)" in got[5]
    assert "outside the plausible range 0 to 100" in got[6]
    assert "'999999' is not one of the assessed units" in got[7]
    assert "provided by another department (tjj)" in got[8]
    assert "computed by the platform" in got[9]
    assert "'lots' is not a number" in got[10]
    with unit_of_work(w.factory) as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == before
    formula = workbook_bytes([[K1, "A2.1", "%", "=70+10"]])
    with pytest.raises(FileError, match="1 problem"):
        workbook.read(formula, "f.xlsx")
    with pytest.raises(FileError) as err2:
        workbook.read(b"PK\x03\x04 not really", "fake.xlsx")
    assert "not an Excel workbook" in err2.value.problems[0].text()
    wb = Workbook()
    wb.active.append(["单位 unit", "指标代码 indicator", "数值 value"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(FileError, match="missing columns: unit_code \\("):
        workbook.read(buf.getvalue(), "h.xlsx")


def test_the_template_round_trip_and_idempotent_submission(world: World) -> None:
    from gep.assessment import rules, workbook

    w = world
    with unit_of_work(w.factory) as s:
        s_ = service.indicator_set(s, COUNTY)
        data = workbook.template(s_, 2021, service.units(s, s_, w.region_id), rules.provider_indicators(s_, "nyncj"),
                                 "农业农村局")
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[0] == "单位代码 unit_code" and header[6] == "数值 value"
    body = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(body) == 3 * 3 and {r[2] for r in body} == {"A1.2", "A1.3", "C1.1"}
    unchanged, _ = workbook.read(data, "t.xlsx")
    assert unchanged == []  # nothing filled in: nothing to store
    for i, row in enumerate(ws.iter_rows(min_row=2), start=1):
        row[6].value = 10 + i
    buf = io.BytesIO()
    wb.save(buf)
    filled, first = workbook.read(buf.getvalue(), "filled.xlsx")
    r1 = submit(w, 2021, filled, filename="filled.xlsx", first_row=first)
    assert (r1.rows, r1.stored, r1.unchanged) == (9, 9, 0)
    r2 = submit(w, 2021, filled, filename="filled.xlsx", first_row=first)
    assert (r2.stored, r2.unchanged) == (0, 9)
    with unit_of_work(w.factory) as s:
        stored = service.current(s, COUNTY, 2021)
        assert stored[(K1, "A1.2")].value == "11" and stored[(K1, "A1.2")].synthetic is False


def test_departments_are_assessed_on_how_they_provided_data(world: World) -> None:
    w = world
    stats = as_user(w, "stats")
    on_time = datetime(2022, 3, 31, 23, 0, tzinfo=service.CHINA)
    late = datetime(2022, 4, 1, 0, 30, tzinfo=service.CHINA)
    submit(w, 2021, rows("D1.2", "%", {K1: "5", K2: "6", K3: "7"}), stats, at=on_time)
    submit(w, 2021, rows("D1.2", "%", {K1: "5.5"}), stats, at=late)  # a correction, late
    submit(w, 2021, rows("A2.1", "%", {K1: "80", K2: "80"}), as_user(w, "forester"), at=late)
    with unit_of_work(w.factory) as s:
        units = cells(service.compute(s, DEPT, w.region_id, 2021, OFFICE).body)
    tjj, lyj = units["tjj"]["indicators"], units["lyj"]["indicators"]
    assert tjj["P1.1"]["value"] == "100.00" and tjj["P1.1"]["points"] == "250.00"
    assert tjj["P2.1"]["value"] == "66.67" and tjj["P2.1"]["points"] == "100.01"  # 150 × 66.67/100 = 100.005, half up
    # forestry provides A2.1 and B6.1 for three counties (6 cells): 2 sent, both after the deadline
    assert lyj["P1.1"]["value"] == "0.00" and lyj["P2.1"]["value"] == "100.00"


def test_trades_are_counted_once(world: World) -> None:
    with unit_of_work(world.factory) as s:
        event = Event(99, handlers.TRADE_SETTLED, {"deal_id": 77, "listing": "L77", "county_code": K3,
                                                   "settled_on": "2023-05-01", "price_fen": 12345},
                      None, datetime.now(UTC))
        handlers.trade_settled(s, event)
        handlers.trade_settled(s, event)
        assert service.trades_by_county(s, 2023) == {K3: (1, 12345)}


# -- through the API and the public pages -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from served_app(world.url, tmp_path_factory.mktemp("data"))  # type: ignore[misc]



def test_the_api_and_public_pages(world: World, client: TestClient) -> None:
    w = world
    office, stats, villager = (login(client, u) for u in ("office", "stats", "villager"))
    body = {"set": COUNTY, "year": 2022, "region_id": w.region_id}
    assert client.post("/api/assessment/sheets", json=body, headers=villager).status_code == 403
    assert client.post("/api/assessment/sheets", json=body, headers=stats).status_code == 403
    r = client.post("/api/assessment/values", headers=stats, json={**body, "rows": [
        {"unit_code": K1, "indicator": "A2.1", "value": "80", "unit": "%"}]})
    assert r.status_code == 422 and "another department" in r.json()["problems"][0]["message"]
    r = client.post("/api/assessment/values", headers=stats, json={**body, "rows": [
        {"unit_code": K1, "indicator": "D1.2", "value": "7.5", "unit": "%"}]})
    assert r.status_code == 200 and r.json()["stored"] == 1
    assert client.post("/api/assessment/values", headers=villager, json={**body, "rows": [
        {"unit_code": K1, "indicator": "D1.2", "value": "7.5", "unit": "%"}]}).status_code == 403
    tpl = client.get(f"/api/assessment/template.xlsx?set={COUNTY}&year=2022&region_id={w.region_id}", headers=stats)
    assert tpl.status_code == 200 and tpl.content[:2] == b"PK"
    sheet = client.post("/api/assessment/sheets", json=body, headers=office).json()
    assert sheet["status"] == "draft" and sheet["missing_accounts"] is True
    card = f"/public/assessment/{COUNTY}/2022/{K1}"
    # a draft is never public: not the card, not its QR, not the list
    assert client.get(card).status_code == 404
    assert client.get(f"/api/assessment/cards/{COUNTY}/2022/{K1}/qr.svg").status_code == 404
    assert "2022" not in client.get("/public/assessment").text
    assert client.post(f"/api/assessment/sheets/{sheet['id']}/publish", headers=office).status_code == 409
    # the 2020 sheet (published above) is public, and its card is plain HTML
    page = client.get(f"/public/assessment/{COUNTY}/2020/{K1}?lang=en")
    assert page.status_code == 200
    assert "364.80" in page.text and "rank 1 of 3" in page.text and "GEP growth (constant prices)" in page.text
    qr = client.get(f"/api/assessment/cards/{COUNTY}/2020/{K1}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg")
    listing = client.get("/public/assessment")
    assert listing.status_code == 200 and f"/public/assessment/{COUNTY}/2020/{K3}" in listing.text
    assert client.get("/assessment", follow_redirects=False).status_code in (302, 303, 401)
    assert client.get("/api/assessment/sheets").status_code == 401
    with pytest.raises(PermissionDenied), unit_of_work(w.factory) as s:
        service.compute(s, COUNTY, w.region_id, 2022, as_user(w, "analyst"))


def test_rewards_within_a_budget_paid_once_with_a_notice(world: World) -> None:
    from pypdf import PdfReader

    from gep.ledger.models import LedgerAccount

    w = world
    with unit_of_work(w.factory) as s:
        # a budget of 10,000 yuan against 1.4 M asked: cut in proportion, the fen left to the largest remainder
        row = rewards.compute_round(s, "gep-increment-2019", w.region_id, 2020, OFFICE, budget_fen=1_000_000)
        paid = {z["code"]: z["paid_fen"] for z in row.body["zones"]}
        assert paid == {f"{K2}001": 714_286, f"{K1}001": 285_714, f"{K3}001": 0}
        assert row.total_fen == 1_000_000 and row.body["binding"]
        by_rank = rewards.compute_round(s, "assessment-rank-2021", w.region_id, 2020, OFFICE)
        assert {z["code"]: z["paid_fen"] for z in by_rank.body["zones"]} == {
            K1: 300_000_000, K2: 200_000_000, K3: 100_000_000}
        with pytest.raises(Conflict, match="no published county-2021 sheet for 2019"):
            rewards.compute_round(s, "assessment-rank-2021", w.region_id, 2019, OFFICE)
    for attempt in range(2):  # approving twice posts once
        with unit_of_work(w.factory) as s:
            assert rewards.approve(s, row.id, OFFICE)[1] == (attempt == 0)
    with unit_of_work(w.factory) as s:
        accounts = {a.code: a for a in s.scalars(select(LedgerAccount).where(LedgerAccount.code.like("rewards:%"))
                                                 .execution_options(skip_scope=True))}
        assert accounts[f"rewards:zone:{K2}001"].credits_posted == 714_286
        fund = accounts["rewards:fund:gep-increment"]
        assert fund.debits_posted - fund.credits_posted == 1_000_000
        with pytest.raises(Conflict, match="approved"):
            rewards.compute_round(s, "gep-increment-2019", w.region_id, 2020, OFFICE)
        view = rewards.round_view(s, rewards.get_round(s, row.id))
    pdf = notice.pdf(view, "测试市", "zh")
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\x00", "")
    assert "10,000.00" in text and "7,142.86" in text and "2,857.14" in text


def test_the_public_release_shows_only_what_is_published(world: World, client: TestClient) -> None:
    w = world
    analyst, villager = login(client, "analyst"), login(client, "villager")
    run19, run20 = w.runs[2019], w.runs[2020]
    hidden = [f"/public/gep/{run20}", f"/public/gep/{run20}/method", f"/public/gep/{run20}/report/zh.pdf",
              f"/api/public/gep/{run20}/map?level=county"]
    assert client.post("/api/assessment/publications", json={"run_id": run19}, headers=villager).status_code == 403
    assert client.post("/api/assessment/publications", json={"run_id": run19}).status_code in (401, 403)
    r = client.post("/api/assessment/publications", json={"run_id": run19}, headers=analyst)
    assert r.status_code == 201, r.text
    assert client.post("/api/assessment/publications", json={"run_id": run19}, headers=analyst).status_code == 409
    for path in hidden:  # logged out, a run not published is not there at all
        assert client.get(path).status_code == 404, path
    page = client.get(f"/public/gep/{run19}?level=county&lang=en")
    assert page.status_code == 200 and "县100101" in page.text
    # K1's 2019 GEP: 1,000 million yuan = 100,000 (10 k yuan), in a table that needs no script
    assert ">100,000<" in page.text.replace(" ", "")
    geo = client.get(f"/api/public/gep/{run19}/map?level=county").json()
    assert {f["properties"]["code"] for f in geo["features"]} == {K1, K2, K3}
    assert client.get(f"/public/gep/{run19}/method").status_code == 200
    portal = client.get("/public").text
    assert f"/public/gep/{run19}" in portal and f"/public/gep/{run20}" not in portal
    r = client.post(f"/api/assessment/publications/{run19}/withdraw", json={"reason": "a correction is coming"},
                    headers=analyst)
    assert r.status_code == 200
    assert client.get(f"/public/gep/{run19}").status_code == 404
    assert f"/public/gep/{run19}" not in client.get("/public").text


# -- a property test of the rewards' ledger -----------------------------------------------------------------------

class RewardRounds(RuleBasedStateMachine):
    """Rounds computed with any budget, approved or not, in any order, on the three counties' towns: every approved
    round paid exactly its total once, never more than its budget, and the fund paid out what the zones got."""

    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        # round id -> total paid; the database outlives an example, so the model starts from what it holds
        with unit_of_work(self.world.factory) as s:
            self.approved: dict[int, int] = {r.id: r.total_fen for r in s.scalars(
                select(RewardRound).where(RewardRound.status == "approved"))}

    @rule(year=st.sampled_from([2020]), budget=st.integers(0, 2_000_000_00), policy=st.sampled_from(
        ["gep-increment-2019", "regulating-purchase-2020"]))
    def compute(self, year: int, budget: int, policy: str) -> None:
        with unit_of_work(self.world.factory) as s:
            try:
                row = rewards.compute_round(s, policy, self.world.region_id, year, OFFICE, budget_fen=budget)
            except Conflict:  # approved already: it stays as paid
                return
            assert row.total_fen <= budget and row.total_fen == sum(z["paid_fen"] for z in row.body["zones"])

    @rule(policy=st.sampled_from(["gep-increment-2019", "regulating-purchase-2020"]))
    def approve(self, policy: str) -> None:
        with unit_of_work(self.world.factory) as s:
            row = s.scalar(select(RewardRound).where(RewardRound.policy_version == policy))
            if row is None:
                return
            row, posted = rewards.approve(s, row.id, OFFICE)
            assert posted == (row.id not in self.approved)
            self.approved[row.id] = row.total_fen

    @invariant()
    def the_ledger_agrees(self) -> None:
        from gep.ledger.models import LedgerAccount

        with unit_of_work(self.world.factory) as s:
            accounts = list(s.scalars(select(LedgerAccount).where(LedgerAccount.code.like("rewards:%"))
                                      .execution_options(skip_scope=True)))
            funds = sum(a.debits_posted - a.credits_posted for a in accounts if a.code.startswith("rewards:fund:"))
            zones = sum(a.credits_posted - a.debits_posted for a in accounts if a.code.startswith("rewards:zone:"))
            assert funds == zones == sum(self.approved.values())


def test_reward_rounds_pay_once_and_within_their_budget(tmp_path: Path) -> None:
    RewardRounds.world = make_world(f"sqlite:///{tmp_path / 'rounds.db'}", tmp_path)
    run = RewardRounds.TestCase
    run.settings = settings(max_examples=8, stateful_step_count=6, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow])
    run().runTest()


def test_a_tenure_audit_by_hand(world: World) -> None:
    from datetime import date

    from gep.assessment import tenure, tenure_report
    from gep.errors import InputError, NotFound

    w = world
    with unit_of_work(w.factory) as s:
        a = tenure.view(tenure.create(s, w.region_id, K3, date(2019, 6, 30), date(2020, 12, 31), "县长甲", OFFICE))
        with pytest.raises(InputError, match="same accounts"):
            tenure.compute(s, w.region_id, K3, date(2020, 1, 1), date(2020, 12, 31))
        with pytest.raises(InputError, match="must end after it starts"):
            tenure.compute(s, w.region_id, K3, date(2020, 1, 1), date(2019, 12, 31))
        with pytest.raises(InputError, match="no accounts at or before 2018-12-31"):
            tenure.compute(s, w.region_id, K3, date(2018, 12, 31), date(2020, 12, 31))
        with pytest.raises(NotFound):
            tenure.compute(s, w.region_id, "999999", date(2019, 1, 1), date(2020, 12, 31))
    assert a["code"].startswith("AUD-")
    assert (a["start"]["year"], a["end"]["year"], a["price_year"]) == (2019, 2020, 2019)
    g = {x["key"]: x for x in a["gep"]}
    # K3 at 2019 prices: 1,000 → 960 million yuan (the 2020 accounts revalued by 100/102)
    assert g["gep"]["start_yuan"] == pytest.approx(1000e6) and g["gep"]["end_yuan"] == pytest.approx(960e6)
    assert g["gep"]["change_pct"] == pytest.approx(-4.0)
    assert g["water_conservation"]["change_yuan"] == pytest.approx(-20e6)
    assert a["fell"] == ["agriculture", "climate_regulation", "tourism", "water_conservation"]
    assert a["forest_stock_m3"] == [1e6, 1.05e6]  # from the statistics each run used
    assert [x["key"] for x in a["gep"][:4]] == ["gep", "cultural", "material", "regulating"]
    pdf = tenure_report.pdf(a, "zh")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_pilot_tasks_move_by_their_owner_and_show_overdue(world: World) -> None:
    from datetime import date

    from gep.assessment import pilot_tasks
    from gep.errors import InputError

    w = world
    stats, forester = as_user(w, "stats"), as_user(w, "forester")
    with unit_of_work(w.factory) as s:
        t = pilot_tasks.create(s, "GDP与GEP双核算", "tjj", date(2021, 6, 30), OFFICE)
        assert pilot_tasks.view(t, today=date(2021, 7, 1))["overdue"]
        assert not pilot_tasks.view(t, today=date(2021, 6, 30))["overdue"]
        with pytest.raises(PermissionDenied):
            pilot_tasks.move(s, t.id, "in_progress", forester)  # another department's task
        pilot_tasks.move(s, t.id, "in_progress", stats)
        pilot_tasks.move(s, t.id, "done", stats, on=date(2021, 7, 15))
        v = pilot_tasks.view(t, today=date(2022, 1, 1))
        assert (v["status"], v["overdue"], v["late"]) == ("done", False, True)
        with pytest.raises(Conflict, match="cannot go"):
            pilot_tasks.move(s, t.id, "open", stats)  # a done task is reopened by the office only
        with pytest.raises(InputError, match="needs a note"):
            pilot_tasks.move(s, t.id, "in_progress", OFFICE)
        assert pilot_tasks.move(s, t.id, "in_progress", OFFICE, "数据口径调整").done_on is None
