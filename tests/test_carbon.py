"""The forest carbon registry: hand-computed BEF estimates with the parameters named, serial arithmetic, the
project → monitoring report → verification → issuance flow and its refusals, units sold on the exchange through
events, retirements (idempotent, public, by serial), the cross-check against the engine's carbon indicator
computed by hand on the tiny region, the CLI estimate, and a property test: any sequence of issuance, transfer,
trade and retirement keeps every serial number once."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from shapely.geometry import box
from sqlalchemy import select
from typer.testing import CliRunner

from exchange_fixtures import World, client_of, drain, h, make_world, travel
from gep.accounting.region import load_region
from gep.carbon import methodology, rules, service
from gep.carbon.models import CarbonProject, ExchangeOffer, Retirement, UnitAccount, UnitBlock
from gep.certificates import keys
from gep.db import unit_of_work
from gep.errors import Conflict, InputError, PermissionDenied

METHOD = "bef-provincial-2011"


@pytest.fixture(scope="module")
def world(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(empty_db, tmp_path_factory.mktemp("carbon"))


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    yield from client_of(world)


def signer(w: World) -> keys.Signer:
    return keys.signer(keys.key_path(w.tmp / "data"))


# -- the methodology, by hand ----------------------------------------------------------------------------------

def test_a_chinese_fir_stand_by_hand() -> None:
    """杉木: WD 0.307 t/m³, BEF 1.634, R 0.246, CF 0.520 (the methodology file; unverified values). 10 ha grow
    from 100 to 150 m³/ha with the project and to 110 without: (50 − 10) × 10 = 400 m³ more than the baseline."""
    m = methodology.load(METHOD)
    assert [m.param("chinese_fir", k).value for k in methodology.TREE_PARAMS] == [0.307, 1.634, 0.246, 0.520]
    per_m3 = 0.307 * 1.634 * (1 + 0.246) * 0.520  # 0.325021 t C per m³
    assert per_m3 == pytest.approx(0.325021, abs=1e-6)
    e = methodology.estimate(methodology.Stand("s1", "chinese_fir", 10, 100, 110, 100, 150), m)
    assert e.baseline_tco2 == pytest.approx(10 * 10 * per_m3 * 44 / 12)  # 119.17
    assert e.project_tco2 == pytest.approx(50 * 10 * per_m3 * 44 / 12)  # 595.87
    assert e.removals_tco2 == pytest.approx(476.698, abs=1e-3)
    assert methodology.issuable([e]) == 476


def test_a_bamboo_stand_by_hand() -> None:
    """毛竹: 0.018 t d.m. per culm, R 0.20, CF 0.47 (placeholders, flagged): 2 ha from 3,000 to 3,300 culms/ha,
    baseline unchanged: 600 culms × 0.018 × 1.2 × 0.47 × 44/12 = 22.334 t CO₂e."""
    m = methodology.load(METHOD)
    e = methodology.estimate(methodology.Stand("b", "moso_bamboo", 2, 3000, 3000, 3000, 3300), m)
    assert e.removals_tco2 == pytest.approx(600 * 0.018 * 1.2 * 0.47 * 44 / 12)
    assert e.removals_tco2 == pytest.approx(22.334, abs=1e-3)
    assert "moso_bamboo.biomass_per_culm" in m.unverified()


def test_the_methodology_refuses_what_it_cannot_estimate() -> None:
    m = methodology.load(METHOD)
    with pytest.raises(InputError, match="species group 'teak'"):
        methodology.estimate(methodology.Stand("x", "teak", 1, 0, 0, 1, 2), m)
    with pytest.raises(InputError, match="area must be positive"):
        methodology.estimate(methodology.Stand("x", "chinese_fir", 0, 0, 0, 1, 2), m)
    with pytest.raises(InputError, match="unknown carbon methodology"):
        methodology.load("nope")
    shrinking = methodology.estimate(methodology.Stand("x", "chinese_fir", 1, 100, 120, 100, 105), m)
    assert shrinking.removals_tco2 < 0 and methodology.issuable([shrinking]) == 0


# -- serial arithmetic ----------------------------------------------------------------------------------------

def test_taking_units_splits_the_last_block_only() -> None:
    blocks = [rules.Block(1, 1, 10), rules.Block(2, 21, 25), rules.Block(3, 40, 49)]
    assert rules.take(blocks, 12) == rules.Take((1,), (2, 2))
    assert rules.take(blocks, 15) == rules.Take((1, 2), None)
    with pytest.raises(Conflict, match="holds 25 units"):
        rules.take(blocks, 26)
    assert [b.id for b in rules.within(blocks, 22, 24)] == [2]
    with pytest.raises(Conflict, match="unit number 11"):
        rules.within(blocks, 9, 22)
    assert rules.overlaps([(1, 10), (11, 20)]) == [] and rules.overlaps([(1, 10), (10, 20)]) != []
    assert rules.serial_range("LSFC-0001", 2023, 5, 9) == "LSFC-0001-2023-00000005 – 00000009"


# -- the flow ---------------------------------------------------------------------------------------------------

def project_with_period(w: World, parcels: list[str], start: date, end: date, growth: float = 200.0,
                        species: str = "chinese_fir") -> tuple[int, int]:
    dev = w.principal("coop")
    with unit_of_work(w.platform.factory) as s:  # type: ignore[arg-type]
        p = service.create_project(s, f"测试项目 {parcels}", "afforestation", METHOD, w.platform.region_id,
                                   [service.StandInput(c, species) for c in parcels], start, dev)
        period = service.report_period(s, p.id, start, end, [
            {"parcel_code": c, "baseline_start": 10, "baseline_end": 10, "project_start": 10,
             "project_end": 10 + growth} for c in parcels], dev)
        service.submit_period(s, period.id, dev)
        return p.id, period.id


def test_a_project_is_reported_verified_by_someone_else_and_issued_once(world: World) -> None:
    pid, period_id = project_with_period(world, ["F2"], date(2019, 1, 1), date(2023, 12, 31), growth=100)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        period = service.get_period(s, period_id)
        area = service.stands_of(s, pid)[0].area_ha
        # 100 m³/ha over the stand, the baseline flat: 100 × area × 0.325021 × 44/12
        assert period.estimated_t == int(100 * area * 0.307 * 1.634 * 1.246 * 0.52 * 44 / 12)
        with pytest.raises(PermissionDenied, match="someone other than its developer"):
            service.verify_period(s, period_id, True, None, "ok", world.principal("coop"))
        with pytest.raises(InputError, match="verified tonnes are 0 to the estimate"):
            service.verify_period(s, period_id, True, period.estimated_t + 1, "ok", world.principal("officer"))
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        service.verify_period(s, period_id, True, 300, "现场核查一致", world.principal("officer"))
        row = service.issue(s, period_id, world.principal("admin"))
        assert (row.start, row.end, row.vintage) == (1, 300, 2023)
        with pytest.raises(Conflict):
            service.issue(s, period_id, world.principal("admin"))
        project = service.get_project(s, pid)
        assert project.issued_t == 300 and project.next_number == 301
        assert project.check["done"] and project.check["issued_t"] == 300
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        with pytest.raises(Conflict, match="do not overlap"):
            service.report_period(s, pid, date(2023, 6, 1), date(2024, 12, 31), [], world.principal("coop"))
        with pytest.raises(Conflict, match="belongs to carbon project"):
            service.create_project(s, "again", "afforestation", METHOD, world.platform.region_id,
                                   [service.StandInput("F2", "chinese_fir")], date(2019, 1, 1),
                                   world.principal("coop"))


def test_the_cross_check_is_the_engines_carbon_indicator_over_the_parcels_by_hand(world: World) -> None:
    """Parcel F0 covers pixels (0,0), (0,1), (1,0), (1,1) of the tiny region: class 11 (evergreen broadleaf
    forest), NPP 300 + k·400/47 g C/m² at pixel k = 0, 1, 8, 9 of the 6 × 8 grid, 1 ha each:
    CO₂ = Σ NPP × r_forest × 10⁴ m² × 10⁻⁶ × 44/12 a year."""
    from gep.carbon import crosscheck

    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        from gep.registry import service as registry

        parcel = registry.parcel_by_code(s, world.platform.region_id, "F0")
        assert parcel is not None
        import shapely

        geom = shapely.from_wkb(parcel.geometry)
    ratio = load_region(world.platform.package).profile().parameters["carbon_sequestration.nep_npp_ratio"].table()
    npp = sum(300 + k * 400 / 47 for k in (0, 1, 8, 9))
    expected = npp * ratio["forest"] * 1e4 * 1e-6 * 44 / 12
    got = crosscheck.sequestration(str(world.platform.package), None, [geom], 2023)
    assert got.pixels == 4 and got.year == 2019
    assert got.tco2_per_year == pytest.approx(expected)
    assert crosscheck.exceeds(int(expected * 5 * 1.19), expected * 5, 20) is False
    assert crosscheck.exceeds(int(expected * 5 * 1.21) + 1, expected * 5, 20) is True


def test_units_sold_on_the_exchange_reach_the_buyers_and_the_rest_comes_back(world: World, client: TestClient
                                                                            ) -> None:
    pid, period_id = project_with_period(world, ["F3"], date(2019, 1, 1), date(2020, 12, 31), growth=600)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        service.verify_period(s, period_id, True, 1000, "ok", world.principal("officer"))
        service.issue(s, period_id, world.principal("admin"))
    acct = client.get("/api/carbon/accounts/my", headers=h(client, "coop")).json()[0]
    before = acct["balance"]
    r = client.post(f"/api/carbon/accounts/{acct['id']}/offer", json={"quantity": 100, "project_id": pid},
                    headers=h(client, "coop"))
    assert r.status_code == 201, r.text
    ref = r.json()["units_ref"]
    drain(client)  # the exchange makes the draft listing
    mine = client.get("/api/exchange/my", headers=h(client, "coop")).json()["selling"]
    lid = next(x["id"] for x in mine if x["state"] == "draft" and "tCO₂e" in x["title"])
    too_many = client.patch(f"/api/exchange/listings/{lid}", json={"quantity": 500}, headers=h(client, "coop"))
    assert too_many.status_code == 422 and "withdraw it" in too_many.json()["detail"]
    assert client.patch(f"/api/exchange/listings/{lid}", json={"start_price": "50.00", "max_bids": 3},
                        headers=h(client, "coop")).status_code == 200
    for path, user, body in ((f"/api/exchange/listings/{lid}/submit", "coop", {}),
                             (f"/api/exchange/listings/{lid}/review", "officer", {"approve": True}),
                             (f"/api/exchange/listings/{lid}/announce", "officer", {})):
        assert client.post(path, json=body, headers=h(client, user)).status_code == 200
    travel(client, lid, opens_in_s=-1)
    drain(client)
    for user, price, qty in (("e1", "60.00", 40), ("e2", "55.00", 30), ("e3", "51.00", 20)):
        assert client.post(f"/api/exchange/listings/{lid}/register", headers=h(client, user)).status_code == 201
        assert client.post(f"/api/exchange/listings/{lid}/bids", json={"price": price, "quantity": qty},
                           headers=h(client, user) | {"Idempotency-Key": f"c-{user}"}).status_code == 201
    travel(client, lid, closes_in_s=-1)
    drain(client)
    deals = client.get(f"/api/exchange/listings/{lid}", headers=h(client, "officer")).json()["deals"]
    assert sorted(d["quantity"] for d in deals) == [30, 40]  # 3 bidders: the top round(2.1) = 2 win
    for d in deals:
        buyer = {"甲企业": "e1", "乙企业": "e2"}[d["buyer_name"]]
        for step in ("sign", "settle"):
            assert client.post(f"/api/exchange/deals/{d['id']}/{step}", headers=h(client, buyer)).status_code == 200
    drain(client)  # the carbon registry delivers the units and takes back the 30 unsold
    held = {u: client.get("/api/carbon/accounts/my", headers=h(client, u)).json()[0]["balance"] for u in ("e1", "e2")}
    assert held == {"e1": 40, "e2": 30}
    assert client.get("/api/carbon/accounts/my", headers=h(client, "coop")).json()[0]["balance"] == before - 70
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        offer = s.get(ExchangeOffer, int(ref.split(":")[1]))
        assert offer is not None and (offer.delivered, offer.returned, offer.sold, offer.open) == (70, 30, 70, False)
        assert service.balance(s, offer.escrow_id) == 0
    drain(client)  # delivered twice changes nothing
    assert client.get("/api/carbon/accounts/my", headers=h(client, "e1")).json()[0]["balance"] == 40
    # e1 retires 15 for an event, once, however often the request is sent
    e1 = client.get("/api/carbon/accounts/my", headers=h(client, "e1")).json()[0]
    body = {"purpose": "event", "beneficiary": "某马拉松赛事组委会", "detail": "2026 年马拉松碳中和", "quantity": 15}
    first = client.post(f"/api/carbon/accounts/{e1['id']}/retire", json=body,
                        headers=h(client, "e1") | {"Idempotency-Key": "r-1"})
    again = client.post(f"/api/carbon/accounts/{e1['id']}/retire", json=body,
                        headers=h(client, "e1") | {"Idempotency-Key": "r-1"})
    assert first.status_code == 201 and again.json()["code"] == first.json()["code"]
    assert client.get("/api/carbon/accounts/my", headers=h(client, "e1")).json()[0]["balance"] == 25
    serial = first.json()["ranges"][0]["serials"].split(" – ")[0]
    found = client.get("/api/carbon/retirements", params={"q": serial}).json()  # public: no login
    assert [x["code"] for x in found] == [first.json()["code"]]
    assert client.get(f"/api/certificates/{first.json()['certificate_serial']}").status_code == 200
    assert client.post(f"/api/carbon/accounts/{e1['id']}/retire", json=body,
                       headers=h(client, "e2") | {"Idempotency-Key": "r-2"}).status_code == 403
    no_key = client.post(f"/api/carbon/accounts/{e1['id']}/retire", json=body, headers=h(client, "e1"))
    assert no_key.status_code == 422


def test_a_range_retired_is_gone_for_good(world: World) -> None:
    pid, period_id = project_with_period(world, ["F1"], date(2019, 1, 1), date(2019, 12, 31))
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        service.verify_period(s, period_id, True, 50, "ok", world.principal("officer"))
        row = service.issue(s, period_id, world.principal("admin"))
        account = service.holding_account(s, world.orgs["甲合作社"], None, "甲合作社")
        req = service.RetireRequest(account.id, "court", "某生态损害赔偿案", "（2026）浙1102刑初1号", project_id=pid,
                                    start=row.start + 10, end=row.start + 19)
        done = service.retire(s, req, "range-1", world.principal("coop"), signer(world))
        assert done.quantity == 10 and done.ranges[0]["start"] == row.start + 10
        with pytest.raises(Conflict, match=f"unit number {row.start + 10}"):
            service.retire(s, req, "range-2", world.principal("coop"), signer(world))
        with pytest.raises(InputError, match="names the judgment"):
            service.retire(s, service.RetireRequest(account.id, "court", "x", quantity=1), "range-3",
                           world.principal("coop"), signer(world))


# -- the property: every serial once ---------------------------------------------------------------------------

HOLDERS = ("coop", "e1", "e2", "e3")
NUMBERS = itertools.count(10_000_000)  # keys and deal ids, unique across the machine's examples


class SerialsMachine(RuleBasedStateMachine):
    """Issuance, transfer, a trade through escrow (delivery and the listing's end in either order) and
    retirement, in any order: the blocks of the project never overlap and cover exactly the numbers issued,
    each account holds what the model says, and what was retired is counted once."""

    w: World
    project_id: int

    def __init__(self) -> None:
        super().__init__()
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            self.model = {u: self._held(s, u) for u in HOLDERS}
            self.retired = s.get(CarbonProject, self.project_id).retired_t  # type: ignore[union-attr]

    def _held(self, s: Any, user: str) -> int:
        """Units of this project's in the user's account (their account may hold other projects' too)."""
        return sum(b.end - b.start + 1 for b in s.scalars(select(UnitBlock).where(
            UnitBlock.account_id == self._account(s, user).id, UnitBlock.project_id == self.project_id,
            UnitBlock.state == "active")))

    def _account(self, s: Any, user: str) -> UnitAccount:
        org = self.w.orgs[{"coop": "甲合作社", "e1": "甲企业", "e2": "乙企业", "e3": "丙企业"}[user]]
        return service.holding_account(s, org, None, user)

    @rule(n=st.integers(1, 400))
    def issue(self, n: int) -> None:
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            from gep.carbon.models import MonitoringPeriod

            last = s.scalar(select(MonitoringPeriod.end).where(MonitoringPeriod.project_id == self.project_id)
                            .order_by(MonitoringPeriod.end.desc()).limit(1))
            year = last.year + 1 if last is not None else 2000
            period = service.report_period(s, self.project_id, date(year, 1, 1), date(year, 12, 31), [
                {"parcel_code": "M0", "baseline_start": 1, "baseline_end": 1, "project_start": 1,
                 "project_end": 5000}], self.w.principal("coop"))
            service.submit_period(s, period.id, self.w.principal("coop"))
            service.verify_period(s, period.id, True, n, "ok", self.w.principal("officer"))
            service.issue(s, period.id, self.w.principal("admin"))
        self.model["coop"] += n

    @rule(src=st.sampled_from(HOLDERS), dst=st.sampled_from(HOLDERS), q=st.integers(1, 300))
    def transfer(self, src: str, dst: str, q: int) -> None:
        if src == dst:
            return
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            target = self.w.orgs[{"coop": "甲合作社", "e1": "甲企业", "e2": "乙企业", "e3": "丙企业"}[dst]]
            if q > self.model[src]:
                with pytest.raises(Conflict):
                    service.transfer(s, self._account(s, src).id, target, dst, q, self.w.principal(src),
                                     self.project_id)
                return
            service.transfer(s, self._account(s, src).id, target, dst, q, self.w.principal(src), self.project_id)
        self.model[src] -= q
        self.model[dst] += q

    @rule(src=st.sampled_from(HOLDERS), dst=st.sampled_from(HOLDERS[1:]), q=st.integers(1, 200),
          sold_share=st.floats(0, 1), end_first=st.booleans())
    def trade(self, src: str, dst: str, q: int, sold_share: float, end_first: bool) -> None:
        if q > self.model[src] or src == dst:
            return
        sold = int(q * sold_share)
        deal = next(NUMBERS)
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            offer = service.offer(s, self._account(s, src).id, q, "t", self.w.principal(src), self.project_id)
            ref = f"{service.UNITS_REF}{offer.id}"
        buyer_org = self.w.orgs[{"e1": "甲企业", "e2": "乙企业", "e3": "丙企业"}[dst]]
        steps = [lambda s: service.listing_ended(s, ref, sold, "JYTEST"),
                 lambda s: sold and service.deliver(s, ref, deal, sold, buyer_org, None, dst, "JYTEST")]
        for step in steps if end_first else reversed(steps):
            with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
                step(s)
        self.model[src] -= sold
        self.model[dst] += sold

    @rule(src=st.sampled_from(HOLDERS), q=st.integers(1, 150))
    def retire(self, src: str, q: int) -> None:
        key = f"m-{next(NUMBERS)}"
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            req = service.RetireRequest(self._account(s, src).id, "voluntary", "测试", quantity=q,
                                        project_id=self.project_id)
            if q > self.model[src]:
                with pytest.raises(Conflict):
                    service.retire(s, req, key, self.w.principal(src), signer(self.w))
                return
            service.retire(s, req, key, self.w.principal(src), signer(self.w))
        self.model[src] -= q
        self.retired += q

    @invariant()
    def every_serial_once(self) -> None:
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            project = s.get(CarbonProject, self.project_id)
            assert project is not None
            blocks = list(s.scalars(select(UnitBlock).where(UnitBlock.project_id == self.project_id)))
            ranges = sorted((b.start, b.end) for b in blocks)
            assert rules.overlaps(ranges) == []
            assert sum(e - a + 1 for a, e in ranges) == project.next_number - 1 == project.issued_t
            assert (ranges[0][0] if ranges else 1) == 1
            assert sum(b.end - b.start + 1 for b in blocks if b.state == "retired") == project.retired_t == \
                self.retired
            for u in HOLDERS:
                assert self._held(s, u) == self.model[u]
            for offer in s.scalars(select(ExchangeOffer).where(ExchangeOffer.open.is_(False))):
                assert service.balance(s, offer.escrow_id) == 0
            retired_in_records = sum(r["end"] - r["start"] + 1 for x in s.scalars(select(Retirement))
                                     for r in x.ranges if r["project_id"] == self.project_id)
            assert retired_in_records == project.retired_t


def test_any_sequence_keeps_every_serial_once(world: World) -> None:
    from registry_fixtures import one_parcel, pixel_box

    one_parcel(world.platform, pixel_box(4, 6, 0, 2), "M0", holder_name="机器")
    dev = world.principal("coop")
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        project = service.create_project(s, "性质测试项目", "afforestation", METHOD, world.platform.region_id,
                                         [service.StandInput("M0", "chinese_fir")], date(2000, 1, 1), dev)
        SerialsMachine.project_id = project.id
    SerialsMachine.w = world
    run = SerialsMachine.TestCase
    run.settings = settings(max_examples=8, stateful_step_count=12, deadline=None,
                            suppress_health_check=list(HealthCheck))
    run().runTest()


# -- the CLI ----------------------------------------------------------------------------------------------------

def test_gep_carbon_estimate_prints_each_stand_and_the_total(tmp_path: Path) -> None:
    from gep.cli import app

    frame = gpd.GeoDataFrame({"id": ["a", "b"], "species": ["chinese_fir", "moso_bamboo"],
                              "baseline_start": [100, 3000], "baseline_end": [110, 3000],
                              "project_start": [100, 3000], "project_end": [150, 3300]},
                             geometry=[box(0, 0, 1000, 100), box(0, 0, 200, 100)], crs="EPSG:32650")
    frame.to_file(tmp_path / "stands.gpkg")
    result = CliRunner().invoke(app, ["carbon", "estimate", str(tmp_path / "stands.gpkg"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [round(s["removals_tco2"], 3) for s in out["stands"]] == [476.698, 22.334]  # 10 ha and 2 ha
    assert out["issuable_t"] == 499
    table = CliRunner().invoke(app, ["carbon", "estimate", str(tmp_path / "stands.gpkg")])
    assert table.exit_code == 0 and "499" in table.output and "unverified" in table.output
    bad = frame.assign(project_end=[-5, 3300])
    bad.to_file(tmp_path / "bad.gpkg")
    result = CliRunner().invoke(app, ["carbon", "estimate", str(tmp_path / "bad.gpkg")])
    assert result.exit_code != 0 and "row 1" in result.output
    assert np.isfinite(out["total_tco2"])
