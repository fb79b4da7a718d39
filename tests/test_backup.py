"""Backups and their restore (issue 19): the drill (a platform with a region, an accounting run and money in the
ledger, backed up, destroyed, restored, and compared table by table and file by file) on SQLite and PostgreSQL;
a damaged archive, one from a newer gep, and a target that is not empty, each refused with nothing changed; a
backup taken while bids and uploads are in flight restores to a consistent state."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from typer.testing import CliRunner

from conftest import PASSWORD, bearer, served_app
from gep.app import DOMAINS
from gep.auth import service as auth
from gep.cli import app as cli
from gep.db import make_engine, session_factory, unit_of_work
from gep.errors import InputError
from gep.kit.principal import SYSTEM
from gep.ledger import service as ledger
from gep.migrations import upgrade
from gep.operations import backup, restore
from gep.operations.archive import ArchiveError
from gep.testing import TinyRegion
from test_region_uploads import CLASSES, LAYERS, STATS, wait_for, zipped

SKIPPED = ("locks", "uploads", "exports")
CREATED: list[str] = []  # PostgreSQL databases made as restore targets, dropped when the module ends


@pytest.fixture(scope="module", autouse=True)
def _drop_targets() -> Iterator[None]:
    yield
    for url in CREATED:
        admin = create_engine(url.split("?")[0].rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.split("?")[0].rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def table_rows(url: str) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as text, in a stable order."""
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {t.name: sorted(tuple(str(v) for v in row) for row in conn.execute(select(t)))
                    for t in meta.sorted_tables}
    finally:
        engine.dispose()


def data_files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).parts[0] not in SKIPPED
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


def destroy(url: str, data_dir: Path) -> None:
    """What a lost server leaves: no database, no data folder."""
    import shutil

    shutil.rmtree(data_dir)
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink()
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


@pytest.fixture(scope="module")
def platform(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A platform with users, a region uploaded through the API, a finished accounting run (accounts and report
    in the data folder), money in the ledger and a signing key."""
    upgrade(empty_db)
    engine = make_engine(empty_db)
    with unit_of_work(session_factory(engine)) as s:
        county = auth.create_organisation(s, "某县自然资源局", "government", SYSTEM)
        auth.create_user(s, "analyst", PASSWORD, "analyst", SYSTEM, organisation_id=county.id)
        ledger.payment_in(s, ledger.funds_of(s, organisation_id=county.id), 123_456, "funds", SYSTEM, key="funds")
    engine.dispose()
    data = tmp_path_factory.mktemp("data") / "gep-data"
    package = TinyRegion(CLASSES, LAYERS, statistics=STATS).write(tmp_path_factory.mktemp("pkg") / "tiny")
    for client in served_app(empty_db, data):
        h = bearer(client, "analyst")
        r = client.post("/api/regions/uploads", files=[("files", ("tiny.zip", zipped(package), "application/zip"))],
                        headers=h)
        assert r.status_code == 201, r.text
        run = client.post(f"/api/regions/{r.json()['id']}/runs", json={"year": 2019}, headers=h)
        assert run.status_code in (200, 201, 202), run.text
        assert wait_for(client, run.json()["id"], h)["status"] == "succeeded"
        assert client.get("/api/certificates/keys").status_code == 200  # the signing key, made on first use
    yield empty_db, data


@pytest.mark.slow  # a whole platform backed up and restored (13 s): CI runs it with the slow tests
def test_the_restore_drill_gives_back_every_table_and_file(platform: tuple[str, Path], tmp_path: Path) -> None:
    url, data = platform
    rows, files = table_rows(url), data_files(data)
    assert any(name.startswith("runs/") and name.endswith("accounts.parquet") for name in files)
    assert any(name.startswith("regions/") for name in files) and "keys/certificate-signing-ed25519.pem" in files
    assert rows["ledger_transfer"] and rows["region"] and rows["accounting_run"]
    out = CliRunner().invoke(cli, ["backup", str(tmp_path), "--database-url", url, "--data-dir", str(data)])
    assert out.exit_code == 0, out.output
    (archive,) = tmp_path.glob("gep-backup-*.tar.gz")
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds the keys
    destroy(url, data)
    out = CliRunner().invoke(cli, ["restore", str(archive), "--database-url", url, "--data-dir", str(data)])
    assert out.exit_code == 0, out.output
    assert data_files(data) == files
    assert table_rows(url) == rows
    key = data / "keys" / "certificate-signing-ed25519.pem"
    assert key.stat().st_mode & 0o777 == 0o600 and key.parent.stat().st_mode & 0o777 == 0o700


def _archive(platform: tuple[str, Path], folder: Path) -> Path:
    url, data = platform
    return backup.take(url, data, folder, DOMAINS).path


def _rewrite(archive: Path, target: Path, change: Any) -> Path:
    """A copy of the archive with its members passed through `change(name, bytes) -> bytes`."""
    with tarfile.open(archive) as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            fh = src.extractfile(member)
            assert fh is not None
            raw = change(member.name, fh.read())
            info = tarfile.TarInfo(member.name)
            info.size = len(raw)
            dst.addfile(info, io.BytesIO(raw))
    return target


def _fresh_target(platform: tuple[str, Path], tmp_path: Path) -> tuple[str, Path]:
    """An empty database of the same kind (and schema name) as the platform's, and a new data folder."""
    url, _ = platform
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}", tmp_path / "restored-data"
    engine = create_engine(url)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    engine.dispose()
    name = f"gep_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.split("?")[0], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base = url.split("?")[0].rsplit("/", 1)[0]
    target = f"{base}/{name}?options=-csearch_path%3D{schema}"
    CREATED.append(target)
    engine = create_engine(target)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return target, tmp_path / "restored-data"


def _nothing_changed(url: str, data: Path, before: dict[str, Any], folder: Path) -> None:
    assert (table_rows(url) if before["rows"] is not None else None) == before["rows"]
    assert (sorted(p.name for p in data.iterdir()) if data.exists() else None) == before["files"]
    assert not [p for p in folder.rglob("*") if ".restoring-" in p.name]  # no staging folder left behind


@pytest.mark.parametrize("damage", ["flipped byte", "changed member", "missing member", "cut short",
                                    "not an archive", "path outside"])
def test_a_damaged_archive_is_refused_and_nothing_changes(platform: tuple[str, Path], tmp_path: Path,
                                                          damage: str) -> None:
    archive = _archive(platform, tmp_path)
    bad = tmp_path / "bad.tar.gz"
    if damage == "flipped byte":
        raw = bytearray(archive.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        bad.write_bytes(bytes(raw))
    elif damage == "changed member":
        _rewrite(archive, bad, lambda n, b: b + b"x" if n.endswith("region.toml") else b)
    elif damage == "missing member":
        with tarfile.open(archive) as src, tarfile.open(bad, "w:gz") as dst:
            for m in src:
                if not m.name.endswith("region.toml"):
                    fh = src.extractfile(m)
                    assert fh is not None
                    dst.addfile(m, fh)
    elif damage == "cut short":
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    elif damage == "not an archive":
        bad.write_bytes(gzip.compress(b"hello"))
    else:  # a member that would land outside the data folder, listed in the manifest as if it belonged
        def outside(name: str, raw: bytes) -> bytes:
            if name != "manifest.json":
                return raw
            m = json.loads(raw)
            m["files"]["data/../../evil.txt"] = {"sha256": hashlib.sha256(b"x").hexdigest(), "size": 1}
            return json.dumps(m).encode()

        listed = _rewrite(archive, tmp_path / "listed.tar.gz", outside)
        bad = tmp_path / "evil.tar"
        with tarfile.open(bad, "w") as evil, tarfile.open(listed) as src:
            info = tarfile.TarInfo("data/../../evil.txt")
            info.size = 1
            evil.addfile(info, io.BytesIO(b"x"))
            for m in src:
                fh = src.extractfile(m)
                assert fh is not None
                evil.addfile(m, fh)
    url, data = _fresh_target(platform, tmp_path)
    before = {"rows": None, "files": None}
    with pytest.raises(ArchiveError) as caught:
        restore.restore(bad, url, data, DOMAINS, moved=True)
    assert bad.name in str(caught.value)
    _nothing_changed(url, data, before if url.startswith("sqlite") else {"rows": {}, "files": None}, tmp_path)
    assert not (tmp_path / "evil.txt").exists() and not (data / "evil.txt").exists()


def test_an_archive_from_a_newer_gep_is_refused(platform: tuple[str, Path], tmp_path: Path) -> None:
    archive = _archive(platform, tmp_path)

    def newer(name: str, raw: bytes) -> bytes:
        if name != "manifest.json":
            return raw
        m = json.loads(raw)
        m["schema_heads"] = [*m["schema_heads"], "f00dfacef00d"]
        return json.dumps(m).encode()

    url, data = _fresh_target(platform, tmp_path)
    with pytest.raises(ArchiveError, match=r"f00dfacef00d.*newer gep"):
        restore.restore(_rewrite(archive, tmp_path / "newer.tar.gz", newer), url, data, DOMAINS, moved=True)
    assert not data.exists()


def test_a_target_that_is_not_empty_is_refused_and_left_as_it_was(platform: tuple[str, Path],
                                                                   tmp_path: Path) -> None:
    url, data = platform
    archive = _archive(platform, tmp_path)
    rows, files = table_rows(url), data_files(data)
    with pytest.raises(InputError, match="target database is not empty"):
        restore.restore(archive, url, tmp_path / "new-data", DOMAINS, moved=True)
    target, fresh = _fresh_target(platform, tmp_path)
    fresh.mkdir()
    (fresh / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="is not empty"):
        restore.restore(archive, target, fresh, DOMAINS, moved=True)
    assert [p.name for p in fresh.iterdir()] == ["notes.txt"]
    assert table_rows(url) == rows and data_files(data) == files
    with pytest.raises(InputError, match="same path"):
        restore.restore(archive, target, tmp_path / "elsewhere", DOMAINS)


def test_a_backup_is_never_written_into_the_data_folder_nor_over_another(platform: tuple[str, Path],
                                                                         tmp_path: Path) -> None:
    url, data = platform
    with pytest.raises(InputError, match="inside the data folder"):
        backup.take(url, data, data / "backups", DOMAINS)
    first = backup.take(url, data, tmp_path / "b.tar.gz", DOMAINS).path
    with pytest.raises(InputError, match="exists already"):
        backup.take(url, data, first, DOMAINS)


def test_old_archives_are_pruned_to_the_newest_kept(platform: tuple[str, Path], tmp_path: Path) -> None:
    url, data = platform
    made = [backup.take(url, data, tmp_path, DOMAINS, keep=2) for _ in range(3)]
    assert sorted(tmp_path.glob(backup.PATTERN)) == [made[1].path, made[2].path]
    assert made[2].pruned == [made[0].path]


def test_a_backup_taken_while_bids_and_uploads_are_in_flight_restores_consistent(live_url: str,
                                                                                  tmp_path: Path) -> None:
    """Bidders and an uploader keep going while the backup runs: the restored platform has every posting's
    transfer behind its balances, bids in one unbroken order, and every region folder with its row and back."""
    import threading

    from exchange_fixtures import make_world
    from gep.errors import GepError
    from gep.exchange import bidding
    from gep.exchange.models import Bid, Listing
    from gep.ledger import rules as ledger_rules
    from gep.ledger.models import LedgerAccount, LedgerTransfer
    from gep.regions import packages
    from gep.regions.models import Region
    from test_exchange_concurrency import INCREMENT, bidders, open_auction

    world = make_world(live_url, tmp_path / "world")
    people = bidders(world, 4)
    lid = open_auction(world, people)
    data = tmp_path / "data"
    f = world.platform.factory
    stop, counts, lock = threading.Event(), {"bids": 0, "uploads": 0}, threading.Lock()

    def bidder(p: object) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                with unit_of_work(f) as s:  # type: ignore[arg-type]
                    price = (s.get(Listing, lid).current_price_fen or 100_000 - INCREMENT) + INCREMENT
                    bidding.place_bid(s, lid, price, 1, p, key=f"{p.username}-{n}")  # type: ignore[arg-type, attr-defined]
                with lock:
                    counts["bids"] += 1
            except GepError:
                pass

    def uploader() -> None:
        from gep.kit.principal import Principal

        analyst = Principal(world.ids["officer"], "officer", "test", None, frozenset({"*"}), "system")
        n = 0
        while not stop.is_set():
            n += 1
            root = TinyRegion(CLASSES, LAYERS, statistics=STATS).write(tmp_path / "pkgs" / f"up{n}")
            toml = root / "region.toml"
            toml.write_text(toml.read_text(encoding="utf-8").replace('id = "tiny"', f'id = "up{n}"'), encoding="utf-8")
            sent = tmp_path / "sent" / f"up{n}.zip"
            sent.parent.mkdir(parents=True, exist_ok=True)
            sent.write_bytes(zipped(root))
            with unit_of_work(f) as s:  # type: ignore[arg-type]
                folder = packages.stage(data, [(sent, "up.zip")])
                packages.create_region(s, data, folder, analyst, "up.zip", "-")
            with lock:
                counts["uploads"] += 1

    threads = [threading.Thread(target=bidder, args=(p,)) for p in people] + [threading.Thread(target=uploader)]
    for t in threads:
        t.start()
    try:
        while min(counts.values()) < 2:
            stop.wait(0.05)
        taken = backup.take(live_url, data, tmp_path / "backups", DOMAINS)
        seen = dict(counts)
        while counts["bids"] < seen["bids"] + 2 or counts["uploads"] < seen["uploads"] + 1:
            stop.wait(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    if live_url.startswith("sqlite"):
        target, restored = f"sqlite:///{tmp_path / 'restored.db'}", tmp_path / "restored-data"
    else:
        target, restored = _fresh_target((live_url, data), tmp_path)
    restore.restore(taken.path, target, restored, DOMAINS, moved=True)
    engine = make_engine(target)
    with unit_of_work(session_factory(engine)) as s:
        transfers = list(s.scalars(select(LedgerTransfer)))
        settled = {t.pending_id for t in transfers if t.pending_id is not None}
        posted = [t for t in transfers if t.kind in (ledger_rules.PLAIN, ledger_rules.POST)]
        holds = [t for t in transfers if t.kind == ledger_rules.PENDING and t.id not in settled]
        for a in s.scalars(select(LedgerAccount)):  # every balance is exactly the replay of its transfers
            assert a.debits_posted == sum(t.amount for t in posted if t.debit_account_id == a.id)
            assert a.credits_posted == sum(t.amount for t in posted if t.credit_account_id == a.id)
            assert a.debits_pending == sum(t.amount for t in holds if t.debit_account_id == a.id)
        bids = list(s.scalars(select(Bid).where(Bid.listing_id == lid).order_by(Bid.seq)))
        assert bids and [b.seq for b in bids] == list(range(1, len(bids) + 1))
        assert s.get(Listing, lid).current_price_fen == bids[-1].price_fen
        uploaded = {Path(r.package_path).name for r in s.scalars(select(Region)) if r.code.startswith("up")}
    engine.dispose()
    on_disk = {p.name for p in (restored / "regions").iterdir()} if (restored / "regions").exists() else set()
    assert uploaded and uploaded == on_disk  # every folder with its row, every row with its folder
    with unit_of_work(f) as s:  # type: ignore[arg-type]
        live_bids = len(list(s.scalars(select(Bid).where(Bid.listing_id == lid))))
        live_regions = len([r for r in s.scalars(select(Region)) if r.code.startswith("up")])
    assert live_bids > len(bids) and live_regions > len(uploaded)  # the work went on after the backup's moment


@pytest.mark.slow
def test_the_restore_drill_on_the_seeded_demo(demo: Any, tmp_path: Path) -> None:
    """The whole seeded demo platform (every mechanism, its certificates, trace chains, rasters and photos):
    backed up, destroyed, restored, compared."""
    import shutil

    url = demo.copy_database(tmp_path / "gep.db")
    data = tmp_path / "data"
    shutil.copytree(demo.workdir / "data", data)
    rows, files = table_rows(url), data_files(data)
    assert len(rows) > 60 and sum(map(len, rows.values())) > 100_000 and len(files) >= 5
    taken = backup.take(url, data, tmp_path / "backups", DOMAINS)
    # the region and the accounts the demo imported in place, outside its data folder, are kept as well
    assert {str(demo.region), str(demo.workdir / "accounts" / "2019")} <= set(taken.external)
    outside = {p: data_files(Path(p)) for p in taken.external}
    destroy(url, data)
    away = {p: tmp_path / "moved-away" / str(n) for n, p in enumerate(taken.external)}
    for p, there in away.items():
        there.parent.mkdir(exist_ok=True)
        shutil.move(p, there)
    try:
        done = restore.restore(taken.path, url, data, DOMAINS, moved=True)
    finally:  # the demo is shared with the other slow tests: never leave it without its region
        for p, there in away.items():
            if not Path(p).exists():
                shutil.move(there, p)
    assert not done.migrated and sorted(done.put_back) == sorted(taken.external)
    assert table_rows(url) == rows and data_files(data) == files
    assert {p: data_files(Path(p)) for p in taken.external} == outside
