"""The regional brand on a database (SQLite, and PostgreSQL when set): an application inspected against the
category's limits and certified; a batch's steps on its signed chain; every kind of tampering with a stored record
(value, order, deletion in the middle and at the end, insertion) detected by the service, by `gep trace verify` and
by the public trace API; made-up codes and codes of another batch refused; a settlement reaching green finance as
the seller's turnover; the API under each role; label sheets; and property tests of the certification states and
of the chain."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select, update
from typer.testing import CliRunner

from conftest import PASSWORD, served_app
from conftest import bearer as login
from gep.app import build_platform
from gep.auth import service as auth
from gep.brands import labels, rules, service
from gep.brands.models import ChainHead, TraceRecord
from gep.certificates import keys
from gep.certificates import rules as cert_rules
from gep.cli import app as cli
from gep.credit import service as credit
from gep.db import unit_of_work
from gep.errors import Conflict, InputError, PermissionDenied
from gep.finance import handlers as finance_handlers
from gep.finance.models import SettlementRecord
from gep.kit.events import Event, OutboxEvent
from gep.kit.principal import SYSTEM, Principal
from registry_fixtures import Platform, build, one_parcel, pixel_box

OFFICE = Principal(None, "office", "brand_officer", None, frozenset({"*"}), "system", party="品牌办")
PASS = {"lead": "0.8", "bifenthrin": "0.05", "imidacloprid": "0.02", "moisture": "6.1"}


@pytest.fixture(scope="module")
def platform(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    return build(empty_db, tmp_path_factory.mktemp("brands"), with_accounts=False)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> keys.Signer:
    return keys.signer(tmp_path_factory.mktemp("keys") / "k.pem")


@pytest.fixture(scope="module")
def world(platform: Platform, signer: keys.Signer) -> dict[str, Any]:
    """A grower (a registry holder with a parcel), a processor holding a certified tea, and a trader."""
    parcel_id, _ = one_parcel(platform, pixel_box(0, 2, 0, 2), "TEA-1", holder_name="茶农甲")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        from gep.registry import service as registry

        holder = registry.rights_on(s, [parcel_id])[0].holder_id
        grower = service.add_producer(s, "茶农甲", "grower", OFFICE, "100101", holder_id=holder)
        processor = service.add_producer(s, "某茶企", "processor", OFFICE, "100101")
        trader = service.add_producer(s, "某茶商", "trader", OFFICE, "100101")
        app = service.apply(s, processor.id, "tea", "银猴绿茶", [parcel_id], OFFICE)
        service.act(s, app.id, "inspect", OFFICE)
        service.inspect(s, app.id, PASS, OFFICE)
        service.act(s, app.id, "certify", OFFICE)
        return {"parcel": parcel_id, "holder": holder, "grower": grower.id, "processor": processor.id,
                "trader": trader.id, "app": app.id}


def new_batch(p: Platform, w: dict[str, Any], signer: keys.Signer, quantity: str = "100", codes: int = 5,
              steps: bool = True) -> int:
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        b = service.create_batch(s, w["app"], quantity, codes, OFFICE, signer)
        if steps:
            h = service.append(s, b.id, "harvest", {"grower": w["grower"], "quantity": "400", "parcel": "TEA-1"},
                               OFFICE, signer)
            service.append(s, b.id, "processing", {"process": "杀青、揉捻、烘干", "output": quantity}, OFFICE, signer)
            service.append(s, b.id, "settlement", {"sale": h.seq, "amount_yuan": "16000", "reference": "R1"},
                           OFFICE, signer)
        return b.id


# -- certification ---------------------------------------------------------------------------------------------------

def test_an_application_is_certified_only_after_a_passed_inspection(platform: Platform, world: dict[str, Any]
                                                                     ) -> None:
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        a = service.apply(s, world["processor"], "tea", "白茶", [world["parcel"]], OFFICE)
        with pytest.raises(Conflict):
            service.act(s, a.id, "certify", OFFICE)  # still submitted
        service.act(s, a.id, "inspect", OFFICE)
        with pytest.raises(Conflict):
            service.act(s, a.id, "certify", OFFICE)  # no inspection yet
        ins = service.inspect(s, a.id, {**PASS, "lead": "5.2"}, OFFICE)  # GB 2762: lead in tea at most 5.0 mg/kg
        assert not ins.passed and ins.failed == ["lead"]
        with pytest.raises(Conflict):
            service.act(s, a.id, "certify", OFFICE)
        assert service.inspect(s, a.id, {**PASS, "lead": "5.0"}, OFFICE).passed  # the limit itself passes
        done = service.act(s, a.id, "certify", OFFICE)
        assert done.state == "certified" and done.certificate_no == f"LSSG-{done.valid_from.year}-{done.id:05d}"
        assert done.valid_until == rules.add_months(done.valid_from, 36) - timedelta(days=1)
        with pytest.raises(InputError):
            service.act(s, a.id, "suspend", OFFICE)  # a suspension gives its reason
        stale = done.version
        service.act(s, a.id, "suspend", OFFICE, reason="抽检未送样")
        with pytest.raises(Conflict):
            service.act(s, a.id, "revoke", OFFICE, reason="x", version=stale)  # changed since it was loaded
        with pytest.raises(Conflict):
            service.create_batch(s, a.id, "10", 1, OFFICE, keys.signer(Path(platform.package) / "k.pem"))
        assert [h.after for h in service.history(s, a.id)] == ["submitted", "inspecting", "certified", "suspended"]


def test_inspection_results_are_checked() -> None:
    tea = rules.category("tea")
    assert rules.judge(tea, PASS).passed
    v = rules.judge(tea, {"lead": "1", "moisture": "7.5"})
    assert not v.passed and v.failed == ("moisture",) and set(v.missing) == {"bifenthrin", "imidacloprid"}
    assert not rules.judge(rules.category("honey"), {"lead": "0.1", "moisture": "18", "sugars": "59.9"}).passed
    for bad in ({"lead": "abc"}, {"lead": "nan"}, {"arsenic": "1"}, {"lead": "-1"}):
        with pytest.raises(InputError):
            rules.judge(tea, bad)
    with pytest.raises(InputError):
        rules.category("caviar")
    assert rules.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert rules.state_on("certified", date(2024, 1, 1), date(2024, 1, 2)) == "expired"


class Certification(RuleBasedStateMachine):
    """Any sequence of actions: the state moves only along ACTIONS, a certificate exists exactly from the first
    certification on, and a revoked or rejected application never moves again."""

    def __init__(self) -> None:
        super().__init__()
        self.state = rules.SUBMITTED
        self.passed: bool | None = None
        self.ended = False

    @rule(action=st.sampled_from(sorted(rules.ACTIONS)), reason=st.sampled_from(["", "因为"]),
          passed=st.sampled_from([None, False, True]))
    def act(self, action: str, reason: str, passed: bool | None) -> None:
        starts, to = rules.ACTIONS[action]
        try:
            after = rules.next_state(self.state, action, reason, passed)
        except (Conflict, InputError):
            ok = (self.state in starts and (action not in rules.NEEDS_REASON or reason)
                  and (action != "certify" or passed is True))
            assert not ok
            return
        assert not self.ended and self.state in starts and after == to
        self.state = after
        self.ended = after in (rules.REVOKED, rules.REJECTED)

    @invariant()
    def known(self) -> None:
        assert self.state in rules.STATES


TestCertification = Certification.TestCase
TestCertification.settings = settings(max_examples=60, stateful_step_count=12, deadline=None)


# -- the chain -------------------------------------------------------------------------------------------------------

def test_a_batch_from_harvest_to_sold_out(platform: Platform, world: dict[str, Any], signer: keys.Signer) -> None:
    bid = new_batch(platform, world, signer, quantity="100")
    with unit_of_work(platform.factory) as s, pytest.raises(Conflict):  # type: ignore[arg-type]
        service.append(s, bid, "sale", {"buyer": world["trader"], "quantity": "100.5", "unit_price_yuan": "400"},
                       OFFICE, signer)  # more than the batch holds
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        sale = service.append(s, bid, "sale", {"buyer": world["trader"], "quantity": "60", "unit_price_yuan": "400"},
                              OFFICE, signer)
        assert service.remaining(s, service.get_batch(s, bid)) == Decimal("40")
        with pytest.raises(Conflict):  # 60 kg at 400 yuan is 24,000 yuan
            service.append(s, bid, "settlement", {"sale": sale.seq, "amount_yuan": "24000.01", "reference": "X"},
                           OFFICE, signer)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.append(s, bid, "settlement", {"sale": sale.seq, "amount_yuan": "24000", "reference": "R2"}, OFFICE,
                       signer)
        service.append(s, bid, "sale", {"buyer": world["trader"], "quantity": "40", "unit_price_yuan": "410"},
                       OFFICE, signer)
        b = service.get_batch(s, bid)
        assert b.sold_out_at is not None and service.remaining(s, b) == 0
        with pytest.raises(Conflict):
            service.append(s, bid, "processing", {"process": "再烘", "output": "1"}, OFFICE, signer)
        recs = service.records(s, bid)
        assert [r.kind for r in recs] == ["harvest", "processing", "settlement", "sale", "settlement", "sale"]
        assert recs[0].prev == rules.GENESIS and all(r.prev == q.hash for q, r in itertools.pairwise(recs))
        assert recs[2].payload["payee"]["name"] == "茶农甲" and recs[2].payload["payer"]["name"] == "某茶企"
        assert service.verify(s, b) == []
    fresh = new_batch(platform, world, signer, steps=False)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        for bad in ({"buyer": world["processor"], "quantity": "1", "unit_price_yuan": "1"},  # its own producer
                    {"buyer": 999999, "quantity": "1", "unit_price_yuan": "1"}):
            with pytest.raises((InputError, Conflict)):
                service.append(s, fresh, "sale", bad, OFFICE, signer)
        with pytest.raises(InputError):
            service.append(s, bid, "harvest", {"quantity": "1", "parcel": "NOT-OURS"}, OFFICE, signer)


def tamper(p: Platform, bid: int, how: str) -> None:
    with unit_of_work(p.factory) as s:  # type: ignore[arg-type]
        recs = service.records(s, bid)
        if how == "value":
            payload = dict(recs[0].payload)
            payload["quantity"] = "4000"
            s.execute(update(TraceRecord).where(TraceRecord.id == recs[0].id).values(payload=payload))
        elif how == "order":
            a, b = recs[0], recs[1]
            s.execute(update(TraceRecord).where(TraceRecord.id == a.id).values(seq=-1))
            s.execute(update(TraceRecord).where(TraceRecord.id == b.id).values(seq=1))
            s.execute(update(TraceRecord).where(TraceRecord.id == a.id).values(seq=2))
        elif how == "delete_middle":
            s.delete(recs[1])
            s.flush()
            s.execute(update(TraceRecord).where(TraceRecord.id == recs[2].id).values(seq=2))
            s.execute(update(ChainHead).where(ChainHead.batch_id == bid).values(length=2))
        elif how == "delete_last":
            s.delete(recs[-1])
        elif how == "insert":
            # a forged record that links and hashes correctly but is signed by another key
            other = Ed25519PrivateKey.generate()
            last = recs[-1]
            batch = service.get_batch(s, bid)
            payload = {"on": "2024-05-01", "process": "伪造", "output": "1", "recorded_by": "x"}
            h = rules.record_hash(batch.batch_no, last.seq + 1, "processing", "2024-05-01T00:00:00", payload,
                                  last.hash)
            s.add(TraceRecord(batch_id=bid, seq=last.seq + 1, kind="processing", at="2024-05-01T00:00:00",
                              payload=payload, prev=last.hash, hash=h,
                              key_id=cert_rules.key_id(other.public_key()),
                              signature=rules.sign(other, bytes.fromhex(h))))
            s.execute(update(ChainHead).where(ChainHead.batch_id == bid).values(length=last.seq + 1, hash=h))


@pytest.mark.parametrize("how", ["value", "order", "delete_middle", "delete_last", "insert"])
def test_tampering_is_detected_everywhere(how: str, platform: Platform, world: dict[str, Any], signer: keys.Signer,
                                         client: TestClient) -> None:
    bid = new_batch(platform, world, signer)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        b = service.get_batch(s, bid)
        batch_no, code = b.batch_no, service.codes_of(s, bid)[0].code
        assert service.verify(s, b) == []
    before = client.get(f"/api/public/trace/{code}?b={batch_no}").json()
    assert before["verdicts"] == ["genuine"], before
    tamper(platform, bid, how)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        breaks = service.verify(s, service.get_batch(s, bid))
    assert breaks, how
    r = CliRunner().invoke(cli, ["trace", "verify", "--batch", batch_no, "--database-url", platform.url])
    assert r.exit_code == 1 and "does not hold" in r.output, r.output
    after = client.get(f"/api/public/trace/{code}?b={batch_no}").json()
    assert "chain_broken" in after["verdicts"] and after["breaks"], after


def test_codes_refused_and_warned(platform: Platform, world: dict[str, Any], signer: keys.Signer,
                                  client: TestClient) -> None:
    one, two = new_batch(platform, world, signer), new_batch(platform, world, signer)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        a, b = service.get_batch(s, one), service.get_batch(s, two)
        code_a, code_b = service.codes_of(s, one)[0].code, service.codes_of(s, two)[0].code
        a_no, b_no = a.batch_no, b.batch_no
    made_up = "ABCD" * 3
    r = client.get(f"/api/public/trace/{made_up}").json()
    assert r["verdicts"] == ["unknown_code"] and r["refused"] and "history" not in r
    r = client.get(f"/api/public/trace/{code_b}?b={a_no}").json()  # a code of batch two on a label of batch one
    assert r["verdicts"] == ["other_batch"] and r["refused"] and "history" not in r
    r = client.get(f"/api/public/trace/{code_a[:4]}-{code_a[4:8]}-{code_a[8:].lower()}?b={a_no}").json()
    assert r["verdicts"] == ["genuine"] and r["scans"] == 1 and [h["kind"] for h in r["history"]] == [
        "harvest", "processing", "settlement"]
    assert "amount_yuan" not in r["history"][2] and r["history"][2]["payee"] == "茶农甲"  # no money in public
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.append(s, two, "sale", {"buyer": world["trader"], "quantity": "100", "unit_price_yuan": "400"},
                       OFFICE, signer)
    r = client.get(f"/api/public/trace/{code_b}?b={b_no}").json()
    assert r["verdicts"] == ["after_sold_out"] and not r["refused"] and r["sold_out_on"], r
    for _ in range(rules.brand().scan_warning):
        r = client.get(f"/api/public/trace/{code_a}").json()
    assert r["verdicts"] == ["many_scans"] and r["scans"] == rules.brand().scan_warning + 1
    page = client.get(f"/trace/{code_a}?b={a_no}")
    assert page.status_code == 200 and "trace.js" in page.text  # the public page needs no login


def test_a_chain_document_verifies_offline(platform: Platform, world: dict[str, Any], signer: keys.Signer,
                                           tmp_path: Path) -> None:
    bid = new_batch(platform, world, signer)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        doc = service.export_chain(s, service.get_batch(s, bid))
    pem = tmp_path / "key.pem"
    pem.write_text(signer.public_pem)
    good = tmp_path / "chain.json"
    good.write_text(json.dumps(doc, ensure_ascii=False))
    r = CliRunner().invoke(cli, ["trace", "verify", "--file", str(good), "--public-key", str(pem)])
    assert r.exit_code == 0 and "intact" in r.output, r.output
    doc["records"][1]["payload"]["output"] = "1000"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False))
    r = CliRunner().invoke(cli, ["trace", "verify", "--file", str(bad), "--public-key", str(pem)])
    assert r.exit_code == 1 and "record 2" in r.output, r.output


@settings(max_examples=40, deadline=None)
@given(steps=st.integers(1, 8), victim=st.integers(0, 7), how=st.sampled_from(["payload", "kind", "at", "drop",
                                                                                "swap", "prev", "truncate"]))
def test_any_change_to_a_chain_is_found(steps: int, victim: int, how: str) -> None:
    key = Ed25519PrivateKey.generate()
    keys_ = {cert_rules.key_id(key.public_key()): cert_rules.public_bytes(key.public_key())}
    kid = cert_rules.key_id(key.public_key())
    recs: list[rules.ChainRecord] = []
    prev = rules.GENESIS
    for n in range(1, steps + 1):
        payload = {"on": "2024-01-01", "quantity": str(n)}
        h = rules.record_hash("B1", n, "harvest", f"t{n}", payload, prev)
        recs.append(rules.ChainRecord(n, "harvest", f"t{n}", payload, prev, h, kid, rules.sign(key, bytes.fromhex(h))))
        prev = h
    head = rules.Head(steps, prev, kid, rules.sign(key, rules.head_message("B1", steps, prev)))
    assert rules.verify_chain("B1", recs, head, keys_) == []
    i = victim % steps
    changed = list(recs)
    r = changed[i]
    if how == "payload":
        changed[i] = rules.ChainRecord(r.seq, r.kind, r.at, {**r.payload, "quantity": "99"}, r.prev, r.hash,
                                       r.key_id, r.signature)
    elif how == "kind":
        changed[i] = rules.ChainRecord(r.seq, "sale", r.at, r.payload, r.prev, r.hash, r.key_id, r.signature)
    elif how == "at":
        changed[i] = rules.ChainRecord(r.seq, r.kind, r.at + "x", r.payload, r.prev, r.hash, r.key_id, r.signature)
    elif how == "drop":
        del changed[i]
    elif how == "swap":
        if steps < 2:
            return
        j = (i + 1) % steps
        changed[i], changed[j] = changed[j], changed[i]
    elif how == "prev":
        changed[i] = rules.ChainRecord(r.seq, r.kind, r.at, r.payload, "f" * 64, r.hash, r.key_id, r.signature)
    elif how == "truncate":
        changed = changed[:i]
    assert rules.verify_chain("B1", changed, head, keys_), (how, i, steps)


# -- green finance hears of settlements --------------------------------------------------------------------------------

def test_a_settlement_on_the_chain_is_the_sellers_turnover(platform: Platform, world: dict[str, Any],
                                                           signer: keys.Signer) -> None:
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        subject = credit.subject(s, "individual", f"holder:{world['holder']}", "茶农甲", region_id=platform.region_id)
        sid = subject.id
    bid = new_batch(platform, world, signer)
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        batch_no = service.get_batch(s, bid).batch_no
        ev = [e for e in s.scalars(select(OutboxEvent).where(OutboxEvent.type == service.SALE_SETTLED))
              if e.payload["batch"] == batch_no]
        assert len(ev) == 1 and ev[0].payload["amount_fen"] == 1_600_000 and ev[0].payload["holder_id"] == world[
            "holder"]
        event = Event(ev[0].id, ev[0].type, ev[0].payload, None, ev[0].created_at)
        finance_handlers.sale_settled(s, event)
        finance_handlers.sale_settled(s, event)  # delivered twice: recorded once
        # this batch's (the app's inline worker may deliver other tests' settlements meanwhile)
        rows = list(s.scalars(select(SettlementRecord).where(SettlementRecord.subject_id == sid,
                                                             SettlementRecord.reference.like(f"trace:{batch_no}:%"))))
        assert [(r.amount_fen, r.reference) for r in rows] == [(1_600_000, f"trace:{batch_no}:3")]


# -- the API under each role -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    roles = build_platform().roles
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        for name, role, org in (("brandoffice", "brand_officer", None), ("maker", "producer", "某茶企业"),
                                ("other", "producer", "别的茶企业"), ("villager", "villager", None)):
            org_id = auth.create_organisation(s, org, "enterprise", SYSTEM).id if org else None
            auth.create_user(s, name, PASSWORD, role, SYSTEM, organisation_id=org_id, roles=roles)
    yield from served_app(platform.url, tmp_path_factory.mktemp("data"))  # type: ignore[misc]



def test_the_api_under_each_role(client: TestClient, world: dict[str, Any]) -> None:
    office, maker, other, villager = (login(client, u) for u in ("brandoffice", "maker", "other", "villager"))
    me = client.get("/api/auth/me", headers=maker).json()
    org = me.get("organisation_id")
    p = client.post("/api/brands/producers", headers=maker, json={"name": "某茶企业", "role": "processor",
                                                                  "organisation_id": org})
    assert p.status_code == 201, p.text
    assert client.post("/api/brands/producers", headers=maker, json={"name": "冒名", "role": "processor",
                                                                     "organisation_id": org + 1000}).status_code == 403
    mine = p.json()["id"]
    a = client.post("/api/brands/applications", headers=maker, json={"producer_id": mine, "category": "tea",
                                                                     "product": "龙井", "parcel_codes": ["TEA-1"]})
    assert a.status_code == 201 and a.json()["parcel_ids"] == [world["parcel"]], a.text
    aid = a.json()["id"]
    assert client.post("/api/brands/applications", headers=other, json={
        "producer_id": mine, "category": "tea", "product": "x"}).status_code == 403
    assert client.post("/api/brands/applications", headers=maker, json={
        "producer_id": mine, "category": "tea", "product": "x", "parcel_codes": ["NOPE"]}).status_code == 422
    act = f"/api/brands/applications/{aid}/actions"
    assert client.post(act, headers=maker, json={"action": "inspect"}).status_code == 403
    assert client.post(act, headers=office, json={"action": "inspect"}).json()["state"] == "inspecting"
    r = client.post(f"/api/brands/applications/{aid}/inspections", headers=office, json={"results": PASS})
    assert r.status_code == 201 and r.json()["passed"]
    assert client.post(act, headers=office, json={"action": "certify"}).json()["state"] == "certified"
    b = client.post("/api/brands/batches", headers=maker, json={"application_id": aid, "quantity": "50", "codes": 25})
    assert b.status_code == 201, b.text
    bid = b.json()["id"]
    assert client.post("/api/brands/batches", headers=other, json={"application_id": aid, "quantity": "5",
                                                                   "codes": 1}).status_code == 403
    step = f"/api/brands/batches/{bid}/records"
    assert client.post(step, headers=other, json={"kind": "processing", "process": "x", "output": "1"}
                       ).status_code == 403
    assert client.post(step, headers=maker, json={"kind": "inspection", "results": PASS}).status_code == 201
    assert client.post(step, headers=maker, json={"kind": "sale", "buyer": world["trader"], "quantity": "10",
                                                  "unit_price_yuan": "x"}).status_code == 422
    assert client.get(f"/api/brands/batches/{bid}", headers=other).status_code == 403
    got = client.get(f"/api/brands/batches/{bid}", headers=maker).json()
    assert got["chain"]["intact"] and got["records"][0]["payload"]["passed"] is True
    assert got["label_url"].endswith(f"?b={got['batch_no']}")
    pdf = client.get(f"/api/brands/batches/{bid}/labels.pdf?first=1&count=25", headers=maker)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get("/api/brands/map", headers=villager).status_code == 403
    fc = client.get("/api/brands/map", headers=office).json()
    assert any(f["properties"]["application_id"] == aid for f in fc["features"])
    assert client.get(f"/api/brands/applications/{aid}", headers=villager).status_code == 403
    assert client.get("/brands", headers=office).status_code == 200


def test_label_sheets(world: dict[str, Any]) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    codes = [(n, f"{n:04d}ABCDEFGH") for n in range(1, 23)]
    pdf = PdfReader(BytesIO(labels.render("丽水山耕", "银猴绿茶", "LSSG-2026-B000001", codes, "https://x.example")))
    assert len(pdf.pages) == 2  # 21 labels a sheet
    text = pdf.pages[0].extract_text().replace("\x00", "")  # the CJK font maps glyphs two bytes wide
    assert "0001-ABCD-EFGH" in text and "0021-ABCD-EFGH" in text and "0022-ABCD-EFGH" not in text
    assert labels.trace_url("https://x.example/", "C", "B") == "https://x.example/trace/C?b=B"


def test_who_may_record(platform: Platform, world: dict[str, Any], signer: keys.Signer) -> None:
    bid = new_batch(platform, world, signer, steps=False)
    stranger = Principal(12345, "stranger", "producer", 99999, frozenset({service.TRACE}), "session")
    with unit_of_work(platform.factory) as s, pytest.raises(PermissionDenied):  # type: ignore[arg-type]
        service.append(s, bid, "processing", {"process": "x", "output": "1"}, stranger, signer)
