"""Certificates: Ed25519 signatures over a canonical form; a PDF that carries its signed document; verification
that tells genuine, tampered, revoked, unknown-key and never-issued apart — on the public API and page, and
offline with `gep certificate verify`."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import PASSWORD
from gep.app import Settings, build_platform, create_app
from gep.auth import service as auth
from gep.certificates import keys, pdf, rules, service
from gep.cli import app as cli
from gep.db import make_engine, session_factory, unit_of_work
from gep.errors import InputError
from gep.kit.principal import SYSTEM
from gep.migrations import upgrade

PAYLOAD = {"lines": [{"zh": "成交价款", "en": "Price", "value": "¥120,000.00"},
                     {"zh": "受让方", "en": "Buyer", "value": "甲企业"}], "listing": "JY2026000001"}


def test_a_signature_covers_every_byte_of_the_content() -> None:
    key = Ed25519PrivateKey.generate()
    doc = rules.sign(key, {"serial": "GEP-2026-000001", **PAYLOAD})
    known = {doc["key_id"]: rules.public_bytes(key.public_key())}
    assert rules.check_signature(doc, known) == rules.Check(True, True)
    for change in (lambda d: d["payload"]["lines"][0].update(value="¥12,000.00"),
                   lambda d: d["payload"].update(extra=" "), lambda d: d["payload"]["lines"].reverse(),
                   lambda d: d.update(signature=d["signature"][:-4] + "AAA=")):
        forged = copy.deepcopy(doc)
        change(forged)
        assert rules.check_signature(forged, known) == rules.Check(False, True)
    assert rules.check_signature(doc, {}) == rules.Check(False, False)  # a key the platform never had
    # key order and spacing do not matter to the canonical form; the content does
    assert rules.canonical({"b": 1, "a": "丽水"}) == '{"a":"丽水","b":1}'.encode()


@pytest.mark.parametrize("bad", [b"", b"{}", b"[1,2]", b'{"format": "gep-certificate/1"}', b"%PDF-1.4 junk",
                                 b"\xff\xfe\x00", b'{"format": "gep-certificate/1", "payload": {}, "key_id": "x", '
                                                  b'"signature": "y"}'])
def test_what_is_not_a_certificate_is_said_so(bad: bytes) -> None:
    with pytest.raises(InputError):
        rules.load(bad)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path, str]]:
    tmp = tmp_path_factory.mktemp("certs")
    url = f"sqlite:///{tmp / 'gep.db'}"
    upgrade(url)
    f = session_factory(make_engine(url))
    with unit_of_work(f) as s:
        org = auth.create_organisation(s, "交易中心", "government", SYSTEM)
        for name, role in (("officer", "exchange_officer"), ("viewer", "viewer"), ("party", "enterprise_user")):
            auth.create_user(s, name, PASSWORD, role, SYSTEM, organisation_id=org.id if name == "officer" else None,
                             roles=build_platform().roles)
    app = create_app(Settings(database_url=url, data_dir=tmp / "data", job_mode="queue"))
    with TestClient(app) as c:
        yield c, tmp, url


def _issue(tmp: Path, url: str, subject: str, party_user: int | None = None) -> str:
    signer = keys.signer(keys.key_path(tmp / "data"))
    with unit_of_work(session_factory(make_engine(url))) as s:
        row = service.issue(s, signer, "exchange_trade", subject, "林权 · 测试", PAYLOAD,
                            [party_user] if party_user else [], [])
        return row.serial


def token(c: TestClient, user: str) -> dict[str, str]:
    r = c.post("/api/auth/tokens", json={"username": user, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}", "Accept-Language": "en"}


def test_issue_download_verify_tamper_revoke(platform: tuple[TestClient, Path, str]) -> None:
    c, tmp, url = platform
    party = c.get("/api/auth/me", headers=token(c, "party")).json()["id"]
    serial = _issue(tmp, url, "test:1", party)
    assert _issue(tmp, url, "test:1", party) == serial  # one certificate per subject
    record = c.get(f"/api/certificates/{serial}").json()
    assert record["status"] == "valid" and record["lines"][0]["value"] == "¥120,000.00"
    assert c.get(f"/api/certificates/{serial}/pdf", headers=token(c, "viewer")).status_code == 403
    got = c.get(f"/api/certificates/{serial}/pdf", headers=token(c, "party"))
    assert got.status_code == 200
    file = tmp / f"{serial}.pdf"
    file.write_bytes(got.content)
    document = rules.load(got.content)
    assert document["payload"]["serial"] == serial and rules.digest(document) == record["digest"]
    ok = c.post("/api/certificates/verify", files={"file": (file.name, got.content, "application/pdf")}).json()
    assert ok["status"] == "valid" and ok["register_digest"] == ok["digest"]
    # someone edits the price and makes a new PDF with the old signature: tampered
    forged = copy.deepcopy(document)
    forged["payload"]["lines"][0]["value"] = "¥1,200.00"
    fake = pdf.render(forged, "http://testserver/certificates/" + serial)
    bad = c.post("/api/certificates/verify", files={"file": ("f.pdf", fake, "application/pdf")}).json()
    assert bad["status"] == "tampered" and bad["verdict"].startswith("不真实")  # in Chinese by default
    english = c.post("/api/certificates/verify", files={"file": ("f.pdf", fake, "application/pdf")},
                     headers={"Accept-Language": "en"}).json()
    assert "NOT genuine" in english["verdict"]
    # a genuine signature by a key the platform does not know (someone's own key)
    other = rules.sign(Ed25519PrivateKey.generate(), document["payload"])
    assert c.post("/api/certificates/verify", files={"file": ("o.json", json.dumps(other), "application/json")}
                  ).json()["status"] == "unknown_key"
    # the platform's own key over a certificate it never registered
    signer = keys.signer(keys.key_path(tmp / "data"))
    invented = rules.sign(signer.private, {**document["payload"], "serial": "GEP-2026-999999"})
    assert c.post("/api/certificates/verify", files={"file": ("i.json", json.dumps(invented), "application/json")}
                  ).json()["status"] == "not_issued"
    # offline, with the public key only
    pem = tmp / "platform.pem"
    pem.write_text(signer.public_pem)
    runner = CliRunner()
    r = runner.invoke(cli, ["certificate", "verify", str(file), "--public-key", str(pem)])
    assert r.exit_code == 0 and "genuine" in r.output, r.output
    forged_file = tmp / "forged.pdf"
    forged_file.write_bytes(fake)
    r = runner.invoke(cli, ["certificate", "verify", str(forged_file), "--public-key", str(pem)])
    assert r.exit_code == 1 and "NOT genuine" in r.output
    # revoked: only the exchange's staff may; the register, the page and the command say so
    assert c.post(f"/api/certificates/{serial}/revoke", json={"reason": "x"},
                  headers=token(c, "viewer")).status_code == 403
    rv = c.post(f"/api/certificates/{serial}/revoke", json={"reason": "合同被法院撤销"}, headers=token(c, "officer"))
    assert rv.status_code == 200 and rv.json()["status"] == "revoked"
    assert c.post(f"/api/certificates/{serial}/revoke", json={"reason": "again"},
                  headers=token(c, "officer")).status_code == 409
    assert c.get(f"/api/certificates/{serial}").json()["status"] == "revoked"
    r = runner.invoke(cli, ["certificate", "verify", str(file), "--database-url", url])
    assert r.exit_code == 1 and "REVOKED" in r.output
    page = c.get(f"/certificates/{serial}")
    assert page.status_code == 200 and serial in page.text
    assert c.get("/api/certificates/GEP-0000-000000").status_code == 404
    r = runner.invoke(cli, ["certificate", "verify", str(tmp / "missing.pdf")])
    assert r.exit_code == 2


def test_the_signing_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = keys.key_path(tmp_path)
    a = keys.signer(path)
    keys._load.cache_clear()
    b = keys.signer(path)
    assert a.key_id == b.key_id and oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    path.write_text("not a key")  # a changed file is read again, without clearing any cache
    with pytest.raises(InputError, match="not an unencrypted PEM private key"):
        keys.signer(path)
