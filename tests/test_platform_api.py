"""The platform's JSON API: every endpoint, refusal for each role that must not act, sessions, CSRF, tokens,
runs on the worker (queue, cancel, retry, failure with traceback), organisations as a boundary.

Runs on SQLite always and on PostgreSQL too when GEP_TEST_DATABASE_URL is set (CI sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from conftest import PASSWORD
from gep.app import Settings, build_platform, create_app
from gep.auth import rules
from gep.auth import service as auth
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit.principal import SYSTEM
from gep.migrations import upgrade
from gep.testing import TinyRegion

ROLES = list(rules.ROLES)
PLATFORM = build_platform()
# verifying a certificate file is public and stores nothing
# POSTs that store nothing, open to anyone: logging in, checking a certificate, estimating stands by a
# carbon methodology (a calculation like `gep carbon estimate`)
PUBLIC_CHANGES = {("POST", "/api/auth/login"), ("POST", "/api/auth/tokens"), ("POST", "/login"),
                  ("POST", "/api/certificates/verify"), ("POST", "/api/carbon/estimate")}


@pytest.fixture(scope="module")
def db_url(empty_db: str) -> str:
    upgrade(empty_db)
    engine = make_engine(empty_db)
    with unit_of_work(session_factory(engine)) as s:
        gov = auth.create_organisation(s, "某县自然资源局", "government", SYSTEM)
        other = auth.create_organisation(s, "另一县自然资源局", "government", SYSTEM)
        for role in ROLES:
            auth.create_user(s, f"u_{role}", PASSWORD, role, SYSTEM, organisation_id=gov.id)
        auth.create_user(s, "u_other_analyst", PASSWORD, "analyst", SYSTEM, organisation_id=other.id)
    engine.dispose()
    return empty_db


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The platform's data folder, with the test region in its import folder."""
    data = tmp_path_factory.mktemp("data")
    classes = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
    layers = {"precipitation": np.full((2, 4), 2000.0), "evapotranspiration": np.full((2, 4), 700.0),
              "npp": np.full((2, 4), 500.0)}
    stats = [{"zone_code": "100101", "year": 2019, "item": "agriculture.output_value", "value": 500, "unit": "万元",
              "source": "test"},
             {"zone_code": "100100", "year": 2019, "item": "gdp", "value": 3, "unit": "亿元", "source": "test"}]
    TinyRegion(classes, layers, statistics=stats).write(data / "imports" / "tiny")
    (data / "imports" / "not-a-package").mkdir()
    return data


@pytest.fixture(scope="module")
def client(db_url: str, data_dir: Path) -> Iterator[TestClient]:
    """The app with its worker off: tests drain it when they want runs to execute."""
    app = create_app(Settings(database_url=db_url, data_dir=data_dir, job_mode="queue"))
    with TestClient(app) as c:
        yield c


def drain(client: TestClient) -> None:
    from gep.app import services
    from gep.kit.worker import Worker

    state = client.app.state  # type: ignore[attr-defined]
    Worker(state.platform, state.factory, services(state.settings)).drain()


_tokens: dict[tuple[int, str], dict[str, str]] = {}


def token(client: TestClient, role: str) -> dict[str, str]:
    key = (id(client), role)
    if key not in _tokens:
        name = role if role.startswith("u_") else f"u_{role}"
        r = client.post("/api/auth/tokens", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        _tokens[key] = {"Authorization": f"Bearer {r.json()['token']}", "Accept-Language": "en"}
    return _tokens[key]


@pytest.fixture(scope="module")
def region_id(client: TestClient) -> int:
    r = client.post("/api/regions", json={"path": "tiny"}, headers=token(client, "admin"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture(scope="module")
def finished_run(client: TestClient, region_id: int) -> dict:
    r = client.post(f"/api/regions/{region_id}/runs", json={"year": 2019}, headers=token(client, "analyst"))
    assert r.status_code == 202, r.text
    drain(client)
    run = client.get(f"/api/runs/{r.json()['id']}", headers=token(client, "analyst")).json()
    assert run["status"] == "succeeded", run
    return run


# -- access ---------------------------------------------------------------------------------------------------

def all_routes(routes: list) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI >= 0.16x wraps them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from all_routes(route.original_router.routes)


def test_no_endpoint_that_changes_data_answers_without_a_session_or_token(client: TestClient) -> None:
    checked = 0
    for route in all_routes(client.app.routes):
        for method in route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            if (method, route.path) in PUBLIC_CHANGES:
                continue
            path = route.path.replace("{region_id}", "1").replace("{run_id}", "1").replace("{code}", "x")
            for name in ("user_id", "token_id", "task_id"):
                path = path.replace("{" + name + "}", "1")
            r = client.request(method, path, json={}, follow_redirects=False)
            assert r.status_code == 401, (method, route.path, r.status_code, r.text)
            checked += 1
    assert checked >= 12


def test_reading_needs_a_login(client: TestClient, region_id: int) -> None:
    for path in ("/api/regions", f"/api/regions/{region_id}/zones", "/api/runs", "/api/auth/me",
                 "/api/notifications"):
        assert client.get(path).status_code == 401
    page = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/"


def test_login_session_and_csrf(db_url: str, data_dir: Path) -> None:
    with TestClient(create_app(Settings(database_url=db_url, data_dir=data_dir, job_mode="queue"))) as c:
        assert c.post("/api/auth/login", json={"username": "u_admin", "password": "wrong-password"}).status_code == 401
        r = c.post("/api/auth/login", json={"username": "u_admin", "password": PASSWORD})
        assert r.status_code == 200
        csrf = r.json()["csrf_token"]
        assert c.get("/api/auth/me").json()["username"] == "u_admin"
        body = {"username": "made_by_session", "password": PASSWORD, "role": "viewer"}
        no_csrf = c.post("/api/users", json=body, headers={"Accept-Language": "en"})
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["detail"]
        assert c.post("/api/users", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
        assert c.post("/api/users", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
        assert c.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert c.get("/api/auth/me").status_code == 401


def test_invalid_token_is_refused(client: TestClient) -> None:
    r = client.get("/api/regions", headers={"Authorization": "Bearer gep_nonsense", "Accept-Language": "en"})
    assert r.status_code == 401 and "token" in r.json()["detail"]


# -- users, organisations, audit ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_only_admins_manage_users_and_read_the_audit_log(client: TestClient, role: str) -> None:
    headers = token(client, role)
    user = client.post("/api/users", json={"username": f"new_{role}", "password": PASSWORD, "role": "viewer"},
                       headers=headers)
    org = client.post("/api/organisations", json={"name": f"合作社 {role}", "kind": "cooperative"}, headers=headers)
    listing = client.get("/api/users", headers=headers)
    audit = client.get("/api/audit", headers=headers)
    expected = 201 if role == "admin" else 403
    assert (user.status_code, org.status_code) == (expected, expected), (user.text, org.text)
    assert listing.status_code == audit.status_code == (200 if role == "admin" else 403)


def test_user_validation_and_conflicts(client: TestClient) -> None:
    admin = token(client, "admin")
    weak = client.post("/api/users", json={"username": "weak", "password": "short", "role": "viewer"}, headers=admin)
    assert weak.status_code == 422 and "at least 10 characters" in weak.json()["detail"]
    # longer than zxcvbn looks at (72): judged by its beginning, not an internal error (the API fuzzer found it)
    long_weak = client.post("/api/users", json={"username": "long1", "password": "password" * 12, "role": "viewer"},
                            headers=admin)
    assert long_weak.status_code == 422 and "too easy to guess" in long_weak.json()["detail"]
    long_strong = client.post("/api/users", json={"username": "long2", "role": "viewer",
                                                  "password": "青山 lanterns drift over 瓯江 at dusk " * 3},
                              headers=admin)
    assert long_strong.status_code == 201, long_strong.text
    bad_role = client.post("/api/users", json={"username": "x1", "password": PASSWORD, "role": "king"}, headers=admin)
    assert bad_role.status_code == 422 and "role king is unknown" in bad_role.json()["detail"]
    dup = client.post("/api/users", json={"username": "U_Viewer", "password": PASSWORD, "role": "viewer"},
                      headers=admin)
    assert dup.status_code == 409  # usernames are one spelling: U_Viewer is u_viewer


def test_changes_are_audited(client: TestClient, region_id: int, finished_run: dict) -> None:
    entries = client.get("/api/audit?limit=1000", headers=token(client, "admin")).json()
    actions = {(e["action"], e["entity"]) for e in entries}
    assert {("create", "user"), ("import", "region"), ("start", "accounting_run"), ("succeed", "accounting_run"),
            ("issue_token", "user")} <= actions
    start = next(e for e in entries if e["action"] == "start" and e["entity_id"] == str(finished_run["id"]))
    assert start["detail"]["year"] == 2019 and start["user_id"] is not None


# -- regions and runs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [r for r in ROLES if not PLATFORM.permissions_of(r) & {"regions.run", "*"}])
def test_import_and_run_are_refused_to_roles_without_the_permission(client: TestClient, region_id: int,
                                                                     role: str) -> None:
    headers = token(client, role)
    assert client.post("/api/regions", json={"path": "tiny"}, headers=headers).status_code == 403
    assert client.post(f"/api/regions/{region_id}/runs", json={"year": 2019}, headers=headers).status_code == 403
    assert client.get("/api/regions", headers=headers).status_code == 200  # but every role may read


def test_importing_twice_or_a_bad_package_is_refused(client: TestClient, region_id: int, data_dir: Path) -> None:
    admin = token(client, "admin")
    again = client.post("/api/regions", json={"path": "tiny"}, headers=admin)
    assert again.status_code == 409
    bad = client.post("/api/regions", json={"path": "not-a-package"}, headers=admin)
    body = bad.json()
    assert bad.status_code == 422 and body["problems"][0]["where"] == "region.toml"
    assert "region.toml is missing" in body["problems"][0]["message"]
    assert str(data_dir) not in bad.text  # the server's folders stay private


@pytest.mark.parametrize("path", ["/etc", "../../etc", "tiny/../../..", "/tmp", "missing"])
def test_import_takes_only_a_package_name_in_the_import_folder(client: TestClient, path: str) -> None:
    r = client.post("/api/regions", json={"path": path}, headers=token(client, "admin"))
    assert r.status_code in (404, 422), r.text
    assert "/etc" not in r.json()["detail"] and "/tmp" not in r.json()["detail"]


def test_a_run_for_a_year_without_data_or_an_unknown_method_is_refused(client: TestClient, region_id: int) -> None:
    admin = token(client, "admin")
    r = client.post(f"/api/regions/{region_id}/runs", json={"year": 1999}, headers=admin)
    assert r.status_code == 422 and "no data for 1999" in r.json()["detail"]
    r = client.post(f"/api/regions/{region_id}/runs", json={"year": 2019, "method": "/etc/passwd"}, headers=admin)
    assert r.status_code == 422 and "method /etc/passwd is unknown" in r.json()["detail"]


def test_zones_map_accounts_and_trends(client: TestClient, region_id: int, finished_run: dict) -> None:
    h = token(client, "villager")
    regions = client.get("/api/regions", headers=h).json()
    assert regions[0]["levels"] == ["city", "county", "township", "village"]
    zones = client.get(f"/api/regions/{region_id}/zones", params={"level": "village"}, headers=h).json()
    assert sorted(z["code"] for z in zones) == ["100101001001", "100101001002"]
    fc = client.get(f"/api/regions/{region_id}/map", params={"level": "village", "parent": "100101001"},
                    headers=h).json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in fc["features"])
    city = client.get(f"/api/regions/{region_id}/zones/100100/accounts", headers=h).json()
    village_gep = sum(f["properties"]["gep"] for f in fc["features"])
    assert city["totals"]["gep"] == pytest.approx(village_gep, rel=1e-9)
    assert city["totals"]["gep"] == pytest.approx(finished_run["gep_yuan"], rel=1e-9)
    assert [b["code"] for b in city["breadcrumb"]] == ["100100"]
    assert city["gdp_yuan"] == pytest.approx(3e8)
    names = {i["indicator"]: i["name_zh"] for i in city["indicators"]}
    assert names["water_conservation"] == "水源涵养"
    village = client.get(f"/api/regions/{region_id}/zones/100101001002/accounts", headers=h).json()
    assert [b["level"] for b in village["breadcrumb"]] == ["city", "county", "township", "village"]
    trend = client.get(f"/api/regions/{region_id}/zones/100100/trends", headers=h).json()
    assert trend[0]["year"] == 2019 and trend[0]["gep"] == pytest.approx(city["totals"]["gep"])
    missing = client.get(f"/api/regions/{region_id}/zones/999/accounts", headers=h)
    assert missing.status_code == 404


def test_reports_are_downloadable(client: TestClient, finished_run: dict) -> None:
    h = token(client, "bank_officer")
    assert set(finished_run["reports"]) == {f"{lang}.{fmt}" for lang in ("zh", "en") for fmt in ("pdf", "html",
                                                                                                    "xlsx")}
    pdf = client.get(f"/api/runs/{finished_run['id']}/report/zh.pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    html = client.get(f"/api/runs/{finished_run['id']}/report/en.html", headers=h)
    assert html.status_code == 200 and "Gross Ecosystem Product" in html.text
    assert client.get(f"/api/runs/{finished_run['id']}/report/zh.docx", headers=h).status_code == 422


def test_a_second_run_while_one_is_queued_is_a_conflict_then_cancel_and_retry(client: TestClient,
                                                                              region_id: int) -> None:
    h = token(client, "analyst")
    first = client.post(f"/api/regions/{region_id}/runs", json={"year": 2019, "method": "national-2022"}, headers=h)
    assert first.status_code == 202 and first.json()["status"] == "queued"
    second = client.post(f"/api/regions/{region_id}/runs", json={"year": 2019}, headers=h)
    assert second.status_code == 409 and "still queued" in second.json()["detail"]
    runs = client.get("/api/runs", params={"region_id": region_id}, headers=h).json()
    assert runs[0]["id"] == first.json()["id"] and runs[0]["method"] == "national-2022"
    cancelled = client.post(f"/api/runs/{first.json()['id']}/cancel", headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"/api/runs/{first.json()['id']}/cancel", headers=h).status_code == 409
    drain(client)  # the cancelled run's task never runs
    assert client.get(f"/api/runs/{first.json()['id']}", headers=h).json()["status"] == "cancelled"
    retried = client.post(f"/api/runs/{first.json()['id']}/retry", headers=h)
    assert retried.status_code == 202 and retried.json()["id"] != first.json()["id"]
    assert retried.json()["method"] == "national-2022"
    drain(client)
    done = client.get(f"/api/runs/{retried.json()['id']}", headers=h).json()
    assert done["status"] == "succeeded" and done["stage"] == "done"


def test_a_failing_run_shows_a_sentence_and_keeps_the_traceback_for_admins(client: TestClient, region_id: int,
                                                                           data_dir: Path) -> None:
    h = token(client, "analyst")
    package = data_dir / "imports" / "tiny"
    broken = package / "statistics.csv"
    saved = broken.read_bytes()
    broken.write_bytes(b"\xff\xfe not a csv")  # the package on disk got damaged after its import
    try:
        run = client.post(f"/api/regions/{region_id}/runs", json={"year": 2019}, headers=h).json()
        drain(client)
    finally:
        broken.write_bytes(saved)
    got = client.get(f"/api/runs/{run['id']}", headers=h).json()
    assert got["status"] == "failed" and got["message"], got
    assert got["traceback"] is None  # an analyst reads the sentence
    admin = client.get(f"/api/runs/{run['id']}", headers=token(client, "admin")).json()
    assert admin["message"] == got["message"]
    zh = client.get(f"/api/runs/{run['id']}", headers={**h, "Accept-Language": "zh-CN"}).json()
    assert zh["status"] == "failed"


def test_runs_are_seen_only_by_their_organisation(client: TestClient, finished_run: dict, region_id: int) -> None:
    other = token(client, "u_other_analyst")
    assert client.get(f"/api/runs/{finished_run['id']}", headers=other).status_code == 404
    assert all(r["id"] != finished_run["id"] for r in client.get("/api/runs", headers=other).json())
    assert client.post(f"/api/regions/{region_id}/runs", json={"year": 2019}, headers=other).status_code == 404
    # the published accounts are not secret: the other county reads them and their reports
    assert client.get(f"/api/regions/{region_id}/zones/100100/accounts", headers=other).json()["totals"]
    assert client.get(f"/api/runs/{finished_run['id']}/report/zh.pdf", headers=other).status_code == 200


def test_a_finished_run_lands_in_the_requesters_inbox(client: TestClient, finished_run: dict) -> None:
    drain(client)  # the run's event is delivered by the worker
    h = token(client, "analyst")
    items = client.get("/api/notifications", headers=h).json()
    assert any(f"run {finished_run['id']}" in n["title"] and n["link"] == "/runs" for n in items), items
    assert client.get("/api/notifications/unread", headers=h).json()["unread"] >= 1
    assert client.post("/api/notifications/read", json={}, headers=h).json()["marked"] >= 1
    assert client.get("/api/notifications/unread", headers=h).json()["unread"] == 0
    zh = client.get("/api/notifications", headers={**h, "Accept-Language": "zh"}).json()
    assert "核算" in zh[0]["title"]


def test_openapi_documents_the_api_and_its_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/regions", "/api/regions/{region_id}/runs", "/api/runs/{run_id}", "/api/auth/login",
                 "/api/regions/{region_id}/map", "/api/users", "/api/audit", "/api/runs/{run_id}/cancel",
                 "/api/auth/tokens/{token_id}", "/api/notifications", "/api/tasks"):
        assert path in spec["paths"]
    op = spec["paths"]["/api/runs/{run_id}"]["get"]
    assert {"401", "404", "422"} <= set(op["responses"])
    assert op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_the_data_folder_keeps_each_run(data_dir: Path, finished_run: dict) -> None:
    folder = data_dir / "runs" / str(finished_run["id"])
    assert (folder / "accounts" / "accounts.parquet").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary folder left behind
