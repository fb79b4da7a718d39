"""The exchange through its API, on SQLite and PostgreSQL: the whole life of a listing in each trading mode, the
money through escrow to the fen, the right locked and passed in the registry, timers that close and lapse
without anyone looking, every bad input a clear 4xx that changes nothing, and who may do what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from exchange_fixtures import World, client_of, drain, h, make_world, money, travel
from gep.db import unit_of_work
from gep.registry import service as registry


@pytest.fixture(scope="module")
def world(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(empty_db, tmp_path_factory.mktemp("exchange"))


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    yield from client_of(world)


def listing(client: TestClient, user: str, **body: Any) -> dict[str, Any]:
    r = client.post("/api/exchange/listings", json=body, headers=h(client, user))
    assert r.status_code == 201, r.text
    return r.json()


def post(client: TestClient, path: str, user: str, body: dict | None = None, key: str | None = None,
         status: int = 200) -> dict[str, Any]:
    headers = dict(h(client, user)) | ({"Idempotency-Key": key} if key else {})
    r = client.post(path, json=body or {}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def announced(client: TestClient, user: str, **body: Any) -> dict[str, Any]:
    """A listing created, submitted, approved, announced, and open for bidding."""
    x = listing(client, user, **body)
    post(client, f"/api/exchange/listings/{x['id']}/submit", user)
    post(client, f"/api/exchange/listings/{x['id']}/review", "officer", {"approve": True})
    post(client, f"/api/exchange/listings/{x['id']}/announce", "officer")
    travel(client, x["id"], opens_in_s=-1)
    drain(client)
    return client.get(f"/api/exchange/listings/{x['id']}", headers=h(client, user)).json()


def get(client: TestClient, listing_id: int, user: str = "officer") -> dict[str, Any]:
    return client.get(f"/api/exchange/listings/{listing_id}", headers=h(client, user)).json()


def sheet(client: TestClient) -> dict[str, Any]:
    return client.get("/api/ledger/balance-sheet", headers=h(client, "finance")).json()


def test_an_ascending_auction_from_listing_to_certificate(client: TestClient, world: World) -> None:
    right = world.rights["张三"]
    x = listing(client, "seller", category_code="forest_right", title="张三的林地经营权", mode="ascending",
                start_price="100000.00", increment="5000.00", reserve="110000.00", right_id=right,
                extension_window_minutes=5, extension_minutes=5)
    assert x["state"] == "draft" and x["deposit"] == "10000.00"  # 10 % of the starting price
    assert x["area_mu"] == "60.00"  # 2 × 2 pixels of 100 m: 40,000 m² = 60 亩
    post(client, f"/api/exchange/listings/{x['id']}/submit", "seller")
    with unit_of_work(client.app.state.factory) as s:  # type: ignore[attr-defined]
        locks = registry.locks_of(s, [right])[right]
        assert [k.kind for k in locks] == ["trade"]  # locked for the trade from submission
    assert post(client, f"/api/exchange/listings/{x['id']}/review", "seller", {"approve": True},
                status=403)["error"] == "PermissionDenied"  # a seller never reviews their own listing
    post(client, f"/api/exchange/listings/{x['id']}/review", "officer", {"approve": True})
    a = post(client, f"/api/exchange/listings/{x['id']}/announce", "officer")
    assert a["state"] == "announced" and a["opens_at"] and a["closes_at"]
    before = {u: money(client, u) for u in ("e1", "e2", "e3")}
    for u in ("e1", "e2"):
        r = post(client, f"/api/exchange/listings/{x['id']}/register", u, status=201)
        assert r["my_registration"]["state"] == "active"
    assert money(client, "e1")["held"] == "10000.00"
    assert Decimal(money(client, "e1")["available"]) == Decimal(before["e1"]["available"]) - 10000
    travel(client, x["id"], opens_in_s=-1)
    drain(client)  # the timer opens the bidding
    assert get(client, x["id"])["state"] == "bidding"
    b1 = post(client, f"/api/exchange/listings/{x['id']}/bids", "e1", {"price": "100000.00"}, key="k1", status=201)
    b2 = post(client, f"/api/exchange/listings/{x['id']}/bids", "e2", {"price": "105000.00"}, key="k2", status=201)
    assert (b1["bid"]["seq"], b2["bid"]["seq"]) == (1, 2)
    travel(client, x["id"], closes_in_s=60)  # a bid in the last five minutes moves the close
    b3 = post(client, f"/api/exchange/listings/{x['id']}/bids", "e1", {"price": "120000.00"}, key="k3", status=201)
    ladder = client.get(f"/api/exchange/listings/{x['id']}/bids", headers=h(client, "e3")).json()
    assert [b["price"] for b in ladder["bids"]] == ["100000.00", "105000.00", "120000.00"]
    assert ladder["current_price"] == "120000.00" and ladder["minimum_next"] == "125000.00"
    closes = get(client, x["id"])["closes_at"]
    assert closes == b3["closes_at"] and b3["closes_at"] > b2["bid"]["at"]  # extended to 5 min after the bid
    travel(client, x["id"], closes_in_s=-1)
    drain(client)  # the timer closes and awards
    y = get(client, x["id"])
    assert y["state"] == "awarded" and len(y["deals"]) == 1
    deal = y["deals"][0]
    assert (deal["total"], deal["alias"]) == ("120000.00", 1)
    assert money(client, "e2")["held"] == "0.00"  # the loser's deposit is released at the close
    assert money(client, "e2")["available"] == before["e2"]["available"]
    post(client, f"/api/exchange/deals/{deal['id']}/sign", "e2", status=403)  # only the winner signs
    post(client, f"/api/exchange/deals/{deal['id']}/sign", "e1")
    z = post(client, f"/api/exchange/deals/{deal['id']}/settle", "e1")
    assert z["state"] == "certificate_issued"
    d = z["deals"][0]
    assert d["state"] == "certificate_issued" and d["certificate_serial"].startswith("GEP-")
    # money: the buyer paid 120,000 (the deposit counted towards it), the seller received it, nothing is held
    assert Decimal(money(client, "e1")["balance"]) == Decimal(before["e1"]["balance"]) - 120000
    assert money(client, "e1")["held"] == "0.00"
    assert money(client, "seller")["balance"] == "120000.00"
    s = sheet(client)
    assert s["balanced"] and s["pending_debits"] == s["pending_credits"]
    escrow = next(a for a in s["accounts"] if a["code"] == "platform:escrow")
    assert escrow["balance"] == "0.00"
    # the title passed in the registry, the lock is gone, and the certificate verifies
    with unit_of_work(client.app.state.factory) as s2:  # type: ignore[attr-defined]
        r = registry.get_right(s2, right)
        holder = registry.get_holder_unscoped(s2, r.holder_id)
        assert holder.name == "甲企业" and not registry.locks_of(s2, [right]).get(right)
    cert = client.get(f"/api/certificates/{d['certificate_serial']}").json()
    assert cert["status"] == "valid" and any(line["value"] == "¥120,000.00" for line in cert["lines"])
    pdf = client.get(f"/api/certificates/{d['certificate_serial']}/pdf", headers=h(client, "e1"))
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert client.get(f"/api/certificates/{d['certificate_serial']}/pdf").status_code == 403  # parties only
    checked = client.post("/api/certificates/verify", files={"file": ("c.pdf", pdf.content, "application/pdf")})
    assert checked.json()["status"] == "valid"
    history = [(e["verb"], e["to"]) for e in z["history"]]
    # the notice lasts a second in these tests: on a slow machine the bidding may open between the registrations
    assert [v for v, _to in history[:7] if v != "open"][:6] == ["create", "submit", "approve", "announce", "register",
                                                               "register"]
    assert history[:4] == [("create", "draft"), ("submit", "submitted"), ("approve", "approved"),
                           ("announce", "announced")] and history.count(("open", "bidding")) == 1
    assert ("award", "awarded") in history and history[-1] == ("certify", "certificate_issued")


def _state_of_money(client: TestClient) -> tuple:
    s = sheet(client)
    return tuple((a["code"], a["balance"], a["held"]) for a in s["accounts"])


def test_every_bad_bid_is_a_clear_4xx_and_changes_nothing(client: TestClient, world: World) -> None:
    x = announced(client, "coop", category_code="sand_gravel", title="砂石 2 t", mode="ascending",
                  start_price="1000.00", increment="100.00")
    lid = x["id"]
    post(client, f"/api/exchange/listings/{lid}/register", "e1", status=201)
    post(client, f"/api/exchange/listings/{lid}/bids", "e1", {"price": "1000.00"}, key="first", status=201)
    money_before, count_before = _state_of_money(client), get(client, lid)["bid_count"]

    def refused(user: str, body: dict, status: int, words: str, key: str | None = "k") -> None:
        headers = dict(h(client, user)) | ({"Idempotency-Key": f"{key}-{user}-{abs(hash(str(body)))}"} if key else {})
        r = client.post(f"/api/exchange/listings/{lid}/bids", json=body, headers=headers)
        assert r.status_code == status, (body, r.text)
        assert words in r.json()["detail"], r.json()
        assert get(client, lid)["bid_count"] == count_before and _state_of_money(client) == money_before

    post(client, f"/api/exchange/listings/{lid}/register", "e2", status=201)
    money_before = _state_of_money(client)
    refused("e2", {"price": "1099.99"}, 409, "at least 1,100.00 yuan")  # below the price plus the increment
    refused("e1", {"price": "1200.00"}, 409, "highest bid already")  # outbidding oneself
    refused("e3", {"price": "5000.00"}, 409, "register for listing")  # no registration, no deposit
    refused("coop", {"price": "5000.00"}, 403, "seller may not bid")  # the seller
    refused("viewer", {"price": "5000.00"}, 403, "may not do this")  # a role that does not trade
    refused("e2", {"price": "abc"}, 422, "price")  # not a number
    refused("e2", {"price": "-5"}, 422, "price")  # negative
    refused("e2", {"price": "0"}, 422, "price")  # zero
    refused("e2", {"price": "1200.001"}, 422, "price")  # a tenth of a fen
    refused("e2", {"price": "1200.00", "quantity": 2}, 422, "whole lot")  # units in a single-lot auction
    refused("e2", {"price": "1200.00"}, 422, "Idempotency-Key", key=None)  # no key: a retry could bid twice
    # a replayed request returns the first bid and changes nothing
    first = client.post(f"/api/exchange/listings/{lid}/bids", json={"price": "1000.00"},
                        headers=dict(h(client, "e1")) | {"Idempotency-Key": "first"})
    assert first.status_code == 200 and first.headers["Idempotent-Replayed"] == "true"
    assert first.json()["bid"]["seq"] == 1 and get(client, lid)["bid_count"] == count_before
    # a right frozen by a court while it trades: bidding is suspended
    y = announced(client, "seller", category_code="forest_right", title="李四林地", mode="ascending",
                  start_price="1000.00", increment="10.00", right_id=world.rights["李四"])
    post(client, f"/api/exchange/listings/{y['id']}/register", "e2", status=201)
    with unit_of_work(client.app.state.factory) as s:  # type: ignore[attr-defined]
        from gep.kit.principal import SYSTEM

        freeze = registry.lock(s, world.rights["李四"], "freeze", "某法院", SYSTEM)
    r = client.post(f"/api/exchange/listings/{y['id']}/bids", json={"price": "1000.00"},
                    headers=dict(h(client, "e2")) | {"Idempotency-Key": "frozen"})
    assert r.status_code == 409 and "suspended" in r.json()["detail"]
    with unit_of_work(client.app.state.factory) as s:  # type: ignore[attr-defined]
        registry.release(s, world.rights["李四"], freeze, SYSTEM)
    # after the close
    travel(client, lid, closes_in_s=-1)
    late = client.post(f"/api/exchange/listings/{lid}/bids", json={"price": "5000.00"},
                       headers=dict(h(client, "e2")) | {"Idempotency-Key": "late"})
    assert late.status_code == 409 and "closed" in late.json()["detail"]
    drain(client)
    assert get(client, lid)["state"] == "awarded"


def test_listing_a_locked_or_foreign_right_is_refused(client: TestClient, world: World) -> None:
    foreign = client.post("/api/exchange/listings", json={"category_code": "forest_right", "title": "别人的林地",
                                                          "mode": "ascending", "start_price": "1000",
                                                          "increment": "10", "right_id": world.rights["王五"]},
                          headers=h(client, "seller"))
    assert foreign.status_code == 403 and "only the holder" in foreign.json()["detail"]
    wrong = client.post("/api/exchange/listings", json={"category_code": "idle_house", "title": "林地当农房",
                                                        "mode": "negotiated", "start_price": "1000",
                                                        "right_id": world.rights["张三"]}, headers=h(client, "seller"))
    assert wrong.status_code in (403, 422)  # 张三's right passed to 甲企业 in the first test, or is of the wrong type
    bad_mode = client.post("/api/exchange/listings", json={"category_code": "idle_house", "title": "x",
                                                           "mode": "multi_unit", "start_price": "1"},
                           headers=h(client, "coop"))
    assert bad_mode.status_code == 201  # a draft may be anything; submitting checks the category's modes
    r = client.post(f"/api/exchange/listings/{bad_mode.json()['id']}/submit", headers=h(client, "coop"))
    assert r.status_code == 422 and "does not trade by" in r.json()["detail"]
    for code, page in (("forest_carbon", "/carbon/my"), ("discharge", "/discharge/card")):
        by_hand = client.post("/api/exchange/listings", json={"category_code": code, "title": "没有登记的单位",
                                                              "mode": "multi_unit", "start_price": "1", "quantity": 5},
                              headers=h(client, "coop"))
        assert by_hand.status_code == 422 and page in by_hand.json()["detail"]  # units come from their registry


def test_a_sealed_bid_auction_hides_bids_and_the_highest_wins(client: TestClient) -> None:
    x = announced(client, "coop", category_code="sand_gravel", title="砂石 1000 m³", mode="sealed",
                  start_price="50000.00", reserve="60000.00")
    lid = x["id"]
    for user, price in (("e1", "65000.00"), ("e2", "70000.00"), ("e3", "70000.00")):
        post(client, f"/api/exchange/listings/{lid}/register", user, status=201)
        post(client, f"/api/exchange/listings/{lid}/bids", user, {"price": price}, key=f"s-{user}", status=201)
    again = client.post(f"/api/exchange/listings/{lid}/bids", json={"price": "90000.00"},
                        headers=dict(h(client, "e1")) | {"Idempotency-Key": "s-again"})
    assert again.status_code == 409 and "once" in again.json()["detail"]
    seen = client.get(f"/api/exchange/listings/{lid}/bids", headers=h(client, "e1")).json()
    assert seen["hidden"] and [b["price"] for b in seen["bids"]] == ["65000.00"]  # only one's own
    assert client.get(f"/api/exchange/listings/{lid}/bids").json()["bids"] == []
    travel(client, lid, closes_in_s=-1)
    drain(client)
    y = get(client, lid, "e2")
    # 70,000 twice: the earlier bid (e2's) wins; everyone's bids are shown after the close
    assert y["state"] == "awarded" and y["deals"][0]["total"] == "70000.00" and y["deals"][0]["is_buyer"]
    assert len(client.get(f"/api/exchange/listings/{lid}/bids").json()["bids"]) == 3


def test_an_auction_below_its_reserve_fails_and_releases_everything(client: TestClient) -> None:
    x = announced(client, "coop", category_code="sand_gravel", title="砂石 500 m³", mode="sealed",
                  start_price="50000.00", reserve="80000.00")
    post(client, f"/api/exchange/listings/{x['id']}/register", "e3", status=201)
    post(client, f"/api/exchange/listings/{x['id']}/bids", "e3", {"price": "60000.00"}, key="r-e3", status=201)
    assert money(client, "e3")["held"] == "5000.00"
    travel(client, x["id"], closes_in_s=-1)
    drain(client)
    y = get(client, x["id"])
    assert (y["state"], y["reason"]) == ("failed", "the reserve price was not met")
    assert money(client, "e3")["held"] == "0.00"


def test_a_multi_unit_auction_by_the_zhejiang_rule(client: TestClient) -> None:
    x = announced(client, "coop", category_code="sand_gravel", title="河砂 10 t", mode="multi_unit",
                  start_price="4000.00", quantity=10, unit="t", max_bids=3, top_share_pct="70")
    lid = x["id"]
    assert x["deposit"] == "4000.00"  # 10 % of 10 t × 4,000
    plan = {"e1": [("4100.00", 6), ("4350.00", 6)], "e2": [("4200.00", 5)], "e3": [("4150.00", 4)]}
    for user, bids in plan.items():
        post(client, f"/api/exchange/listings/{lid}/register", user, status=201)
        for i, (price, qty) in enumerate(bids):
            post(client, f"/api/exchange/listings/{lid}/bids", user, {"price": price, "quantity": qty},
                 key=f"m-{user}-{i}", status=201)
    for i in range(2):
        post(client, f"/api/exchange/listings/{lid}/bids", "e3", {"price": "4150.00", "quantity": 4},
             key=f"m-e3-more-{i}", status=201)
    fourth = client.post(f"/api/exchange/listings/{lid}/bids", json={"price": "4500.00", "quantity": 1},
                         headers=dict(h(client, "e3")) | {"Idempotency-Key": "m-e3-4"})
    assert fourth.status_code == 409 and "3 times" in fourth.json()["detail"]
    too_many = client.post(f"/api/exchange/listings/{lid}/bids", json={"price": "4500.00", "quantity": 11},
                           headers=dict(h(client, "e2")) | {"Idempotency-Key": "m-e2-11"})
    assert too_many.status_code == 422
    travel(client, lid, closes_in_s=-1)
    drain(client)
    deals = {d["buyer_name"]: d for d in get(client, lid)["deals"]}
    # 3 bidders → round(2.1) = 2 win: 甲 (4,350 × 6), 乙 (4,200 × the 4 left); 丙 (4,150) loses
    assert {k: (d["price"], d["quantity"], d["total"]) for k, d in deals.items()} == {
        "甲企业": ("4350.00", 6, "26100.00"), "乙企业": ("4200.00", 4, "16800.00")}
    assert money(client, "e3")["held"] == "0.00"
    for user, d in (("e1", deals["甲企业"]), ("e2", deals["乙企业"])):
        post(client, f"/api/exchange/deals/{d['id']}/sign", user)
        post(client, f"/api/exchange/deals/{d['id']}/settle", user)
    y = get(client, lid)
    assert y["state"] == "certificate_issued" and all(d["certificate_serial"] for d in y["deals"])
    assert sheet(client)["balanced"]


def test_a_winner_who_does_not_sign_defaults_and_forfeits_the_deposit(client: TestClient) -> None:
    x = announced(client, "coop", category_code="sand_gravel", title="砂石 200 m³", mode="ascending",
                  start_price="20000.00", increment="1000.00")
    lid = x["id"]
    post(client, f"/api/exchange/listings/{lid}/register", "e3", status=201)
    post(client, f"/api/exchange/listings/{lid}/bids", "e3", {"price": "20000.00"}, key="d-e3", status=201)
    before = Decimal(money(client, "e3")["balance"])
    forfeits_before = _account(client, "platform:forfeits")
    travel(client, lid, closes_in_s=-1)
    drain(client)
    deal = get(client, lid)["deals"][0]
    late = client.post(f"/api/exchange/deals/{deal['id']}/sign", headers=h(client, "e3"))
    assert late.status_code == 200  # still in time
    travel(client, lid, deal_due_in_s=-1)
    drain(client)  # the payment deadline passes: the deal defaults
    y = get(client, lid)
    assert y["state"] == "defaulted" and y["deals"][0]["reason"] == "the price was not paid in time"
    assert Decimal(money(client, "e3")["balance"]) == before - 2000  # the deposit is gone
    assert _account(client, "platform:forfeits") == forfeits_before + 2000
    pay = client.post(f"/api/exchange/deals/{deal['id']}/settle", headers=h(client, "e3"))
    assert pay.status_code == 409  # too late now
    drain(client)  # idempotent: nothing more happens
    assert Decimal(money(client, "e3")["balance"]) == before - 2000


def _account(client: TestClient, code: str) -> Decimal:
    for a in sheet(client)["accounts"]:
        if a["code"] == code:
            return Decimal(a["balance"])
    return Decimal(0)


def test_withdrawing_releases_deposits(client: TestClient) -> None:
    x = listing(client, "coop", category_code="sand_gravel", title="砂石 100 m³", mode="sealed",
                start_price="10000.00")
    post(client, f"/api/exchange/listings/{x['id']}/submit", "coop")
    post(client, f"/api/exchange/listings/{x['id']}/review", "officer", {"approve": True})
    post(client, f"/api/exchange/listings/{x['id']}/announce", "officer")
    held = Decimal(money(client, "e1")["held"])
    post(client, f"/api/exchange/listings/{x['id']}/register", "e1", status=201)
    assert Decimal(money(client, "e1")["held"]) == held + 1000
    post(client, f"/api/exchange/listings/{x['id']}/withdraw", "e1", {"reason": "x"}, status=403)
    y = post(client, f"/api/exchange/listings/{x['id']}/withdraw", "coop", {"reason": "规划调整"})
    assert y["state"] == "withdrawn" and Decimal(money(client, "e1")["held"]) == held
    again = client.post(f"/api/exchange/listings/{x['id']}/register", headers=h(client, "e2"))
    assert again.status_code == 409


def test_a_rejected_listing_is_revised_and_its_right_unlocked(client: TestClient, world: World) -> None:
    x = listing(client, "coop", category_code="river_management", title="河道经营权", mode="sealed",
                start_price="30000.00")
    post(client, f"/api/exchange/listings/{x['id']}/submit", "coop")
    no_reason = client.post(f"/api/exchange/listings/{x['id']}/review", json={"approve": False},
                            headers=h(client, "officer"))
    assert no_reason.status_code == 422
    y = post(client, f"/api/exchange/listings/{x['id']}/review", "officer",
             {"approve": False, "reason": "缺少权属证明"})
    assert (y["state"], y["reason"]) == ("rejected", "缺少权属证明")
    z = post(client, f"/api/exchange/listings/{x['id']}/revise", "coop")
    assert z["state"] == "draft"
    edited = client.patch(f"/api/exchange/listings/{x['id']}", json={"start_price": "32000.00"},
                          headers=h(client, "coop"))
    assert edited.status_code == 200 and edited.json()["deposit"] == "3200.00"


def test_drafts_are_the_sellers_and_public_listings_are_everyones(client: TestClient) -> None:
    x = listing(client, "coop", category_code="sand_gravel", title="草稿", mode="sealed", start_price="1000.00")
    assert client.get(f"/api/exchange/listings/{x['id']}").status_code == 404  # anonymous
    assert client.get(f"/api/exchange/listings/{x['id']}", headers=h(client, "e1")).status_code == 404
    assert client.get(f"/api/exchange/listings/{x['id']}", headers=h(client, "officer")).status_code == 200
    public = client.get("/api/exchange/listings?state=bidding&state=awarded").json()
    assert public["total"] >= 1 and all(i["state"] in ("bidding", "awarded") for i in public["items"])
    assert client.get("/api/exchange/listings?state=nonsense").status_code == 422
    for user in ("viewer", "banker"):
        r = client.post("/api/exchange/listings", json={"category_code": "sand_gravel", "title": "x",
                                                        "mode": "sealed", "start_price": "1"}, headers=h(client, user))
        assert r.status_code == 403
    assert client.post(f"/api/exchange/listings/{x['id']}/submit", headers=h(client, "e1")).status_code == 404
    # under the public map: the region's counties (the tiny region has one), outline and name, no GEP values
    counties = client.get("/api/exchange/map/counties").json()["features"]
    assert len(counties) == 1 and set(counties[0]["properties"]) == {"code", "name"}
    assert counties[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_categories_are_data_an_administrator_edits(client: TestClient) -> None:
    cats = client.get("/api/exchange/categories").json()
    codes = {c["code"] for c in cats}
    assert {"rural_land", "idle_house", "forest_right", "forest_carbon", "reservoir_water", "sand_gravel"} <= codes
    assert all(not c["verified"] for c in cats) and {c["sourcing"] for c in cats} >= {"named", "traded"}
    r = client.patch("/api/exchange/categories/sand_gravel", json={"deposit_pct": "20"}, headers=h(client, "officer"))
    assert r.status_code == 403
    r = client.patch("/api/exchange/categories/sand_gravel", json={"modes": []}, headers=h(client, "admin"))
    assert r.status_code == 422
    r = client.patch("/api/exchange/categories/sand_gravel", json={"deposit_pct": "20", "verified": True},
                     headers=h(client, "admin"))
    assert r.status_code == 200 and r.json()["deposit_pct"] == "20.00" and r.json()["verified"]
    x = listing(client, "coop", category_code="sand_gravel", title="新规则", mode="sealed", start_price="1000.00")
    assert x["deposit"] == "200.00"
    body = {"code": "collective_land", "name_zh": "集体经营性建设用地使用权",
            "name_en": "collective construction land use rights", "modes": ["ascending"], "right_type": "use"}
    new = client.post("/api/exchange/categories", json=body, headers=h(client, "admin"))
    assert new.status_code == 201 and new.json()["announce_days"] == 7
    client.patch("/api/exchange/categories/sand_gravel", json={"deposit_pct": "10", "verified": False},
                 headers=h(client, "admin"))


def test_demands_are_matched_and_both_sides_told(client: TestClient, world: World) -> None:
    x = announced(client, "coop", category_code="sand_gravel", title="砂石 500 t", mode="multi_unit",
                  start_price="40.00", quantity=500, unit="t")
    d = post(client, "/api/exchange/demands", "e1", {"side": "buy", "title": "求购砂石",
                                                     "category_code": "sand_gravel", "budget": "50000.00"},
             status=201)
    assert any(m.get("listing", {}).get("id") == x["id"] for m in d["matches"])
    too_poor = post(client, "/api/exchange/demands", "e2", {"side": "buy", "title": "便宜砂石",
                                                            "category_code": "sand_gravel", "budget": "100.00"},
                    status=201)
    assert not any(m.get("listing", {}).get("id") == x["id"] for m in too_poor["matches"])
    sell = post(client, "/api/exchange/demands", "coop", {"side": "sell", "title": "出售砂石",
                                                          "category_code": "sand_gravel", "budget": "30000.00"},
                status=201)
    assert any(m.get("demand", {}).get("id") == d["id"] for m in sell["matches"])
    inbox = client.get("/api/notifications", headers=h(client, "e1")).json()
    titles = [n["title"] for n in (inbox["items"] if isinstance(inbox, dict) else inbox)]
    assert any("fits your demand" in t or "fits yours" in t for t in titles), titles
    board = client.get("/api/exchange/demands", headers=h(client, "viewer")).json()
    assert {b["id"] for b in board} >= {d["id"], sell["id"]}
    assert client.get(f"/api/exchange/demands/{d['id']}/matches", headers=h(client, "e2")).status_code == 403
    assert post(client, f"/api/exchange/demands/{d['id']}/close", "e1")["status"] == "closed"


def test_a_gep_purchase_is_priced_from_the_accounts(client: TestClient, world: World) -> None:
    village = "100101001001"
    q = post(client, "/api/exchange/gep-quote", "e1", {"region_id": world.platform.region_id, "zone_code": village,
                                                       "years": 2, "adjustment_pct": "-20"})
    basis = q["basis"]
    per_year = Decimal(str(basis["regulating_yuan_per_year"]))
    expected = (per_year * 2 * Decimal("0.8")).quantize(Decimal("0.01"))
    assert abs(Decimal(q["price"]) - expected) <= Decimal("0.01") and basis["run_id"] and basis["year"] == 2019
    x = post(client, "/api/exchange/gep-listings", "coop", {"region_id": world.platform.region_id,
                                                            "zone_code": village, "years": 2,
                                                            "adjustment_pct": "-20", "title": "一村调节服务两年"},
             status=201)
    assert x["category_code"] == "gep_regulating" and x["start_price"] == q["price"] and x["mode"] == "negotiated"
    assert x["gep_basis"]["run_id"] == basis["run_id"]
    post(client, f"/api/exchange/listings/{x['id']}/submit", "coop")
    post(client, f"/api/exchange/listings/{x['id']}/review", "officer", {"approve": True})
    post(client, f"/api/exchange/listings/{x['id']}/announce", "officer")
    travel(client, x["id"], opens_in_s=-1)
    post(client, f"/api/exchange/listings/{x['id']}/register", "e1", status=201)
    low = client.post(f"/api/exchange/listings/{x['id']}/bids", json={"price": "1.00"},
                      headers=dict(h(client, "e1")) | {"Idempotency-Key": "g-low"})
    assert low.status_code == 409 and "starting price" in low.json()["detail"]
    offer = post(client, f"/api/exchange/listings/{x['id']}/bids", "e1", {"price": q["price"]}, key="g1", status=201)
    assert client.post(f"/api/exchange/listings/{x['id']}/bids/{offer['bid']['id']}/accept",
                       headers=h(client, "e1")).status_code == 403  # only the seller accepts
    y = post(client, f"/api/exchange/listings/{x['id']}/bids/{offer['bid']['id']}/accept", "coop")
    deal = y["deals"][0]
    post(client, f"/api/exchange/deals/{deal['id']}/sign", "e1")
    short = client.post(f"/api/exchange/deals/{deal['id']}/settle", headers=h(client, "e1"))
    if short.status_code == 409:  # the buyer pays the rest into the platform's bank account first
        assert "does not hold enough" in short.json()["detail"]
        account = money(client, "e1")
        pay = {"account_id": account["id"], "direction": "in", "amount": q["price"], "reference": "网银 0001"}
        assert client.post("/api/ledger/payments", json=pay, headers=h(client, "e1")).status_code == 403
        paid = client.post("/api/ledger/payments", json=pay, headers=dict(h(client, "finance")) | {
            "Idempotency-Key": "bank-0001"})
        again = client.post("/api/ledger/payments", json=pay, headers=dict(h(client, "finance")) | {
            "Idempotency-Key": "bank-0001"})
        assert paid.status_code == 201 and again.json()["id"] == paid.json()["id"]  # recorded once
    z = post(client, f"/api/exchange/deals/{deal['id']}/settle", "e1")
    cert = client.get(f"/api/certificates/{z['deals'][0]['certificate_serial']}").json()
    assert any(line["en"] == "GEP basis" and f"run {basis['run_id']}" in line["value"] for line in cert["lines"])


def test_a_package_offered_by_a_cooperative_arrives_as_a_draft_and_its_sale_is_shared_out(
        client: TestClient, world: World) -> None:
    from gep.cooperatives import service as coops
    from gep.kit.principal import SYSTEM

    coop = world.principal("coop")
    with unit_of_work(client.app.state.factory) as s:  # type: ignore[attr-defined]
        c = coops.register_cooperative(s, coop.organisation_id, world.platform.region_id, "", "甲合作社", SYSTEM)
        contract = coops.take_in(s, c, world.rights["赵六"], coops.rules.Terms(
            "shareholding", date(2024, 1, 1), date(2040, 12, 31),
            Decimal(0), Decimal(0), Decimal(50), "annual"), SYSTEM)
        package = coops.create_package(s, c, "PK-EX", "赵六山林包", [contract.id], SYSTEM)
        coops.offer(s, package, "market", coop)
        package_id = package.id
    drain(client)  # the event reaches the exchange
    mine = client.get("/api/exchange/my", headers=h(client, "coop")).json()["selling"]
    draft = next(x for x in mine if x["package_id"] == package_id)
    assert draft["state"] == "draft" and draft["category_code"] == "asset_package" and draft["area_mu"] == "60.00"
    client.patch(f"/api/exchange/listings/{draft['id']}", json={"start_price": "50000.00"}, headers=h(client, "coop"))
    post(client, f"/api/exchange/listings/{draft['id']}/submit", "coop")
    post(client, f"/api/exchange/listings/{draft['id']}/review", "officer", {"approve": True})
    post(client, f"/api/exchange/listings/{draft['id']}/announce", "officer")
    travel(client, draft["id"], opens_in_s=-1)
    post(client, f"/api/exchange/listings/{draft['id']}/register", "e2", status=201)
    offer = post(client, f"/api/exchange/listings/{draft['id']}/bids", "e2", {"price": "50000.00"}, key="pk",
                 status=201)
    y = post(client, f"/api/exchange/listings/{draft['id']}/bids/{offer['bid']['id']}/accept", "coop")
    post(client, f"/api/exchange/deals/{y['deals'][0]['id']}/sign", "e2")
    post(client, f"/api/exchange/deals/{y['deals'][0]['id']}/settle", "e2")
    drain(client)  # the settlement reaches the cooperative
    with unit_of_work(client.app.state.factory) as s:  # type: ignore[attr-defined]
        from gep.cooperatives.models import AssetPackage, Payment

        assert s.get(AssetPackage, package_id).status == "closed"
        holder = registry.get_right(s, world.rights["赵六"]).holder_id
        paid = [p for p in s.query(Payment).all() if p.holder_id == holder]
        assert [p.amount_fen for p in paid] == [2_500_000]  # 50 % of 50,000 yuan to the holder
        from gep.ledger.models import LedgerAccount

        # from the proceeds in the cooperative's funds (paid there by the settlement) to the holder's account
        account = s.query(LedgerAccount).filter(LedgerAccount.code == f"holder:{holder}:funds").one()
        assert account.credits_posted - account.debits_posted == 2_500_000


def test_the_ledger_pages_and_statements(client: TestClient) -> None:
    accounts = client.get("/api/ledger/accounts", headers=h(client, "e1")).json()
    assert [a["purpose"] for a in accounts] == ["funds"]  # one's own only
    a = accounts[0]
    st = client.get(f"/api/ledger/accounts/{a['id']}", headers=h(client, "e1")).json()
    assert st["statement"][-1]["code"] == "payment_in" and st["statement"][0]["balance"] == a["balance"]
    assert client.get(f"/api/ledger/accounts/{a['id']}", headers=h(client, "e2")).status_code == 404
    csv = client.get(f"/api/ledger/accounts/{a['id']}/statement.csv?lang=zh", headers=h(client, "e1"))
    assert csv.status_code == 200 and csv.text.startswith("\ufeff") and "余额（元）" in csv.text
    assert client.get("/api/ledger/balance-sheet", headers=h(client, "e1")).status_code == 403
    for page in ("/ledger", "/exchange", "/exchange/my", "/exchange/demands", "/exchange/categories",
                 f"/exchange/listings/{1}", "/certificates/verify"):
        r = client.get(page, headers=h(client, "e1"))
        assert r.status_code == 200, page


def test_a_change_sent_as_null_leaves_the_field_as_it_is(client: TestClient) -> None:
    """Found by fuzzing: `null` for a number in a change crashed the server (500)."""
    x = listing(client, "coop", category_code="sand_gravel", title="砂石 50 m³", mode="ascending",
                start_price="8000.00", increment="100.00")
    r = client.patch(f"/api/exchange/listings/{x['id']}", json={"extension_minutes": None, "start_price": None,
                                                                "title": "砂石 60 m³"}, headers=h(client, "coop"))
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["title"] == "砂石 60 m³"
    assert {k: after[k] for k in ("start_price", "deposit")} == {k: x[k] for k in ("start_price", "deposit")}
    r = client.patch("/api/exchange/categories/sand_gravel", json={"bidding_days": None, "position": 3},
                     headers=h(client, "admin"))
    assert r.status_code == 200, r.text
