"""The audit log's tamper-evident chain (issue 19): any edit, deletion or truncation of sealed rows is found, by
the chain, the signed seals or an export kept elsewhere; exports in JSON lines and CSV; retention deletes only
what an export covered and the chain still checks; two sealers at once on PostgreSQL make one chain."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from gep.app import build_platform
from gep.certificates import audit_seal
from gep.cli import app as cli
from gep.db import Base, make_engine, session_factory, unit_of_work
from gep.errors import InputError
from gep.kit import audit_chain
from gep.kit.audit import AuditEntry, audit, now
from gep.kit.audit_chain import AuditSeal
from gep.migrations import upgrade


@pytest.fixture(scope="module")
def memory() -> sessionmaker[Session]:
    build_platform()  # every domain's tables known to the metadata
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    return session_factory(engine)


def wipe(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as s:
        s.execute(delete(AuditEntry))
        s.execute(delete(AuditSeal))


def sign(message: bytes) -> tuple[str, bytes]:
    return "test", b"sig:" + message


def check(key_id: str, message: bytes, signature: bytes) -> bool:
    return key_id == "test" and signature == b"sig:" + message


rows_and_batches = st.lists(st.tuples(st.sampled_from(["login", "bid", "transfer", "approve"]),
                                      st.dictionaries(st.sampled_from(["amount", "note", "参数"]),
                                                      st.one_of(st.integers(), st.text(max_size=8),
                                                                st.floats(allow_nan=False)), max_size=2),
                                      st.booleans()),  # seal after this row?
                            min_size=1, max_size=25)
TAMPER = ["none", "edit detail", "edit action", "edit time", "delete one", "delete newest", "forge seal"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_and_batches, tamper=st.sampled_from(TAMPER), pick=st.integers(min_value=0))
def test_any_edit_or_deletion_of_a_sealed_row_is_found(memory: sessionmaker[Session], rows: list, tamper: str,
                                                       pick: int) -> None:
    wipe(memory)
    for action, detail, seal_after in rows:
        with unit_of_work(memory) as s:
            audit(s, None, action, "thing", 1, **detail)
            if seal_after:
                audit_chain.seal(s, sign)
    with unit_of_work(memory) as s:
        audit_chain.seal(s, sign)
        sealed = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        victim = sealed[pick % len(sealed)]
        if tamper == "edit detail":
            s.execute(update(AuditEntry).where(AuditEntry.id == victim.id)
                      .values(detail={**(victim.detail or {}), "amount": "999999"}))
        elif tamper == "edit action":
            s.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(action=victim.action + "!"))
        elif tamper == "edit time":
            s.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(at=victim.at - timedelta(hours=1)))
        elif tamper == "delete one":
            s.execute(delete(AuditEntry).where(AuditEntry.id == victim.id))
        elif tamper == "delete newest":
            s.execute(delete(AuditEntry).where(AuditEntry.seq >= victim.seq))
        elif tamper == "forge seal":  # rewrite a row and its hash and the seal, without the key
            s.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(action="forged"))
            s.expire_all()
            fixed = s.get(AuditEntry, victim.id)
            assert fixed is not None
            prev = s.scalar(select(AuditEntry.hash).where(AuditEntry.seq == fixed.seq - 1)) or audit_chain.GENESIS
            new_hash = audit_chain.row_hash(prev, fixed.seq or 0, audit_chain.content(fixed))
            s.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(hash=new_hash))
            s.execute(update(AuditSeal).values(signature=b"forged"))
    with unit_of_work(memory) as s:
        verdict = audit_chain.verify(s, check)
    if tamper == "none":
        assert verdict.problems == [] and verdict.checked == len(rows) and verdict.unsealed == 0
    else:
        assert verdict.problems, (tamper, victim.seq, len(sealed))


def test_rows_are_chained_in_order_and_unsealed_ones_are_counted(memory: sessionmaker[Session]) -> None:
    wipe(memory)
    with unit_of_work(memory) as s:
        for i in range(3):
            audit(s, None, "step", "thing", i)
    with unit_of_work(memory) as s:
        assert audit_chain.seal(s, sign) == 3 and audit_chain.seal(s, sign) == 0
        audit(s, None, "late", "thing", 9)
    with unit_of_work(memory) as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [r.seq for r in rows] == [1, 2, 3, None]
        # the hand computation: the first row's hash covers the start, its number and its content
        assert rows[0].hash == audit_chain.row_hash(audit_chain.GENESIS, 1, audit_chain.content(rows[0]))
        assert rows[1].hash == audit_chain.row_hash(rows[0].hash or "", 2, audit_chain.content(rows[1]))
        verdict = audit_chain.verify(s, check)
        assert verdict.problems == [] and verdict.unsealed == 1 and (verdict.first_seq, verdict.last_seq) == (1, 3)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    url = f"sqlite:///{tmp_path / 'gep.db'}"
    upgrade(url)
    yield url, tmp_path / "data"


def _cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, " ".join(r.output.split())  # as one line, however the console wrapped it


def test_export_verify_and_retention_through_the_commands(platform: tuple[str, Path], tmp_path: Path) -> None:
    url, data = platform
    opts = ["--database-url", url, "--data-dir", str(data)]
    factory = session_factory(make_engine(url))
    with unit_of_work(factory) as s:
        for i in range(10):  # a year ago
            audit(s, None, "old", "thing", i, amount=i)
        s.flush()
        s.execute(update(AuditEntry).values(at=now() - timedelta(days=365)))
    code, out = _cli("audit", "prune", "--older-than-days", "30", *opts)
    assert code == 2 and "183" in out  # six months at least
    code, out = _cli("audit", "prune", "--older-than-days", "200", *opts)
    assert code == 0 and out.startswith("0 audit rows deleted")  # nothing exported yet: nothing may go
    code, out = _cli("audit", "export", str(tmp_path / "a.jsonl"), *opts)
    assert code == 0 and out.startswith("11 audit rows"), out  # the old ten and the refused prune's record
    with unit_of_work(factory) as s:
        for i in range(3):
            audit(s, None, "new", "thing", i)
    code, out = _cli("audit", "export", str(tmp_path / "b.csv"), *opts)  # only what is new since a.jsonl
    assert code == 0, out
    with (tmp_path / "b.csv").open(encoding="utf-8") as fh:
        exported = list(csv.DictReader(fh))
    assert [r["action"] for r in exported] == ["export", "new", "new", "new"]
    first = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["seq"] for r in first] == list(range(1, 12)) and first[3]["detail"] == {"amount": 3}
    code, out = _cli("audit", "verify", "--export", str(tmp_path / "a.jsonl"), "--export", str(tmp_path / "b.csv"),
                     *opts)
    assert code == 0 and "intact" in out, out
    code, out = _cli("audit", "prune", "--older-than-days", "200", *opts)
    assert code == 0 and out.startswith("10 audit rows deleted"), out
    code, out = _cli("audit", "verify", "--export", str(tmp_path / "a.jsonl"), *opts)
    assert code == 0 and "intact" in out, out  # checked from the checkpoint; pruned rows are not "missing"
    with unit_of_work(factory) as s:  # someone edits a row that is in the CSV export
        s.execute(update(AuditEntry).where(AuditEntry.action == "new", AuditEntry.entity_id == "1")
                  .values(note="changed"))
    code, out = _cli("audit", "verify", "--export", str(tmp_path / "b.csv"), *opts)
    assert code == 1 and "was changed after it was sealed" in out and "differs from its export" in out, out
    code, out = _cli("audit", "export", str(tmp_path / "b.csv"), *opts)
    assert code == 2 and "exists already" in out


def test_the_worker_seals_with_the_platform_key(platform: tuple[str, Path]) -> None:
    from gep.certificates import service as certificates

    url, data = platform
    factory = session_factory(make_engine(url))
    with unit_of_work(factory) as s:
        audit(s, None, "something", "thing", 1)
        audit_seal.ensure(s)
        audit_seal.ensure(s)  # twice: one timer
    with unit_of_work(factory) as s:
        from gep.kit.tasks import Task

        pending = list(s.scalars(select(Task).where(Task.kind == audit_seal.SEAL)))
        assert len(pending) == 1 and pending[0].due_at > now()
        assert audit_seal.seal_now(s, data) == 1
    with unit_of_work(factory) as s:
        seal = s.scalars(select(AuditSeal)).one()
        assert seal.key_id in certificates.known_keys(s)
        assert audit_chain.verify(s, audit_seal.checker(data)).problems == []
        s.execute(update(AuditSeal).values(signature=b"\0" * 64))
    with unit_of_work(factory) as s:
        assert [p.message for p in audit_chain.verify(s, audit_seal.checker(data)).problems] == [
            "the seal at {seq} is not signed by a key of the platform"]


def test_retention_is_never_shorter_than_six_months(memory: sessionmaker[Session]) -> None:
    with unit_of_work(memory) as s, pytest.raises(InputError, match="183"):
        audit_chain.prune(s, 90)


def test_two_sealers_and_many_writers_at_once_make_one_chain(live_url: str) -> None:
    upgrade(live_url)
    factory = session_factory(make_engine(live_url))
    stop = threading.Event()

    def writer(k: int) -> None:
        n = 0
        while not stop.is_set():
            with unit_of_work(factory) as s:
                audit(s, None, "write", "thing", f"{k}-{n}")
            n += 1

    def sealer() -> None:
        while not stop.is_set():
            with unit_of_work(factory) as s:  # they take turns: neither fails, neither renumbers the other's
                audit_chain.seal(s, sign)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)] + \
        [threading.Thread(target=sealer) for _ in range(2)]
    for t in threads:
        t.start()
    stop.wait(4)
    stop.set()
    for t in threads:
        t.join()
    with unit_of_work(factory) as s:
        audit_chain.seal(s, sign)
    with unit_of_work(factory) as s:
        verdict = audit_chain.verify(s, check)
        total = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        assert verdict.problems == [] and verdict.unsealed == 0 and verdict.checked > 100
        assert verdict.checked == len(list(s.scalars(select(AuditEntry.id)))) and total


def test_a_key_planted_in_the_database_cannot_sign_a_rewritten_chain(platform: tuple[str, Path]) -> None:
    """Someone who can write to the database adds a key of their own to the certificates' register, rewrites a
    row, its hash and the seal, and signs the seal: the chain is checked against keys/, so it is refused. A key
    retired by a rotation still vouches for what it sealed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gep.certificates import keys, rules
    from gep.certificates.models import SigningKey

    url, data = platform
    factory = session_factory(make_engine(url))
    with unit_of_work(factory) as s:
        audit(s, None, "approve", "loan", 7, amount=100)
        audit_seal.seal_now(s, data)
    keys.rotate(keys.key_path(data))  # the seal's key is now a retired one
    with unit_of_work(factory) as s:
        audit(s, None, "approve", "loan", 8, amount=200)
        audit_seal.seal_now(s, data)
    with unit_of_work(factory) as s:
        assert audit_chain.verify(s, audit_seal.checker(data)).problems == []
    mine = Ed25519PrivateKey.generate()
    mine_id = rules.key_id(mine.public_key())
    with unit_of_work(factory) as s:
        s.add(SigningKey(key_id=mine_id, public_key=rules.public_bytes(mine.public_key()), created_at=now()))
        row = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == "7")).one()
        row.detail = {"amount": 100_000}
        s.flush()
        row.hash = audit_chain.row_hash(audit_chain.GENESIS, 1, audit_chain.content(row))
        later = s.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
        later.hash = audit_chain.row_hash(row.hash, 2, audit_chain.content(later))
        for seal in s.scalars(select(AuditSeal)):
            seal.hash = row.hash if seal.seq == 1 else later.hash
            seal.key_id = mine_id
            seal.signature = mine.sign(audit_chain.seal_message(seal.kind, seal.seq, seal.hash))
    with unit_of_work(factory) as s:
        problems = audit_chain.verify(s, audit_seal.checker(data)).problems
    assert [p.message for p in problems] == ["the seal at {seq} is not signed by a key of the platform"] * 2


def test_a_planted_checkpoint_does_not_hide_deleted_rows(memory: sessionmaker[Session]) -> None:
    wipe(memory)
    with unit_of_work(memory) as s:
        for i in range(6):
            audit(s, None, "pay", "thing", i)
        audit_chain.seal(s, sign)
    with unit_of_work(memory) as s:  # rows 1–4 deleted, and a checkpoint at 4 put in to cover it up
        four = s.scalars(select(AuditEntry).where(AuditEntry.seq == 4)).one()
        s.add(AuditSeal(kind=audit_chain.PRUNE, seq=4, hash=four.hash or "", at=now(), detail={}))
        s.execute(delete(AuditEntry).where(AuditEntry.seq <= 4))
    with unit_of_work(memory) as s:
        messages = {p.message for p in audit_chain.verify(s, check).problems}
    assert "the seal at {seq} is not signed by a key of the platform" in messages  # unsigned
    assert any("past the last export" in m for m in messages)  # and nothing was ever exported


def test_the_chain_does_not_depend_on_the_connections_time_zone(pg_url: str) -> None:
    upgrade(pg_url)
    factory = session_factory(make_engine(pg_url))
    with unit_of_work(factory) as s:
        for i in range(3):
            audit(s, None, "step", "thing", i, note="北京时间")
        audit_chain.seal(s, sign)
    shanghai = session_factory(make_engine(pg_url + "%20-ctimezone%3DAsia/Shanghai"))
    with unit_of_work(shanghai) as s:
        assert str(s.execute(text("SHOW timezone")).scalar()) == "Asia/Shanghai"
        assert audit_chain.verify(s, check).problems == []


def test_a_wrong_or_unmigrated_database_is_named_and_never_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    code, out = _cli("audit", "verify", "--database-url", f"sqlite:///{missing}", "--data-dir", str(tmp_path))
    assert code == 2 and "does not exist" in out and not missing.exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    code, out = _cli("audit", "export", str(tmp_path / "a.jsonl"), "--database-url", f"sqlite:///{empty}",
                     "--data-dir", str(tmp_path))
    assert code == 2 and "gep db upgrade" in out and not (tmp_path / "a.jsonl").exists()
