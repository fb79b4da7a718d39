"""Ecological credit: scores, grades and explanations by hand; a veto forces D; events stop counting on the
right day; review before counting (never by the recorder); objections and corrections move the score back;
imports with every bad row named and nothing counted twice; events from other domains; who may see and do
what; and a property test: the incrementally updated tally always equals a recount from scratch."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from conftest import PASSWORD
from exchange_fixtures import World, client_of, drain, h, make_world
from gep.app import build_platform
from gep.auth import service as auth
from gep.credit import catalogue, rules, service
from gep.credit.models import CreditEvent, CreditScore, ScoreChange
from gep.db import unit_of_work
from gep.errors import Conflict, FileError, InputError, PermissionDenied
from gep.kit import events
from gep.kit.principal import SYSTEM, Principal

C = catalogue.load()
DAY = date(2026, 6, 1)
KEYS = itertools.count(1)


def ev(i: int, code: str, on: date, quantity: str = "") -> rules.Counted:
    ind = C.indicator(code)
    return rules.counted(i, ind, ind.points_for(quantity), on)


# -- by hand ------------------------------------------------------------------------------------------------------

def test_a_score_grade_and_explanation_by_hand() -> None:
    """Base 600 + P01 10 + P04 (province) 10 + P07 (5 times) 5 − N05 3 = 622: grade B (550 ≤ 622 < 650)."""
    evs = [ev(1, "P01", date(2026, 3, 1)), ev(2, "P04", date(2026, 3, 2), "province"),
           ev(3, "P07", date(2026, 3, 3), "5"), ev(4, "N05", date(2026, 3, 4))]
    assert [e.points for e in evs] == [10, 10, 5, 3]
    s = rules.score_of(rules.tally(evs, DAY), C)
    assert (s.score, s.grade, s.vetoed) == (622, "B", False)
    x = rules.explain(evs, C, DAY)
    assert [(e["indicator"], e["points"]) for e in x["events"]] == [("P01", 10), ("P04", 10), ("P07", 5), ("N05", -3)]
    business = next(d for d in x["dimensions"] if (d["list"], d["code"]) == ("positive", "business"))
    assert (business["raw"], business["counted"], business["capped"]) == (10, 10, False)
    assert x["next_negative_expiry"] == "2027-03-04"  # N05 counts 365 days
    # the per-unit rule rounds down and stops at its maximum: 1 point per 100 t of carbon retired, at most 30
    assert C.indicator("P05").points_for("1999") == 19 and C.indicator("P05").points_for("50000") == 30
    with pytest.raises(InputError, match="needs a level"):
        C.indicator("P04").points_for("township")


def test_a_dimension_is_capped_and_the_grades_follow_the_thresholds() -> None:
    """16 × P01 (10 each) = 160 raw, counted 150 (the cap of ecological protection); + P06 20 + P04 national 30
    + P10 national 40 = 600 + 150 + 50 + 40 = 840: AA (750 ≤ 840 < 850). One more P08 (+8): 848, still AA;
    another P09 (+5): 853, AAA."""
    evs = [ev(i, "P01", date(2026, 1, 1) + timedelta(days=i)) for i in range(16)]
    evs += [ev(20, "P06", date(2026, 2, 1)), ev(21, "P04", date(2026, 2, 2), "national"),
            ev(22, "P10", date(2026, 2, 3), "national")]
    assert rules.score_of(rules.tally(evs, DAY), C) == rules.Score(840, "AA", False)
    evs.append(ev(23, "P08", date(2026, 2, 4)))
    assert rules.score_of(rules.tally(evs, DAY), C).score == 848
    evs.append(ev(24, "P09", date(2026, 2, 5)))
    assert rules.score_of(rules.tally(evs, DAY), C) == rules.Score(853, "AAA", False)
    assert [rules.grade_of(s, False, C) for s in (850, 849, 750, 650, 550, 450, 449, 0)] == \
        ["AAA", "AA", "AA", "A", "B", "C", "D", "D"]


def test_a_veto_forces_d_whatever_the_score() -> None:
    evs = [ev(1, "P06", date(2026, 1, 1)), ev(2, "P04", date(2026, 1, 2), "national"),
           ev(3, "N10", date(2026, 5, 1))]
    s = rules.score_of(rules.tally(evs, DAY), C)
    assert s.vetoed and s.grade == "D" and s.score == 600 + 20 + 30 - 300
    assert rules.explain(evs, C, DAY)["vetoes"][0]["indicator"] == "N10"
    # the veto lasts its validity (1,825 days); the day before it ends the grade is still D, on the day it is the
    # grade of the score (the positive events ended earlier, after 1,095 days: the base, B)
    after = date(2026, 5, 1) + timedelta(days=C.indicator("N10").validity_days)
    assert rules.score_of(rules.tally(evs, after - timedelta(days=1)), C) == rules.Score(300, "D", True)
    assert rules.score_of(rules.tally(evs, after), C) == rules.Score(600, "B", False)


def test_an_event_stops_counting_on_the_right_day() -> None:
    e = ev(1, "N01", date(2026, 1, 15))  # 1,095 days
    assert e.expires_on == date(2029, 1, 14)
    assert rules.tally([e], date(2029, 1, 13)).sums == {"negative:protection": 40}
    assert rules.tally([e], date(2029, 1, 14)).sums == {}
    assert rules.tally([e], date(2026, 1, 14)).sums == {}  # nor before it happened


def test_each_bad_import_row_is_named() -> None:
    subjects = {"S1": (1, "individual"), "V1": (2, "village")}
    rows = [{"subject": "S1", "indicator": "P01", "date": "2026-03-01"},
            {"subject": "NOPE", "indicator": "P01", "date": "2026-03-01"},
            {"subject": "S1", "indicator": "X99", "date": "2026-03-01"},
            {"subject": "S1", "indicator": "P01", "date": "2026-13-01"},
            {"subject": "S1", "indicator": "P01", "date": "2026-07-01"},
            {"subject": "S1", "indicator": "P01", "date": "2026-03-01"},
            {"subject": "S1", "indicator": "P03", "date": "2026-03-01"},
            {"subject": "S1", "indicator": "N03", "date": "2026-03-01", "evidence": "环罚〔2026〕1号"},
            {"subject": "S1", "indicator": "P07", "date": "2026-03-01", "quantity": "many"},
            {"subject": "V1", "indicator": "P07", "date": "2026-03-02", "quantity": "3"}]
    checked, skipped = rules.check_rows(rows, subjects, C, DAY, set())
    assert [(p["row"], p["field"]) for p in checked.problems] == [
        (3, "subject"), (4, "indicator"), (5, "date"), (6, "date"), (7, "subject"), (8, "evidence"),
        (9, "indicator"), (10, "quantity")]
    assert [r.row for r in checked.rows] == [2, 11] and skipped == 0
    again, skipped = rules.check_rows(rows[:1], subjects, C, DAY, {checked.rows[0].key})
    assert not again.rows and skipped == 1


def test_a_broken_catalogue_is_refused_naming_the_entry() -> None:
    text = catalogue.DEFAULT.read_text(encoding="utf-8")
    with pytest.raises(InputError, match="indicator P01 names an unknown dimension"):
        catalogue.parse(text.replace('dimension = "protection"\nname_zh = "参与植树',
                                     'dimension = "nowhere"\nname_zh = "参与植树'))
    with pytest.raises(InputError, match="highest threshold down"):
        catalogue.parse(text.replace('["AAA", 850]', '["AAA", 500]'))
    assert len([i for i in C.indicators.values() if i.list == "positive"]) == 12
    assert len([i for i in C.indicators.values() if i.list == "negative"]) == 10
    assert len({d.code for d in C.dimensions.values() if d.list == "positive"}) == 5
    assert len({d.code for d in C.dimensions.values() if d.list == "negative"}) == 4


# -- the service ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> World:
    w = make_world(empty_db, tmp_path_factory.mktemp("credit"))
    roles = build_platform().roles
    with unit_of_work(w.platform.factory) as s:  # type: ignore[arg-type]
        office = auth.create_organisation(s, "信用办", "government", SYSTEM).id
        w.orgs["信用办"] = office
        for name in ("recorder", "reviewer"):
            w.ids[name] = auth.create_user(s, name, PASSWORD, "credit_officer", SYSTEM, organisation_id=office,
                                           roles=roles).id
        service.install_catalogue(s)
        holder = next(iter(__import__("gep.registry.service", fromlist=["x"]).my_holders(s, w.principal("seller"))))
        w.ids["subject:seller"] = service.subject(s, "individual", f"holder:{holder.id}", holder.name,
                                                  user_id=w.ids["seller"], holder_id=holder.id,
                                                  county_code="100101").id
        w.ids["subject:e1"] = service.subject(s, "enterprise", f"org:{w.orgs['甲企业']}", "甲企业",
                                              organisation_id=w.orgs["甲企业"], county_code="100101").id
        w.ids["subject:v1"] = service.subject(s, "village", "village:100101001001", "一村",
                                              village_code="100101001001", county_code="100101").id
    return w


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    yield from client_of(world)


def officer(w: World, name: str) -> Principal:
    return Principal(w.ids[name], name, "credit_officer", w.orgs["信用办"],
                     frozenset({service.RECORD, service.REVIEW, service.READ_ALL}), "system")


def test_an_event_counts_only_once_reviewed_by_someone_else(world: World, client: TestClient) -> None:
    sid = world.ids["subject:seller"]
    r = client.post("/api/credit/events", headers=h(client, "recorder"), json={
        "subject_id": sid, "indicator": "P01", "occurred_on": (service.today() - timedelta(days=10)).isoformat()})
    assert r.status_code == 201, r.text
    event_id = r.json()["id"]
    me = client.get("/api/credit/me", headers=h(client, "seller")).json()
    assert me["standing"]["score"] == 600 and me["events"][0]["state"] == "pending"
    own = client.post(f"/api/credit/events/{event_id}/review", headers=h(client, "recorder"), json={"accept": True})
    assert own.status_code == 403 and "someone other" in own.json()["detail"]
    ok = client.post(f"/api/credit/events/{event_id}/review", headers=h(client, "reviewer"), json={"accept": True})
    assert ok.status_code == 200, ok.text
    assert ok.json()["standing"]["score"] == 610
    again = client.post(f"/api/credit/events/{event_id}/review", headers=h(client, "reviewer"), json={"accept": True})
    assert again.status_code == 409
    dup = client.post("/api/credit/events", headers=h(client, "recorder"), json={
        "subject_id": sid, "indicator": "P01", "occurred_on": (service.today() - timedelta(days=10)).isoformat()})
    assert dup.status_code == 409 and "recorded already" in dup.json()["detail"]
    future = client.post("/api/credit/events", headers=h(client, "recorder"), json={
        "subject_id": sid, "indicator": "P01", "occurred_on": (service.today() + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "future" in future.json()["detail"]
    no_evidence = client.post("/api/credit/events", headers=h(client, "recorder"), json={
        "subject_id": sid, "indicator": "N01", "occurred_on": service.today().isoformat()})
    assert no_evidence.status_code == 422 and "needs evidence" in no_evidence.json()["detail"]
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        row = s.get(CreditScore, sid)
        assert row is not None and (row.score, row.grade) == (610, "B")
        changes = list(s.scalars(select(ScoreChange).where(ScoreChange.subject_id == sid)))
        assert [(c.before_score, c.after_score, c.cause, c.event_id) for c in changes] == [
            (600, 610, "accepted", event_id)]


def test_an_objection_upheld_and_a_correction_move_the_score_back(world: World, client: TestClient) -> None:
    sid = world.ids["subject:seller"]
    on = (service.today() - timedelta(days=3)).isoformat()
    r = client.post("/api/credit/events", headers=h(client, "recorder"), json={
        "subject_id": sid, "indicator": "N08", "occurred_on": on, "note": "河边倒垃圾"})
    bad = r.json()["id"]
    client.post(f"/api/credit/events/{bad}/review", headers=h(client, "reviewer"), json={"accept": True})
    before = client.get("/api/credit/me", headers=h(client, "seller")).json()["standing"]["score"]
    assert not client.post(f"/api/credit/events/{bad}/objections", headers=h(client, "e1"),
                           json={"reason": "not mine"}).is_success  # only the subject objects
    o = client.post(f"/api/credit/events/{bad}/objections", headers=h(client, "seller"),
                    json={"reason": "那天我不在村里"})
    assert o.status_code == 201, o.text
    assert client.post(f"/api/credit/events/{bad}/objections", headers=h(client, "seller"),
                       json={"reason": "again"}).status_code == 409
    assert client.post(f"/api/credit/objections/{o.json()['id']}/decide", headers=h(client, "seller"),
                       json={"uphold": True, "decision": "mine"}).status_code == 403
    d = client.post(f"/api/credit/objections/{o.json()['id']}/decide", headers=h(client, "reviewer"),
                    json={"uphold": True, "decision": "村监督员核实：记录有误"})
    assert d.status_code == 200 and d.json()["state"] == "upheld"
    me = client.get("/api/credit/me", headers=h(client, "seller")).json()
    assert me["standing"]["score"] == before + 3
    assert next(e for e in me["events"] if e["id"] == bad)["state"] == "withdrawn"
    # a correction: the waste sorting was 6 times, not 2
    r = client.post("/api/credit/events", headers=h(client, "recorder"), json={
        "subject_id": sid, "indicator": "P07", "occurred_on": on, "quantity": "2"})
    client.post(f"/api/credit/events/{r.json()['id']}/review", headers=h(client, "reviewer"), json={"accept": True})
    fixed = client.post(f"/api/credit/events/{r.json()['id']}/correct", headers=h(client, "reviewer"), json={
        "subject_id": sid, "indicator": "P07", "occurred_on": on, "quantity": "6", "reason": "台账核对"})
    assert fixed.status_code == 200, fixed.text
    assert client.get("/api/credit/me", headers=h(client, "seller")).json()["standing"]["score"] == before + 3 + 6


def test_an_import_is_all_or_nothing_and_never_counts_twice(world: World, client: TestClient) -> None:
    day = (service.today() - timedelta(days=30)).isoformat()
    bad = (f"subject,indicator,date,quantity,evidence,note\n"
           f"village:100101001001,P07,{day},4,,\nvillage:nowhere,P07,{day},4,,\n"
           f"village:100101001001,N03,{day},,,\n").encode()
    r = client.post("/api/credit/events/import", headers=h(client, "recorder"),
                    files={"file": ("events.csv", bad, "text/csv")})
    assert r.status_code == 422
    assert [p["where"] for p in r.json()["problems"]] == ["row 3, subject", "row 4, evidence"]
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        assert not list(s.scalars(select(CreditEvent).where(CreditEvent.subject_id == world.ids["subject:v1"])))
    good = (f"subject,indicator,date,quantity,evidence,note\nvillage:100101001001,P07,{day},4,,\n"
            f"village:100101001001,N03,{day},,环罚〔2026〕7号,\n").encode()
    first = client.post("/api/credit/events/import", headers=h(client, "recorder"),
                        files={"file": ("events.csv", good, "text/csv")}).json()
    assert (first["recorded"], first["skipped"]) == (2, 0)
    same = client.post("/api/credit/events/import", headers=h(client, "recorder"),
                       files={"file": ("events.csv", good, "text/csv")}).json()
    assert same["recorded"] == 0
    overlapping = good + f"village:100101001001,P09,{day},,,\n".encode()
    more = client.post("/api/credit/events/import", headers=h(client, "recorder"),
                       files={"file": ("more.csv", overlapping, "text/csv")}).json()
    assert (more["recorded"], more["skipped"]) == (1, 2)
    queue = client.get("/api/credit/queue", headers=h(client, "reviewer")).json()
    veto = next(e for e in queue["events"] if e["indicator"] == "N03")
    client.post(f"/api/credit/events/{veto['id']}/review", headers=h(client, "reviewer"), json={"accept": True})
    page = client.get(f"/api/credit/subjects/{world.ids['subject:v1']}", headers=h(client, "reviewer")).json()
    assert page["standing"]["grade"] == "D" and page["standing"]["vetoed"]


def test_other_domains_events_arrive_pending_once(world: World, client: TestClient) -> None:
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        events.record(s, "discharge.quota_exceeded", organisation_id=world.orgs["甲企业"], enterprise="甲企业",
                      county_code="100101", pollutant="cod", year=2026, used_grams=2_600_000, held_grams=2_500_000)
        events.record(s, "carbon.units_retired", organisation_id=world.orgs["乙企业"], user_id=None,
                      holder_name="乙企业", quantity=2500, retirement="ZX2026000001", purpose="event",
                      on=service.today().isoformat())
    drain(client)
    drain(client)
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        rows = list(s.scalars(select(CreditEvent).where(CreditEvent.source == "domain").order_by(CreditEvent.id)))
        assert [(r.indicator, r.points, r.state) for r in rows] == [("N04", 30, "pending"), ("P05", 25, "pending")]
        e2 = service.subject_of_party(s, None, world.orgs["乙企业"])
        assert e2 is not None and e2.kind == "enterprise"  # added as a subject when first heard of


def test_who_may_see_and_do_what(world: World, client: TestClient) -> None:
    other = world.ids["subject:e1"]
    assert client.get(f"/api/credit/subjects/{other}", headers=h(client, "seller")).status_code == 404
    assert client.get(f"/api/credit/subjects/{other}", headers=h(client, "e1")).status_code == 200
    assert client.get("/api/credit/subjects", headers=h(client, "banker")).status_code == 403
    assert client.get("/api/credit/distribution", headers=h(client, "seller")).status_code == 403
    assert client.post("/api/credit/events", headers=h(client, "seller"), json={
        "subject_id": other, "indicator": "N05", "occurred_on": "2026-01-01"}).status_code == 403
    assert client.get("/api/credit/queue", headers=h(client, "e1")).status_code == 403
    assert client.get("/api/credit/me", headers=h(client, "viewer")).status_code == 404
    dist = client.get("/api/credit/distribution", headers=h(client, "reviewer")).json()
    assert dist["zones"]["100101"]["subjects"] >= 3


def test_a_recount_from_scratch_equals_the_updates(world: World) -> None:
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        stored = {r.subject_id: (r.score, r.grade, r.tally) for r in s.scalars(select(CreditScore))}
        r = service.recount(s, SYSTEM)
        assert r.changed == 0 and r.subjects >= 3
        again = {r.subject_id: (r.score, r.grade, r.tally) for r in s.scalars(select(CreditScore))}
    assert {k: v for k, v in again.items() if k in stored} == stored


# -- the property: incremental equals from scratch ---------------------------------------------------------------

INDICATORS = ["P01", "P02", "P07", "P08", "N05", "N08", "N09", "P04", "N10"]


class CreditMachine(RuleBasedStateMachine):
    """Record, accept, reject, withdraw and let days pass, in any order: every subject's stored tally equals
    the tally recounted from its accepted events, and its stored score and grade follow from it."""

    w: World
    clock = service.today()  # the simulated day: it only moves forward, across examples too (one database)

    def __init__(self) -> None:
        super().__init__()
        self.subjects = [self.w.ids["subject:seller"], self.w.ids["subject:e1"]]
        self.pending: list[int] = []
        self.accepted: list[int] = []

    @property
    def day(self) -> date:
        return CreditMachine.clock

    @rule(subject=st.integers(0, 1), code=st.sampled_from(INDICATORS), back=st.integers(0, 400))
    def record(self, subject: int, code: str, back: int) -> None:
        qty = {"P04": "city", "P07": "3"}.get(code, "")
        on = service.today() - timedelta(days=back)
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            try:
                e = service.record(s, service.NewEvent(self.subjects[subject], code, on, qty, f"证据{next(KEYS)}"),
                                   officer(self.w, "recorder"))
            except InputError:
                return  # an indicator that does not apply to this subject
            self.pending.append(e.id)

    @rule(data=st.data(), accept=st.booleans())
    def review(self, data: st.DataObject, accept: bool) -> None:
        if not self.pending:
            return
        event_id = self.pending.pop(data.draw(st.integers(0, len(self.pending) - 1)))
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            service.review(s, event_id, accept, "" if accept else "不属实", officer(self.w, "reviewer"))
        if accept:
            self.accepted.append(event_id)

    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        if not self.accepted:
            return
        event_id = self.accepted.pop(data.draw(st.integers(0, len(self.accepted) - 1)))
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            service.withdraw(s, event_id, "异议成立", officer(self.w, "reviewer"))

    @rule(days=st.integers(1, 200))
    def time_passes(self, days: int) -> None:
        CreditMachine.clock += timedelta(days=days)
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            service.expire_due(s, self.day)

    @invariant()
    def the_tally_is_the_recount(self) -> None:
        with unit_of_work(self.w.platform.factory) as s:  # type: ignore[arg-type]
            service.expire_due(s, self.day)  # the daily timer has run
            evs = service.counted_events(s, self.subjects)
            for sid in self.subjects:
                row = s.get(CreditScore, sid)
                scratch = rules.tally(evs.get(sid, []), self.day)
                stored = rules.Tally.from_dict(row.tally if row else {})
                assert (stored.sums, stored.vetoes) == (scratch.sums, scratch.vetoes)
                if row is not None:
                    expected = rules.score_of(scratch, C)
                    assert (row.score, row.grade) == (expected.score, expected.grade)


def test_the_incremental_tally_always_equals_a_recount(world: World) -> None:
    CreditMachine.w = world
    run = CreditMachine.TestCase
    run.settings = settings(max_examples=12, stateful_step_count=12, deadline=None,
                            suppress_health_check=list(HealthCheck))
    run().runTest()


def test_bad_service_calls_are_refused(world: World) -> None:
    with unit_of_work(world.platform.factory) as s:  # type: ignore[arg-type]
        with pytest.raises(PermissionDenied):
            service.record(s, service.NewEvent(world.ids["subject:e1"], "P01", DAY), world.principal("seller")
                           .with_permissions(frozenset()))
        with pytest.raises(InputError, match="does not apply"):
            service.record(s, service.NewEvent(world.ids["subject:e1"], "P07", DAY, "2"), officer(world, "recorder"))
        with pytest.raises(FileError, match=r"missing columns|problem"):
            service.import_events(s, b"who,what\nx,y\n", "x.csv", officer(world, "recorder"))
        with pytest.raises(Conflict, match="another text"):
            service.install_catalogue(s, catalogue.DEFAULT.read_text(encoding="utf-8").replace("base = 600",
                                                                                               "base = 601"))
