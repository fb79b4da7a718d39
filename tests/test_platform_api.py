"""The platform's JSON API: every endpoint, refusal for each role that must not act, sessions, CSRF, tokens.

Runs on SQLite always and on PostgreSQL too when GEP_TEST_DATABASE_URL is set (CI sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from gep.auth import rules
from gep.auth import service as auth
from gep.db import downgrade, make_engine, session_factory, unit_of_work, upgrade
from gep.testing import TinyRegion
from gep.web.app import Settings, create_app

PASSWORD = "correct-horse-42"
ROLES = list(rules.ROLES)
PUBLIC_CHANGES = {("POST", "/api/auth/login"), ("POST", "/api/auth/tokens"), ("POST", "/login")}

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("GEP_TEST_DATABASE_URL") else [])


@pytest.fixture(scope="module", params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'gep.db'}"
    else:
        url = os.environ["GEP_TEST_DATABASE_URL"]
        downgrade(url, "base")  # a clean schema
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as s:
        for role in ROLES:
            auth.create_user(s, f"u_{role}", PASSWORD, role)
    engine.dispose()
    yield url
    if request.param == "postgresql":
        downgrade(url, "base")


@pytest.fixture(scope="module")
def region_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    classes = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
    layers = {"precipitation": np.full((2, 4), 2000.0), "evapotranspiration": np.full((2, 4), 700.0),
              "npp": np.full((2, 4), 500.0)}
    stats = [{"zone_code": "100101", "year": 2019, "item": "agriculture.output_value", "value": 500, "unit": "万元",
              "source": "test"},
             {"zone_code": "100100", "year": 2019, "item": "gdp", "value": 3, "unit": "亿元", "source": "test"}]
    return TinyRegion(classes, layers, statistics=stats).write(tmp_path_factory.mktemp("region"))


@pytest.fixture(scope="module")
def client(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url, data_dir=tmp_path_factory.mktemp("data")))
    with TestClient(app) as c:
        yield c


def token(client: TestClient, role: str) -> dict[str, str]:
    r = client.post("/api/auth/tokens", json={"username": f"u_{role}", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(scope="module")
def region_id(client: TestClient, region_dir: Path) -> int:
    r = client.post("/api/regions", json={"path": str(region_dir)}, headers=token(client, "admin"))
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture(scope="module")
def finished_run(client: TestClient, region_id: int) -> dict:
    r = client.post(f"/api/regions/{region_id}/runs", json={"year": 2019}, headers=token(client, "analyst"))
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    client.app.state.jobs.wait(run_id)  # type: ignore[attr-defined]
    run = client.get(f"/api/runs/{run_id}", headers=token(client, "viewer")).json()
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
            r = client.request(method, path, json={}, follow_redirects=False)
            assert r.status_code == 401, (method, route.path, r.status_code, r.text)
            checked += 1
    assert checked >= 6


def test_reading_needs_a_login(client: TestClient, region_id: int) -> None:
    for path in ("/api/regions", f"/api/regions/{region_id}/zones", "/api/runs", "/api/auth/me"):
        assert client.get(path).status_code == 401
    page = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_login_session_and_csrf(db_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(Settings(database_url=db_url, data_dir=tmp_path))) as c:
        assert c.post("/api/auth/login", json={"username": "u_admin", "password": "wrong-password"}).status_code == 401
        r = c.post("/api/auth/login", json={"username": "u_admin", "password": PASSWORD})
        assert r.status_code == 200
        csrf = r.json()["csrf_token"]
        assert c.get("/api/auth/me").json()["username"] == "u_admin"
        body = {"username": "made_by_session", "password": PASSWORD, "role": "viewer"}
        no_csrf = c.post("/api/users", json=body)
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["detail"]
        assert c.post("/api/users", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
        assert c.post("/api/users", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
        assert c.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert c.get("/api/auth/me").status_code == 401


def test_invalid_token_is_refused(client: TestClient) -> None:
    r = client.get("/api/regions", headers={"Authorization": "Bearer gep_nonsense"})
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
    bad_role = client.post("/api/users", json={"username": "x1", "password": PASSWORD, "role": "king"}, headers=admin)
    assert bad_role.status_code == 422 and "role 'king' is unknown" in bad_role.json()["detail"]
    dup = client.post("/api/users", json={"username": "u_viewer", "password": PASSWORD, "role": "viewer"},
                      headers=admin)
    assert dup.status_code == 409


def test_changes_are_audited(client: TestClient, region_id: int, finished_run: dict) -> None:
    entries = client.get("/api/audit?limit=1000", headers=token(client, "admin")).json()
    actions = {(e["action"], e["entity"]) for e in entries}
    assert {("create", "user"), ("import", "region"), ("start", "accounting_run"), ("succeed", "accounting_run"),
            ("issue_token", "user")} <= actions
    start = next(e for e in entries if e["action"] == "start" and e["entity_id"] == str(finished_run["id"]))
    assert start["detail"]["year"] == 2019 and start["user_id"] is not None


# -- regions and runs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [r for r in ROLES if not rules.allowed(r, "accounting.run")])
def test_import_and_run_are_refused_to_roles_without_the_permission(client: TestClient, region_id: int,
                                                                     region_dir: Path, role: str) -> None:
    headers = token(client, role)
    assert client.post("/api/regions", json={"path": str(region_dir)}, headers=headers).status_code == 403
    assert client.post(f"/api/regions/{region_id}/runs", json={"year": 2019}, headers=headers).status_code == 403
    assert client.get("/api/regions", headers=headers).status_code == 200  # but every role may read


def test_importing_twice_or_a_bad_package_is_refused(client: TestClient, region_id: int, region_dir: Path,
                                                     tmp_path: Path) -> None:
    admin = token(client, "admin")
    again = client.post("/api/regions", json={"path": str(region_dir)}, headers=admin)
    assert again.status_code == 409
    bad = client.post("/api/regions", json={"path": str(tmp_path)}, headers=admin)
    assert bad.status_code == 422 and "region.toml is missing" in bad.json()["detail"]


def test_a_run_for_a_year_without_data_is_refused(client: TestClient, region_id: int) -> None:
    r = client.post(f"/api/regions/{region_id}/runs", json={"year": 1999}, headers=token(client, "admin"))
    assert r.status_code == 422 and "no data for 1999" in r.json()["detail"]


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
    assert client.get(f"/api/runs/{finished_run['id']}/report/zh.docx", headers=h).status_code == 404


def test_runs_list_and_second_run_while_queued(db_url: str, region_id: int, tmp_path: Path) -> None:
    """With GEP_JOB_MODE=queue nothing executes the run: a second one for the same year is a conflict."""
    app = create_app(Settings(database_url=db_url, data_dir=tmp_path, job_mode="queue"))
    with TestClient(app) as c:
        h = token(c, "analyst")
        first = c.post(f"/api/regions/{region_id}/runs", json={"year": 2019, "method": "national-2022"}, headers=h)
        assert first.status_code == 202 and first.json()["status"] == "queued"
        second = c.post(f"/api/regions/{region_id}/runs", json={"year": 2019}, headers=h)
        assert second.status_code == 409 and "still queued" in second.json()["detail"]
        runs = c.get("/api/runs", params={"region_id": region_id}, headers=h).json()
        assert runs[0]["id"] == first.json()["id"] and runs[0]["method"] == "national-2022"
        # a worker takes it
        from gep.jobs import _claim
        from gep.regions.service import execute_run

        factory = session_factory(app.state.engine)
        claimed = _claim(factory)
        assert claimed == first.json()["id"]
        execute_run(factory, claimed, tmp_path)
        assert c.get(f"/api/runs/{claimed}", headers=h).json()["status"] == "succeeded"


def test_a_failing_run_records_its_error(db_url: str, region_id: int, tmp_path: Path) -> None:
    app = create_app(Settings(database_url=db_url, data_dir=tmp_path, job_mode="queue"))
    with TestClient(app) as c:
        h = token(c, "admin")
        run = c.post(f"/api/regions/{region_id}/runs", json={"year": 2019, "method": "no-such-method"}, headers=h)
        from gep.regions.service import execute_run

        execute_run(session_factory(app.state.engine), run.json()["id"], tmp_path)
        got = c.get(f"/api/runs/{run.json()['id']}", headers=h).json()
        assert got["status"] == "failed" and "unknown method profile 'no-such-method'" in got["message"]


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/regions", "/api/regions/{region_id}/runs", "/api/runs/{run_id}", "/api/auth/login",
                 "/api/regions/{region_id}/map", "/api/users", "/api/audit"):
        assert path in spec["paths"]
