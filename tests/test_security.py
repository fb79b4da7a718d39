"""The security findings of an outside tester, one test each: escaping, open redirects, login throttling and
timing, the credential lifecycle, 4xx (never 500) on hostile values, security headers and cookies, password
and username rules, cross-site login posts. On SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD
from gep.app import Settings, create_app
from gep.auth import service as auth
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit.principal import SYSTEM
from gep.migrations import upgrade

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def db_url(empty_db: str) -> str:
    upgrade(empty_db)
    engine = make_engine(empty_db)
    with unit_of_work(session_factory(engine)) as s:
        org = auth.create_organisation(s, "测试机构", "government", SYSTEM)
        auth.create_user(s, "admin", PASSWORD, "admin", SYSTEM, organisation_id=org.id)
        auth.create_user(s, "second_admin", PASSWORD, "admin", SYSTEM, organisation_id=org.id)
        for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
            auth.create_user(s, name, PASSWORD, "viewer", SYSTEM, organisation_id=org.id)
    engine.dispose()
    return empty_db


@pytest.fixture(scope="module")
def client(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url, data_dir=tmp_path_factory.mktemp("data"), job_mode="queue"))
    with TestClient(app, base_url="http://gep.test") as c:
        yield c


def bearer(client: TestClient, user: str = "admin", password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/auth/tokens", json={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}", "Accept-Language": "en"}


def form_login(client: TestClient, username: str, password: str, next_path: str = "/",
               origin: str | None = "http://gep.test") -> object:
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    headers = {"Origin": origin} if origin else {}
    return client.post("/login", data={"username": username, "password": password, "next": next_path,
                                       "login_token": token}, headers=headers, follow_redirects=False)


# -- escaping ------------------------------------------------------------------------------------------------

def test_every_template_escapes_what_it_is_given(client: TestClient) -> None:
    crafted = '"><script>alert(1)</script><input name="x'
    page = client.get("/login", params={"next": crafted})
    assert "<script>alert(1)" not in page.text
    assert 'name="next" value="/"' in page.text  # not a local path: dropped
    local = client.get("/login", params={"next": '/runs?a="><b>x</b>'})
    assert "<b>x</b>" not in local.text and "&#34;&gt;&lt;b&gt;" in local.text


# -- open redirect -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/", "/\\/evil.example",
                                    " //evil.example", "/\t/evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_the_site(client: TestClient, target: str) -> None:
    client.cookies.clear()
    r = form_login(client, "alice", PASSWORD, target)
    assert r.status_code == 303 and r.headers["location"] == "/"  # type: ignore[attr-defined]
    client.cookies.clear()


def test_login_keeps_a_local_next(client: TestClient) -> None:
    client.cookies.clear()
    r = form_login(client, "alice", PASSWORD, "/runs?year=2019")
    assert r.headers["location"] == "/runs?year=2019"  # type: ignore[attr-defined]
    client.cookies.clear()


# -- cross-site login posts ----------------------------------------------------------------------------------

def test_a_login_form_posted_from_another_site_is_refused(client: TestClient) -> None:
    client.cookies.clear()
    assert form_login(client, "alice", PASSWORD, origin=EVIL).status_code == 403  # type: ignore[attr-defined]
    client.cookies.clear()
    no_token = client.post("/login", data={"username": "alice", "password": PASSWORD}, follow_redirects=False)
    assert no_token.status_code == 403 and "gep_session" not in no_token.cookies
    api = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}, headers={"Origin": EVIL})
    assert api.status_code == 403


def test_a_session_cannot_be_used_from_another_site(client: TestClient) -> None:
    client.cookies.clear()
    csrf = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()["csrf_token"]
    r = client.post("/api/organisations", json={"name": "跨站", "kind": "bank"},
                    headers={"X-CSRF-Token": csrf, "Origin": EVIL})
    assert r.status_code == 403
    client.cookies.clear()


# -- throttling and timing -----------------------------------------------------------------------------------

def test_repeated_failures_lock_the_name_even_for_the_right_password(client: TestClient) -> None:
    for _ in range(5):
        assert client.post("/api/auth/login", json={"username": "bob", "password": "nope-nope-nope"}).status_code == 401
    locked = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    assert client.post("/api/auth/tokens", json={"username": "bob", "password": PASSWORD}).status_code == 429
    page = form_login(client, "bob", PASSWORD)
    assert page.status_code == 429  # type: ignore[attr-defined]


def test_unknown_names_are_locked_the_same_way(client: TestClient) -> None:
    codes = [client.post("/api/auth/login", json={"username": "nobody-here", "password": "x" * 12}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_an_unknown_name_costs_one_argon2_verification_like_a_known_one(client: TestClient,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = auth.HASHER
    auth._decoy_hash()  # made once per process

    class Counting:
        def verify(self, hashed: str, password: str) -> bool:
            calls.append("verify")
            return real.verify(hashed, password)

        def hash(self, password: str) -> str:
            calls.append("hash")
            return real.hash(password)

    monkeypatch.setattr(auth, "HASHER", Counting())
    client.post("/api/auth/login", json={"username": "carol", "password": "wrong-one-1234"})
    known = list(calls)
    calls.clear()
    client.post("/api/auth/login", json={"username": "no-such-user", "password": "wrong-one-1234"})
    assert calls == known == ["verify"]


def test_failed_logins_reach_the_audit_log_even_through_the_api(client: TestClient) -> None:
    client.post("/api/auth/login", json={"username": "dave", "password": "wrong-one-1234"})
    entries = client.get("/api/audit", params={"limit": 50}, headers=bearer(client)).json()
    assert any(e["action"] == "login_failed" and e["entity_id"] == "dave" for e in entries)


# -- the credential lifecycle --------------------------------------------------------------------------------

def test_a_token_can_be_listed_and_revoked(client: TestClient) -> None:
    h = bearer(client, "erin")
    mine = client.get("/api/auth/tokens", headers=h).json()
    assert mine and all(not t["revoked"] for t in mine)
    victim = bearer(client, "erin")
    victim_id = client.get("/api/auth/tokens", headers=h).json()[-1]["id"]
    assert client.delete(f"/api/auth/tokens/{victim_id}", headers=h).json()["revoked"] is True
    assert client.get("/api/auth/me", headers=victim).status_code == 401
    assert client.delete(f"/api/auth/tokens/{victim_id}", headers=bearer(client, "frank")).status_code == 404


def test_logout_with_a_bearer_token_revokes_it(client: TestClient) -> None:
    h = bearer(client, "frank")
    assert client.post("/api/auth/logout", headers=h).status_code == 200
    assert client.get("/api/auth/me", headers=h).status_code == 401


def test_deactivating_a_user_ends_their_sessions_and_tokens_at_once(client: TestClient) -> None:
    admin = bearer(client)
    user = client.post("/api/users", json={"username": "leaver", "password": PASSWORD, "role": "analyst"},
                       headers=admin).json()
    token = bearer(client, "leaver")
    client.cookies.clear()
    client.post("/api/auth/login", json={"username": "leaver", "password": PASSWORD})
    assert client.get("/api/auth/me").status_code == 200
    assert client.patch(f"/api/users/{user['id']}", json={"is_active": False}, headers=admin).status_code == 200
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers=token).status_code == 401
    assert client.post("/api/auth/tokens", json={"username": "leaver", "password": PASSWORD}).status_code == 401
    client.cookies.clear()


def test_a_role_change_takes_effect_at_the_next_request(client: TestClient) -> None:
    admin = bearer(client)
    user = client.post("/api/users", json={"username": "mover", "password": PASSWORD, "role": "viewer"},
                       headers=admin).json()
    token = bearer(client, "mover")
    assert client.get("/api/users", headers=token).status_code == 403
    client.patch(f"/api/users/{user['id']}", json={"role": "admin"}, headers=admin)
    assert client.get("/api/users", headers=token).status_code == 200
    client.patch(f"/api/users/{user['id']}", json={"role": "viewer"}, headers=admin)
    assert client.get("/api/users", headers=token).status_code == 403


def test_changing_a_password_revokes_the_tokens(client: TestClient) -> None:
    admin = bearer(client)
    client.post("/api/users", json={"username": "changer", "password": PASSWORD, "role": "viewer"}, headers=admin)
    token = bearer(client, "changer")
    wrong = client.post("/api/auth/password", json={"current_password": "not-it-at-all", "new_password":
                                                     "another-horse-93"}, headers=token)
    assert wrong.status_code == 422
    ok = client.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "another-horse-93"},
                     headers=token)
    assert ok.status_code == 200
    assert client.get("/api/auth/me", headers=token).status_code == 401
    assert bearer(client, "changer", "another-horse-93")


def test_the_last_administrator_cannot_be_removed(client: TestClient) -> None:
    admin = bearer(client)
    users = {u["username"]: u for u in client.get("/api/users", headers=admin).json()}
    assert client.patch(f"/api/users/{users['second_admin']['id']}", json={"is_active": False},
                        headers=admin).status_code == 200
    last = client.patch(f"/api/users/{users['admin']['id']}", json={"role": "viewer"}, headers=admin)
    assert last.status_code == 409 and "last administrator" in last.json()["detail"]
    client.patch(f"/api/users/{users['second_admin']['id']}", json={"is_active": True}, headers=admin)


# -- passwords and usernames ---------------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["1234567890", "password123", "qwertyuiop", "admin-admin-admin"])
def test_guessable_passwords_are_refused(client: TestClient, password: str) -> None:
    r = client.post("/api/users", json={"username": "weakling", "password": password, "role": "viewer"},
                    headers=bearer(client))
    assert r.status_code == 422, password


@pytest.mark.parametrize("name", ["ADMIN", "Admin", " admin", "ａｄｍｉｎ"])
def test_usernames_have_one_spelling(client: TestClient, name: str) -> None:
    r = client.post("/api/users", json={"username": name, "password": PASSWORD, "role": "viewer"},
                    headers=bearer(client))
    assert r.status_code == 409, (name, r.text)
    assert client.post("/api/auth/tokens", json={"username": name, "password": PASSWORD}).status_code == 200


def test_a_look_alike_username_is_refused(client: TestClient) -> None:
    cyrillic = "аdmin"  # the first letter is Cyrillic а (U+0430)
    r = client.post("/api/users", json={"username": cyrillic, "password": PASSWORD, "role": "viewer"},
                    headers=bearer(client))
    assert r.status_code == 422 and "a–z" in r.json()["detail"]


# -- hostile values: 4xx with a message, never 500 -----------------------------------------------------------

HOSTILE_GETS = ["/api/runs/99999999999999999999", "/api/runs/-1", "/api/runs?limit=-1", "/api/runs?limit=0",
                "/api/audit?limit=-5", "/api/runs?limit=99999999999999999999999", "/api/regions/1/zones?level=%00",
                "/api/regions/1/zones/%00/accounts", "/api/regions/1/zones/%ED%A0%80/accounts",
                "/api/regions/1/map?level=city&parent=" + "x" * 500, "/api/users/18446744073709551616",
                "/api/runs/1/report/zh.exe", "/api/notifications?limit=1e3"]


@pytest.mark.parametrize("path", HOSTILE_GETS)
def test_hostile_values_in_paths_and_queries_are_4xx(client: TestClient, path: str) -> None:
    r = client.get(path, headers=bearer(client))
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
    assert r.json()["detail"] and r.json()["request_id"]


HOSTILE_BODIES = [
    ("/api/users", {"username": "nul\u0000name", "password": PASSWORD, "role": "viewer"}),
    ("/api/users", {"username": "ok_name", "password": PASSWORD, "role": "viewer", "display_name": "x" * 5000}),
    ("/api/users", {"username": "ok_name2", "password": PASSWORD, "role": "viewer", "organisation_id": 2**70}),
    ("/api/users", {"username": "ok_name3", "password": PASSWORD, "role": "viewer", "organisation_id": 424242}),
    ("/api/users", {"username": "ok_name4", "password": PASSWORD, "role": "x" * 300}),
    ("/api/organisations", {"name": "a" * 201, "kind": "bank"}),
    ("/api/organisations", {"name": "有效", "kind": "bank", "extra": 1}),
    ("/api/notifications/read", {"ids": [2**64]}),
    ("/api/notifications/read", {"ids": "all"}),
    ("/api/regions/1/runs", {"year": 10**30}),
    ("/api/regions/99999999999999999999/runs", {"year": 2019}),
    ("/api/regions", {"path": "\u0000"}),
]


@pytest.mark.parametrize(("path", "body"), HOSTILE_BODIES)
def test_hostile_values_in_bodies_are_4xx(client: TestClient, path: str, body: dict) -> None:
    r = client.post(path, json=body, headers=bearer(client))
    assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
    assert r.json()["detail"]


def test_a_raw_lone_surrogate_and_invalid_json_are_4xx(client: TestClient) -> None:
    h = {**bearer(client), "Content-Type": "application/json"}
    for raw in (b'{"name": "\\ud800", "kind": "bank"}', b'{"name": ', b"\xff\xfe"):
        r = client.post("/api/organisations", content=raw, headers=h)
        assert r.status_code == 422, (raw, r.text)


# -- headers and cookies -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/login", "/api/health", "/static/kit/app.css", "/docs", "/nothing-here"])
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"
    assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"])


def test_pages_have_no_inline_script_the_policy_would_block(client: TestClient) -> None:
    for path in ("/login", "/docs"):
        html = client.get(path).text
        for tag in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
            assert "src=" in tag[0] or 'type="application/json"' in tag[0], tag


def test_cookies_are_secure_behind_tls(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEP_SECURE_COOKIES", "1")
    app = create_app(Settings(database_url=db_url, data_dir=tmp_path, job_mode="queue"))
    with TestClient(app, base_url="https://gep.test") as c:
        r = c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "max-age" in c.get("/login").headers["strict-transport-security"]
