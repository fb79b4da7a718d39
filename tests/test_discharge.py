"""Discharge rights: fees by hand (Lishui 2018 rates), the reserve that refuses new allocations (and projects)
when short, one permit per enterprise, bills paid through the ledger, pledges that lock quota, buy-backs,
emission records with every kind of bad row named and nothing booked twice, alerts at 80 % and 100 %, a
reserve auction through the exchange, and a property test: quota is conserved between the cap, reserves,
enterprises, escrow and what was emitted."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from exchange_fixtures import World, client_of, drain, h, make_world, money, travel
from gep.auth import service as auth
from gep.db import unit_of_work
from gep.discharge import rules, service
from gep.errors import Conflict, InputError
from gep.exchange import bidding, deals, listings, store
from gep.kit.principal import SYSTEM, Principal

COUNTY = "100101"
CODES = {"e1": "91100101MA0000001X", "e2": "91100101MA0000002X", "e3": "91100101MA0000003X"}
KEYS = itertools.count(1)


@pytest.fixture(scope="module")
def world(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    w = make_world(empty_db, tmp_path_factory.mktemp("discharge"))
    with unit_of_work(w.platform.factory) as s:  # type: ignore[arg-type]
        w.orgs["生态环境局"] = auth.create_organisation(s, "生态环境局", "government", SYSTEM).id
        for user, org in (("e1", "甲企业"), ("e2", "乙企业"), ("e3", "丙企业")):
            w.ids[f"enterprise:{user}"] = service.register_enterprise(s, w.orgs[org], org, CODES[user], COUNTY,
                                                                      bureau(w), industry="化工").id
    return w


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    yield from client_of(world)


def bureau(w: World) -> Principal:
    org = w.orgs["生态环境局"]
    return Principal(w.ids["admin"], "生态环境局", "test", org, frozenset({"*"}), "system", party="生态环境局")


def as_org(w: World, user: str) -> Principal:
    return w.principal(user)


# -- rules by hand ----------------------------------------------------------------------------------------------

def test_fees_and_quantities_by_hand() -> None:
    # 2.5 t/a of COD at 4,000 元/t·a (Lishui 2018) = 10,000 元 a year; 0.8 t/a of NOx at 1,000 = 800 元
    assert rules.annual_fee_fen(2_500_000, Decimal(4000)) == 1_000_000
    assert rules.annual_fee_fen(800_000, Decimal(1000)) == 80_000
    assert rules.to_grams(Decimal("1.2345"), "kg") == 1235 and rules.to_grams(Decimal("2"), "t") == 2_000_000
    with pytest.raises(InputError, match="unit 'lb'"):
        rules.to_grams(Decimal(1), "lb")
    assert rules.crossed(2_100_000, 2_500_000, 0) == [80]
    assert rules.crossed(2_600_000, 2_500_000, 2_100_000) == [100]
    assert rules.crossed(100, 0, 0) == [80, 100]  # emitting with no quota at all
    assert [rules.pollutant_code(x) for x in ("COD", "氨氮", "NH3-N", "nox", "PM2.5")] == ["cod", "nh3n", "nh3n",
                                                                                        "nox", None]
    with pytest.raises(InputError, match="1 to 5 years"):
        rules.check_term(2026, 6)


def test_each_bad_emission_row_is_named() -> None:
    rows = [{"enterprise": "E1", "pollutant": "cod", "time": "2026-03-01T08:00", "value": "10", "unit": "kg"},
            {"enterprise": "NOPE", "pollutant": "cod", "time": "2026-03-01T09:00", "value": "1", "unit": "kg"},
            {"enterprise": "E1", "pollutant": "cod", "time": "2026-03-01T10:00", "value": "-3", "unit": "kg"},
            {"enterprise": "E1", "pollutant": "cod", "time": "2026-03-01T08:00", "value": "10", "unit": "kg"},
            {"enterprise": "E1", "pollutant": "cod", "time": "2026-03-01T07:00", "value": "2", "unit": "kg"},
            {"enterprise": "E1", "pollutant": "cod", "time": "2026-03-01T11:00", "value": "2", "unit": "lbs"},
            {"enterprise": "E1", "pollutant": "PM10", "time": "2026-03-01T12:00", "value": "2", "unit": "kg"},
            {"enterprise": "E1", "pollutant": "cod", "time": "yesterday", "value": "2", "unit": "kg"},
            {"enterprise": "E1", "pollutant": "cod", "time": "2026-03-01T13:00", "value": "", "unit": "kg"}]
    checked, skipped = rules.check_records(rows, {"E1": 1}, {}, {})
    got = [(p["row"], p["field"]) for p in checked.problems]
    assert got == [(3, "enterprise"), (4, "value"), (5, "time"), (6, "time"), (7, "unit"), (8, "pollutant"),
                   (9, "time"), (10, "value")]
    assert [r.row for r in checked.records] == [2] and skipped == 0


# -- the service flow ---------------------------------------------------------------------------------------

def test_permits_come_out_of_the_reserve_and_a_short_reserve_refuses(world: World, client: TestClient) -> None:
    b = bureau(world)
    e1, e2 = world.ids["enterprise:e1"], world.ids["enterprise:e2"]
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        for year in (2026, 2027):
            assert service.set_cap(s, COUNTY, "cod", year, 10_000_000, b)
        assert not service.set_cap(s, COUNTY, "cod", 2026, 10_000_000, b)  # the same cap again books nothing
        with pytest.raises(Conflict, match="never lowered"):
            service.set_cap(s, COUNTY, "cod", 2026, 9_000_000, b)
        permit = service.issue_permit(s, e1, 2026, 2, [service.Line("cod", 2_500_000)], b)
        assert permit.number.startswith(f"ZJLS-PW-{COUNTY}-")
        reserve = service.reserve_of(s, COUNTY)
        assert service.balance(s, reserve.id, "cod", 2026) == 7_500_000
    with pytest.raises(Conflict, match="reserve of 100101 is short"), \
            unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        service.issue_permit(s, e2, 2026, 2, [service.Line("cod", 8_000_000)], b)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        assert service.balance(s, service.reserve_of(s, COUNTY).id, "cod", 2026) == 7_500_000  # nothing booked
        with pytest.raises(Conflict, match="one enterprise, one permit"):
            service.issue_permit(s, e1, 2026, 1, [service.Line("cod", 1)], b)
        assert service.check_project(s, "新项目甲", COUNTY, 2026, {"cod": 7_500_000}, b).allowed
        assert not service.check_project(s, "新项目乙", COUNTY, 2026, {"cod": 7_500_001}, b).allowed
    card = client.get("/api/discharge/card", params={"year": 2026}, headers=h(client, "e1")).json()
    assert [b["amount_fen"] for b in card["bills"]] == [1_000_000, 1_000_000]  # 2.5 t × 4,000 元, each year
    assert card["pollutants"][0]["held_t"] == "2.500"
    before = Decimal(money(client, "e1")["balance"])
    paid = client.post(f"/api/discharge/bills/{card['bills'][0]['id']}/pay", headers=h(client, "e1"))
    assert paid.status_code == 200 and paid.json()["state"] == "paid"
    assert client.post(f"/api/discharge/bills/{card['bills'][0]['id']}/pay", headers=h(client, "e1")).json()[
        "state"] == "paid"
    assert Decimal(money(client, "e1")["balance"]) == before - 10_000
    other = client.post(f"/api/discharge/bills/{card['bills'][1]['id']}/pay", headers=h(client, "e2"))
    assert other.status_code == 404  # another enterprise does not even see it
    e2_card = client.get("/api/discharge/card", headers=h(client, "e2")).json()  # registered, no permit (refused)
    assert e2_card["permit"] is None and e2_card["pollutants"] == []
    assert client.get("/api/discharge/card", headers=h(client, "seller")).status_code == 404  # not an enterprise
    assert client.get(f"/api/discharge/enterprises/{e1}/card", headers=h(client, "e2")).status_code == 404
    assert client.get("/api/discharge/overview", headers=h(client, "e1")).status_code == 403


def test_a_pledge_locks_quota_and_a_buy_back_returns_it_to_the_reserve(world: World) -> None:
    b = bureau(world)
    e1 = world.ids["enterprise:e1"]
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        pledge = service.pledge(s, e1, "cod", 2027, 2_000_000, "某银行", "ZY-1", b)
        with pytest.raises(Conflict, match="can move"):
            service.buy_back(s, e1, "cod", 2027, 600_000, 0, b, key="bb-locked")
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        service.release_pledge(s, pledge.id, b)
        assert service.buy_back(s, e1, "cod", 2027, 600_000, 200, b, key="bb-1")  # 2 元/kg → 1,200 元
        assert not service.buy_back(s, e1, "cod", 2027, 600_000, 200, b, key="bb-1")  # the same key: once
        assert service.balance(s, service.reserve_of(s, COUNTY).id, "cod", 2027) == 8_100_000


def test_emission_records_draw_the_card_down_once_and_raise_alerts(world: World, client: TestClient) -> None:
    def rows(day: int, kg: str) -> list[dict[str, str]]:
        return [{"enterprise": CODES["e1"], "pollutant": "COD", "time": f"2026-05-{day:02d}T00:00:00+08:00",
                 "value": kg, "unit": "kg"}]

    month = [r for d in range(1, 22) for r in rows(d, "100")]  # 21 days × 100 kg = 2.1 t of 2.5 t: 84 %
    first = client.post("/api/discharge/emissions", json=month, headers=h(client, "e1"))
    assert first.status_code == 200, first.text
    assert (first.json()["booked"], first.json()["alerts"][0]["threshold_pct"]) == (21, 80)
    again = client.post("/api/discharge/emissions", json=month, headers=h(client, "e1"))
    assert (again.json()["booked"], again.json()["skipped"], again.json()["alerts"]) == (0, 21, [])
    clash = client.post("/api/discharge/emissions", json=rows(1, "101"), headers=h(client, "e1"))
    assert clash.status_code == 422 and "different value" in clash.json()["problems"][0]["message"]
    late = client.post("/api/discharge/emissions", json=rows(22, "500"), headers=h(client, "e1")).json()
    assert [a["threshold_pct"] for a in late["alerts"]] == [100]
    card = client.get("/api/discharge/card", params={"year": 2026}, headers=h(client, "e1")).json()
    cod = card["pollutants"][0]
    assert (cod["used_t"], cod["held_t"], cod["balance_t"], cod["used_pct"]) == ("2.600", "2.500", "-0.100", 104.0)
    assert sorted(a["threshold_pct"] for a in card["alerts"]) == [80, 100]
    assert card["daily_kg"]["cod"]["2026-05-01"] == 100.0
    csv = ("enterprise,pollutant,time,value,unit\n"
           f"{CODES['e1']},cod,2026-05-23T00:00:00+08:00,5,kg\n"
           "913300000000000000,cod,2026-05-23T00:00:00+08:00,5,kg\n"
           f"{CODES['e1']},cod,2026-05-24T00:00:00+08:00,-1,kg\n"
           f"{CODES['e1']},cod,2026-05-25T00:00:00+08:00,5,kg\n"
           f"{CODES['e1']},cod,2026-05-25T00:00:00+08:00,5,kg\n"
           f"{CODES['e1']},cod,2026-05-20T12:00:00+08:00,5,kg\n"
           f"{CODES['e1']},cod,2026-05-26T00:00:00+08:00,5,tonnes\n")
    bad = client.post("/api/discharge/emissions/import", files={"file": ("may.csv", io.BytesIO(csv.encode()))},
                      headers=h(client, "e1"))
    assert bad.status_code == 422
    problems = [p["where"] for p in bad.json()["problems"]]
    assert problems == ["row 3, enterprise", "row 4, value", "row 6, time", "row 7, time", "row 8, unit"]
    assert "may.csv" in bad.json()["detail"] and "nothing was stored" in bad.json()["detail"]
    after = client.get("/api/discharge/card", params={"year": 2026}, headers=h(client, "e1")).json()
    assert after["pollutants"][0]["used_t"] == "2.600"  # nothing of the bad file was booked
    zh = client.post("/api/discharge/emissions/import", files={"file": ("may.csv", io.BytesIO(csv.encode()))},
                     headers=h(client, "e1") | {"Accept-Language": "zh"})
    assert zh.status_code == 422 and "第 3 行" in zh.json()["problems"][0]["where"]


def test_a_reserve_auction_on_the_exchange_delivers_quota_for_every_year(world: World, client: TestClient) -> None:
    b = bureau(world)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        for year in range(2028, 2031):
            service.set_cap(s, COUNTY, "nox", year, 5_000_000, b)
        start = service.reserve_price_fen("nox", 3)
        assert start == 300  # 1,000 元/t·a = 1 元/kg·a, for 3 years: 3 元 per kg/a
        offer = service.offer(s, "nox", 2028, 2030, 1000, b, county_code=COUNTY, start_price_fen=start)
        ref = f"{service.UNITS_REF}{offer.id}"
    drain(client)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        from sqlalchemy import select

        from gep.exchange.models import Listing

        listing = s.scalar(select(Listing).where(Listing.units_ref == ref))
        assert listing is not None and (listing.quantity, listing.unit, listing.term_years) == (1000, "kg/a", 3)
        lid = listing.id
        listings.update(s, lid, {"max_bids": 3}, b)
        listings.submit(s, lid, b)
        listings.review(s, lid, True, "", world.principal("officer"))
        listings.announce(s, lid, world.principal("officer"))
    travel(client, lid, opens_in_s=-1)
    drain(client)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        for user, price, qty in (("e1", 350, 600), ("e2", 320, 300), ("e3", 310, 500)):
            bidding.register(s, lid, as_org(world, user))
            bidding.place_bid(s, lid, price, qty, as_org(world, user), key=f"nox-{user}")
    travel(client, lid, closes_in_s=-1)
    drain(client)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        won = {d.registration_id: d for d in store.deals_of(s, lid)}
        assert sorted(d.quantity for d in won.values()) == [300, 600]  # top round(2.1) = 2 of 3 bidders
        for d in won.values():
            from gep.exchange.models import Registration

            reg = s.get(Registration, d.registration_id)
            assert reg is not None
            buyer = as_org(world, {"甲企业": "e1", "乙企业": "e2"}[reg.bidder_name])
            deals.sign(s, d.id, buyer)
            from gep.certificates import keys

            deals.settle(s, d.id, buyer, keys.signer(keys.key_path(world.tmp / "data")))
    drain(client)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        e1 = service.get_enterprise(s, world.ids["enterprise:e1"])
        for year in (2028, 2029, 2030):
            assert service.balance(s, service.holding_of(s, e1).id, "nox", year) == 600_000
            assert service.balance(s, service.reserve_of(s, COUNTY).id, "nox", year) == 5_000_000 - 900_000
            assert service.totals(s, "nox", year).get("escrow", 0) == 0


# -- the property: quota is conserved -------------------------------------------------------------------------

ENTERPRISES = ("e1", "e2", "e3")
YEAR = 2031


class QuotaMachine(RuleBasedStateMachine):
    """Allocation, buy-back, a sale through escrow (delivered and ended in either order) and emissions, in any
    order: the cap equals reserve + enterprises + escrow + emitted; no reserve or escrow goes below zero; each
    enterprise holds what the model says."""

    w: World

    def __init__(self) -> None:
        super().__init__()
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            self.model = {u: self._held(s, u) for u in ENTERPRISES}
            self.reserve = service.balance(s, service.reserve_of(s, COUNTY).id, "so2", YEAR)

    def _enterprise(self, s: Any, user: str) -> Any:
        return service.get_enterprise(s, self.w.ids[f"enterprise:{user}"])

    def _held(self, s: Any, user: str) -> int:
        return service.balance(s, service.holding_of(s, self._enterprise(s, user)).id, "so2", YEAR)

    @rule(user=st.sampled_from(ENTERPRISES), grams=st.integers(1, 3_000_000))
    def allocate(self, user: str, grams: int) -> None:
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            move = service.Move(service.reserve_of(s, COUNTY), service.holding_of(s, self._enterprise(s, user)),
                                "so2", YEAR, grams, "allocate")
            if grams > self.reserve:
                with pytest.raises(Conflict):
                    service.post(s, [move], key=f"q-{next(KEYS)}", by=bureau(self.w))
                return
            service.post(s, [move], key=f"q-{next(KEYS)}", by=bureau(self.w))
        self.model[user] += grams
        self.reserve -= grams

    @rule(user=st.sampled_from(ENTERPRISES), grams=st.integers(1, 2_000_000))
    def buy_back(self, user: str, grams: int) -> None:
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            eid = self.w.ids[f"enterprise:{user}"]
            if grams > self.model[user]:
                with pytest.raises(Conflict):
                    service.buy_back(s, eid, "so2", YEAR, grams, 0, bureau(self.w), key=f"b-{next(KEYS)}")
                return
            service.buy_back(s, eid, "so2", YEAR, grams, 0, bureau(self.w), key=f"b-{next(KEYS)}")
        self.model[user] -= grams
        self.reserve += grams

    @rule(seller=st.sampled_from(ENTERPRISES), buyer=st.sampled_from(ENTERPRISES), kg=st.integers(1, 2000),
          share=st.floats(0, 1), end_first=st.booleans())
    def sell(self, seller: str, buyer: str, kg: int, share: float, end_first: bool) -> None:
        if kg * 1000 > self.model[seller]:
            return
        sold = int(kg * share)
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            offer = service.offer(s, "so2", YEAR, YEAR, kg, as_org(self.w, seller))
            ref = f"{service.UNITS_REF}{offer.id}"
        buyer_org = self.w.orgs[{"e1": "甲企业", "e2": "乙企业", "e3": "丙企业"}[buyer]]
        deal = next(KEYS) + 50_000_000
        steps = [lambda s: service.listing_ended(s, ref, sold, "JYT"),
                 lambda s: sold and service.deliver(s, ref, deal, sold, buyer_org, "JYT")]
        for step in steps if end_first else reversed(steps):
            with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
                step(s)
        self.model[seller] -= sold * 1000
        self.model[buyer] += sold * 1000

    @rule(user=st.sampled_from(ENTERPRISES), kg=st.integers(0, 900))
    def emit(self, user: str, kg: int) -> None:
        day = next(KEYS)
        at = f"{YEAR}-01-01T00:00:00+08:00"
        from datetime import datetime, timedelta

        at = (datetime.fromisoformat(at) + timedelta(minutes=day)).isoformat()
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            service.record_emissions(s, [{"enterprise": CODES[user], "pollutant": "so2", "time": at,
                                          "value": str(kg), "unit": "kg"}], bureau(self.w))
        self.model[user] -= kg * 1000  # emissions are facts: the card may go below zero

    @invariant()
    def conserved(self) -> None:
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            t = service.totals(s, "so2", YEAR)
            assert sum(t.values()) == 0
            assert -t.get("cap", 0) == t.get("reserve", 0) + t.get("enterprise", 0) + t.get("escrow", 0) + \
                t.get("usage", 0)
            assert t.get("reserve", 0) >= 0 and t.get("escrow", 0) >= 0
            assert service.balance(s, service.reserve_of(s, COUNTY).id, "so2", YEAR) == self.reserve
            for u in ENTERPRISES:
                assert self._held(s, u) == self.model[u]


def test_quota_is_conserved_whatever_happens(world: World) -> None:
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        service.set_cap(s, COUNTY, "so2", YEAR, 8_000_000, bureau(world))
    QuotaMachine.w = world
    run = QuotaMachine.TestCase
    run.settings = settings(max_examples=8, stateful_step_count=12, deadline=None,
                            suppress_health_check=list(HealthCheck))
    run().runTest()
