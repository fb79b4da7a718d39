"""Two-mountain cooperatives: revenue shared to the fen (by hand and as hypothesis properties), intake locking or
passing the right in the registry, packages with their value, statements; and through the API, every role that
must not act refused, another cooperative's things not found, a villager seeing only their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from conftest import PASSWORD
from gep.app import Settings, build_platform, create_app
from gep.auth import service as auth
from gep.cooperatives import rules, service
from gep.db import unit_of_work
from gep.errors import InputError
from gep.kit.principal import SYSTEM
from gep.ledger import service as ledger
from gep.registry import service as registry
from registry_fixtures import CLERK, Platform, build, one_parcel, pixel_box

# -- sharing revenue --------------------------------------------------------------------------------------------


def test_revenue_is_shared_by_area_and_share_to_the_fen_by_hand() -> None:
    shares = [rules.Share(1, 11, Decimal(2), Decimal(60)), rules.Share(2, 12, Decimal(1), Decimal(60)),
              rules.Share(3, 13, Decimal(1), Decimal(0))]  # a lease: rent, no share
    d = rules.distribute(Decimal("100.00"), shares, "舍入余额")
    # 100 × 2/3 × 60 % = 40.00; 100 × 1/3 × 60 % = 20.00 (to holders 60.00, kept 40.00)
    assert [(p.holder_id, p.amount) for p in d.payouts] == [(11, Decimal("40.00")), (12, Decimal("20.00"))]
    assert (d.residue, d.retained) == (Decimal("0.00"), Decimal("40.00")) and d.balanced
    odd = rules.distribute(Decimal("0.10"), [rules.Share(i, i, Decimal(1), Decimal(100)) for i in range(3)], "r")
    # 0.10 / 3 = 0.0333…: each 0.03, the residue 0.01 goes to the named account, nothing kept
    assert [p.amount for p in odd.payouts] == [Decimal("0.03")] * 3
    assert (odd.residue, odd.retained, odd.residue_account) == (Decimal("0.01"), Decimal("0.00"), "r")


@pytest.mark.parametrize("bad", ["-1", "0.001", "1e13", "NaN", "abc"])
def test_an_amount_must_be_yuan_and_fen(bad: str) -> None:
    with pytest.raises(InputError):
        rules.yuan(bad)


AMOUNTS = st.decimals(min_value=0, max_value=Decimal("1e10"), places=2, allow_nan=False, allow_infinity=False)
SHARES = st.lists(st.tuples(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e7"), places=2),
                            st.decimals(min_value=0, max_value=100, places=2)), min_size=1, max_size=30)


@given(AMOUNTS, SHARES)
def test_every_fen_is_accounted_for(amount: Decimal, raw: list[tuple[Decimal, Decimal]]) -> None:
    shares = [rules.Share(i, 1000 + i, w, pct) for i, (w, pct) in enumerate(raw)]
    d = rules.distribute(amount, shares, "residue")
    assert d.balanced  # payouts + residue + retained = amount, exactly
    assert all(p.amount == p.amount.quantize(rules.FEN) and p.amount > 0 for p in d.payouts)
    assert Decimal(0) <= d.residue < Decimal("0.01") * max(1, len(shares))
    assert d.retained >= 0
    total_weight = sum(w for w, pct in raw if pct > 0)
    for p in d.payouts:  # each holder gets their exact part, rounded down to the fen
        w, pct = raw[p.contract_id]
        exact = amount * w * pct / (100 * total_weight)
        assert exact - Decimal("0.01") < p.amount <= exact


@given(AMOUNTS, SHARES)
def test_no_holder_gets_more_for_a_smaller_share(amount: Decimal, raw: list[tuple[Decimal, Decimal]]) -> None:
    shares = [rules.Share(i, i, w, pct) for i, (w, pct) in enumerate(raw)]
    paid = {p.contract_id: p.amount for p in rules.distribute(amount, shares, "r").payouts}
    for a in shares:
        for b in shares:
            if a.weight * a.pct <= b.weight * b.pct:
                assert paid.get(a.contract_id, Decimal(0)) <= paid.get(b.contract_id, Decimal(0))


def test_terms_are_checked() -> None:
    ok = rules.Terms("lease", date(2024, 1, 1), date(2030, 1, 1), Decimal("300"))
    assert rules.check_terms(ok, date(2019, 1, 1), date(2048, 12, 31)) == []
    late = rules.Terms("lease", date(2024, 1, 1), date(2050, 1, 1))
    assert rules.check_terms(late, date(2019, 1, 1), date(2048, 12, 31)) == [
        "the contract cannot run beyond the right itself (it ends {end})"]
    free = rules.Terms("buyout", date(2024, 1, 1), None)
    assert "a buy-out or acquisition needs a price (the lump sum)" in rules.check_terms(free, None, None)


# -- the platform ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("coop")
    p = build(f"sqlite:///{tmp / 'gep.db'}", tmp)
    ids = {}
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        a = auth.create_organisation(s, "甲合作社", "cooperative", SYSTEM)
        b = auth.create_organisation(s, "乙合作社", "cooperative", SYSTEM)
        bank = auth.create_organisation(s, "某银行", "bank", SYSTEM)
        for name, role, org in (("coop_a", "cooperative_manager", a.id), ("coop_b", "cooperative_manager", b.id),
                                ("banker", "bank_officer", bank.id), ("viewer", "viewer", None),
                                ("villager", "villager", None), ("other_villager", "villager", None),
                                ("admin", "admin", None), ("clerk", "registry_clerk", None)):
            ids[name] = auth.create_user(s, name, PASSWORD, role, SYSTEM, organisation_id=org,
                                         roles=build_platform().roles).id
        ids["org_a"], ids["org_b"] = a.id, b.id

    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        service.register_cooperative(s, ids["org_a"], p.region_id, "", "甲合作社", SYSTEM)
        service.register_cooperative(s, ids["org_b"], p.region_id, "", "乙合作社", SYSTEM)
    rights = {}
    for k, (box_, name) in enumerate([((0, 2, 0, 2), "张三"), ((0, 2, 2, 4), "李四"), ((3, 5, 4, 6), "王五"),
                                      ((3, 5, 6, 8), "赵六")]):
        _, rights[name] = one_parcel(p, pixel_box(*box_), f"F{k}", holder_name=name)
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        holder = registry.get_right(s, rights["张三"]).holder_id
        registry.link_user(s, holder, ids["villager"], CLERK)
    return {"platform": p, "ids": ids, "rights": rights, "tmp": tmp}


@pytest.fixture(scope="module")
def client(world: dict) -> Iterator[TestClient]:
    p: Platform = world["platform"]
    app = create_app(Settings(database_url=p.url, data_dir=Path(world["tmp"]) / "data", job_mode="queue"))
    with TestClient(app) as c:
        yield c


_tokens: dict[str, dict[str, str]] = {}


def h(client: TestClient, user: str) -> dict[str, str]:
    if user not in _tokens:
        r = client.post("/api/auth/tokens", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        _tokens[user] = {"Authorization": f"Bearer {r.json()['token']}", "Accept-Language": "en"}
    return _tokens[user]


def _intake(client: TestClient, user: str, right_id: int, **terms: object) -> object:
    body = {"right_id": right_id, "mode": "shareholding", "start": "2024-01-01", "end": "2040-12-31",
            "revenue_share_pct": "60", **terms}
    return client.post("/api/cooperatives/contracts", json=body, headers=h(client, user))


def test_the_cooperative_flow_from_intake_to_income(client: TestClient, world: dict) -> None:
    rights = world["rights"]
    first = _intake(client, "coop_a", rights["张三"])
    assert first.status_code == 201, first.text
    assert first.json()["locked"] is True
    second = _intake(client, "coop_a", rights["李四"], mode="trusteeship", revenue_share_pct="40")
    assert second.status_code == 201
    again = _intake(client, "coop_b", rights["张三"])  # a taken-in right is locked: nobody takes it twice
    assert again.status_code == 409 and "locked" in again.json()["detail"]
    buyout = _intake(client, "coop_a", rights["王五"], mode="buyout", end=None, lump_sum="8600.00",
                     revenue_share_pct="0")
    assert buyout.status_code == 409 and "8,600.00" in buyout.json()["detail"]  # the cooperative holds no money
    p: Platform = world["platform"]
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        assert registry.get_right(s, rights["王五"]).version == 1  # nothing of the refused buy-out was kept
        funds = service.cooperative_funds(s, world["ids"]["org_a"])
        ledger.payment_in(s, funds, 10_000_00, "bank line 1", SYSTEM, key="a1")
    buyout = _intake(client, "coop_a", rights["王五"], mode="buyout", end=None, lump_sum="8600.00",
                     revenue_share_pct="0")
    assert buyout.status_code == 201
    parcel = client.get(f"/api/registry/parcels/{buyout.json()['parcel_id']}", headers=h(client, "clerk")).json()
    assert parcel["rights"][0]["holder"] == "甲合作社"  # the title passed to the cooperative
    package = client.post("/api/cooperatives/packages", json={"code": "PK1", "name": "山林资产包", "contract_ids": [
        first.json()["id"], second.json()["id"]]}, headers=h(client, "coop_a"))
    assert package.status_code == 201, package.text
    pk = package.json()
    assert pk["area_m2"] == pytest.approx(80_000.0) and len(pk["encumbrances"]) == 2
    value = client.post(f"/api/cooperatives/packages/{pk['id']}/value", json={}, headers=h(client, "coop_a")).json()
    assert value["gep_yuan"] > 0 and value["year"] == 2019
    body = {"amount": "1000.01", "received_on": "2025-12-20", "source": "林下经济", "idempotency_key": "pk1-2025"}
    revenue = client.post(f"/api/cooperatives/packages/{pk['id']}/revenues", json=body, headers=h(client, "coop_a"))
    assert revenue.status_code == 201, revenue.text
    r = revenue.json()
    # equal areas: 张三 1000.01 × ½ × 60 % = 300.003 → 300.00; 李四 × 40 % = 200.002 → 200.00; to holders 500.00
    assert sorted((p["holder"], p["amount"]) for p in r["payouts"]) == [("张三", "300.00"), ("李四", "200.00")]
    assert (r["residue"], r["retained"]) == ("0.00", "500.01")
    replay = client.post(f"/api/cooperatives/packages/{pk['id']}/revenues", json=body, headers=h(client, "coop_a"))
    assert replay.json()["id"] == r["id"]  # the same request twice records it once
    # the money in the ledger: 10,000.00 in, 8,600.00 to 王五, 1,000.01 received, 500.00 to the holders
    accounts = {a["name"]: a for a in client.get("/api/ledger/accounts", headers=h(client, "coop_a")).json()}
    assert accounts["甲合作社"]["balance"] == "1900.01"
    mine_money = client.get("/api/ledger/accounts", headers=h(client, "villager")).json()
    assert ("张三", "300.00") in [(a["name"], a["balance"]) for a in mine_money]
    offered = client.post(f"/api/cooperatives/packages/{pk['id']}/offer", json={"to": "market"},
                          headers=h(client, "coop_a"))
    assert offered.json()["status"] == "offered_market"
    mine = client.get("/api/cooperatives/me", headers=h(client, "villager")).json()
    assert [c["holder"] for c in mine["contracts"]] == ["张三"] and mine["total"] == "300.00"
    statement = client.get(f"/api/cooperatives/holders/{mine['holders'][0]['id']}/statement.csv",
                           headers=h(client, "villager"))
    assert statement.status_code == 200 and statement.text.startswith("\ufeff张三")
    assert statement.text.strip().splitlines()[-1].endswith("300.00")


def test_another_cooperatives_things_are_not_found(client: TestClient, world: dict) -> None:
    pk = client.get("/api/cooperatives/packages", headers=h(client, "coop_a")).json()[0]
    assert client.get(f"/api/cooperatives/packages/{pk['id']}", headers=h(client, "coop_b")).status_code == 404
    assert client.get("/api/cooperatives/packages", headers=h(client, "coop_b")).json() == []
    contract = pk["contracts"][0]["id"]
    assert client.post(f"/api/cooperatives/contracts/{contract}/end", headers=h(client, "coop_b")).status_code == 404
    other = client.get("/api/cooperatives/me", headers=h(client, "other_villager")).json()
    assert other["contracts"] == [] and other["payments"] == []
    holder = client.get("/api/cooperatives/me", headers=h(client, "villager")).json()["holders"][0]["id"]
    assert client.get(f"/api/cooperatives/holders/{holder}/statement.csv",
                      headers=h(client, "other_villager")).status_code == 404


@pytest.mark.parametrize("user", ["viewer", "villager", "banker", "clerk"])
def test_roles_that_do_not_run_a_cooperative_are_refused(client: TestClient, world: dict, user: str) -> None:
    for method, path, body in (("post", "/api/cooperatives/contracts", {"right_id": world["rights"]["赵六"],
                                                                         "mode": "lease", "start": "2024-01-01",
                                                                         "end": "2030-01-01"}),
                               ("post", "/api/cooperatives/packages", {"code": "X", "name": "X"}),
                               ("post", "/api/cooperatives/rents", {"year": 2025}),
                               ("get", "/api/cooperatives/rights", None)):
        r = client.request(method, path, json=body, headers=h(client, user))
        assert r.status_code == 403, (user, path, r.text)


@pytest.mark.parametrize("user", ["viewer", "villager", "banker", "coop_a"])
def test_only_registry_staff_record_rights(client: TestClient, world: dict, user: str) -> None:
    right = world["rights"]["赵六"]
    assert client.post(f"/api/registry/rights/{right}/transfer", json={"to_holder_id": 1},
                       headers=h(client, user)).status_code == 403
    assert client.post(f"/api/registry/rights/{right}/locks", json={"kind": "pledge", "holder": "x"},
                       headers=h(client, user)).status_code == 403
    assert client.post("/api/registry/holders", json={"region_id": 1, "kind": "person", "name": "x"},
                       headers=h(client, user)).status_code == 403
    assert client.post("/api/registry/regions/1/imports", files={"file": ("p.geojson", b"{}")},
                       headers=h(client, user)).status_code == 403
    assert client.post("/api/registry/merges", json={"parcel_ids": [1, 2], "certificates": ["x"]},
                       headers=h(client, user)).status_code == 403
    square = {"type": "Polygon", "coordinates": [[[119, 28], [119.1, 28], [119.1, 28.1], [119, 28]]]}
    assert client.post("/api/registry/parcels/1/split", json={"parts": [square, square], "certificates": ["a", "b"]},
                       headers=h(client, user)).status_code == 403


def test_readers_see_parcels_but_not_holders(client: TestClient, world: dict) -> None:
    right = world["rights"]["赵六"]
    with unit_of_work(world["platform"].factory) as s:
        parcel_id = registry.get_right(s, right).parcel_id
    as_viewer = client.get(f"/api/registry/parcels/{parcel_id}", headers=h(client, "viewer")).json()
    assert as_viewer["rights"][0]["holder"] is None and as_viewer["rights"][0]["holder_id_masked"] is None
    as_clerk = client.get(f"/api/registry/parcels/{parcel_id}", headers=h(client, "clerk")).json()
    assert as_clerk["rights"][0]["holder"] == "赵六"
    assert client.get("/api/registry/holders?region_id=1", headers=h(client, "viewer")).status_code == 403
