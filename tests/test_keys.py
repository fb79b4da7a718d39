"""Keys and secrets (issue 19): made at first start outside the database, private to the server's user, and
rotatable: certificates signed by a replaced key stay genuine; sessions survive a rotation and end when the old
secrets are retired; a database writer cannot forge a session or a token without the secret's file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import PASSWORD
from gep.app import Settings, create_app
from gep.auth import service as auth
from gep.auth.models import ApiToken, User
from gep.certificates import keys, rules
from gep.certificates import service as certificates
from gep.cli import app as cli
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit import keyring
from gep.kit.audit import now
from gep.kit.principal import SYSTEM
from gep.migrations import upgrade


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, str, Path]]:
    url, data = f"sqlite:///{tmp_path / 'gep.db'}", tmp_path / "data"
    upgrade(url)
    with unit_of_work(session_factory(make_engine(url))) as s:
        auth.create_user(s, "admin", PASSWORD, "admin", SYSTEM)
    with TestClient(create_app(Settings(database_url=url, data_dir=data))) as client:
        yield client, url, data


def login(client: TestClient) -> dict[str, str]:
    """A fresh browser session (its cookie) and an API token, as headers of their own."""
    client.cookies.clear()
    r = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = {"Cookie": f"gep_session={client.cookies.get('gep_session')}"}
    client.cookies.clear()
    token = client.post("/api/auth/tokens", json={"username": "admin", "password": PASSWORD}).json()["token"]
    return {"cookie": cookie["Cookie"], "token": token}


def works(client: TestClient, creds: dict[str, str]) -> tuple[int, int]:
    client.cookies.clear()
    by_cookie = client.get("/api/auth/me", headers={"Cookie": creds["cookie"]}).status_code
    by_token = client.get("/api/auth/me", headers={"Authorization": f"Bearer {creds['token']}"}).status_code
    return by_cookie, by_token


def test_secrets_are_made_at_first_start_outside_the_database_and_private(site: tuple[TestClient, str, Path]
                                                                          ) -> None:
    _, url, data = site
    folder = data / "keys"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    for name in (keys.KEY_FILE, keyring.SESSION_FILE):
        assert oct((folder / name).stat().st_mode & 0o777) == "0o600"
    first = (folder / keyring.SESSION_FILE).read_bytes(), (folder / keys.KEY_FILE).read_bytes()
    with TestClient(create_app(Settings(database_url=url, data_dir=data))):
        pass  # a second start keeps them
    assert ((folder / keyring.SESSION_FILE).read_bytes(), (folder / keys.KEY_FILE).read_bytes()) == first
    assert first[0].decode() not in Path(url.removeprefix("sqlite:///")).read_bytes().decode("latin-1")


def test_sessions_survive_a_rotation_and_end_when_the_old_secrets_are_retired(site: tuple[TestClient, str, Path]
                                                                              ) -> None:
    client, url, data = site
    before = login(client)
    assert works(client, before) == (200, 200)
    r = CliRunner().invoke(cli, ["keys", "rotate", "session", "--database-url", url, "--data-dir", str(data)])
    assert r.exit_code == 0 and "v2" in r.output, r.output
    assert works(client, before) == (200, 200)  # the running app read the new file; the old secret still counts
    after = login(client)
    assert works(client, after) == (200, 200)
    r = CliRunner().invoke(cli, ["keys", "rotate", "session", "--retire-old", "--database-url", url,
                                 "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    assert works(client, before) == (401, 401) and works(client, after) == (401, 401)
    assert works(client, login(client)) == (200, 200)


def test_a_database_writer_cannot_forge_a_token(site: tuple[TestClient, str, Path]) -> None:
    client, url, _ = site
    forged = "gep_" + "x" * 43
    with unit_of_work(session_factory(make_engine(url))) as s:
        admin = s.query(User).filter_by(username="admin").one()
        s.add(ApiToken(user_id=admin.id, name="forged", token_hash=hashlib.sha256(forged.encode()).hexdigest(),
                       created_at=now(), expires_at=now() + timedelta(days=1), revoked=False))
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_what_a_replaced_signing_key_signed_stays_genuine(site: tuple[TestClient, str, Path]) -> None:
    client, url, data = site
    factory = session_factory(make_engine(url))
    path = keys.key_path(data)
    with unit_of_work(factory) as s:
        old = certificates.issue(s, keys.signer(path), "test", "subject:1", "一号证书", {"n": 1}, [], []).document
    r = CliRunner().invoke(cli, ["keys", "rotate", "signing", "--database-url", url, "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    new_signer = keys.signer(path)
    with unit_of_work(factory) as s:
        new = certificates.issue(s, new_signer, "test", "subject:2", "二号证书", {"n": 2}, [], []).document
        import json

        old_doc, new_doc = json.loads(old), json.loads(new)
        assert old_doc["key_id"] != new_doc["key_id"] == new_signer.key_id
        assert certificates.verify(s, old_doc).status == rules.VALID
        assert certificates.verify(s, new_doc).status == rules.VALID
    listed = {k["key_id"] for k in client.get("/api/certificates/keys").json()}
    assert {old_doc["key_id"], new_doc["key_id"]} <= listed
