"""`gep restore`: an archive of `gep backup` back into an empty database and an empty data folder.

Everything that can refuse refuses before anything is written: the archive's format and schema (one from a newer
gep is refused; an older one is restored and then migrated), the target database's kind and emptiness, the data
folder's emptiness and path, and every member's hash (the archive is unpacked into a staging folder inside the
empty data folder first). Only then is the database restored, in one transaction on PostgreSQL, and the staged
files renamed into place; if that fails the restored database is emptied again and the folder left as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

import gep
from gep.db import make_engine
from gep.errors import N_, InputError
from gep.kit.domain import Domain
from gep.operations import snapshot
from gep.operations.archive import ArchiveError, Manifest, extract_verified, read_manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    files: int
    put_back: list[str]  # folders outside the data folder restored where they were
    kept: list[str]  # … or found there already, and left as they are
    migrated: bool
    seconds: float


def known_revisions(url: str, domains: Sequence[Domain]) -> set[str]:
    from alembic.script import ScriptDirectory

    from gep.migrations import config

    return {r.revision for r in ScriptDirectory.from_config(config(url, domains)).walk_revisions()}


def check_schema(manifest: Manifest, url: str, domains: Sequence[Domain], name: str) -> None:
    unknown = sorted(set(manifest.schema_heads) - known_revisions(url, domains))
    if unknown:
        raise ArchiveError(N_("{file} holds a database at schema {revision}, which this gep ({version}) does not "
                              "know: it comes from a newer gep; restore it with that version"), file=name,
                           revision=", ".join(unknown), version=gep.__version__)


def check_database_empty(url: str, manifest: Manifest) -> None:
    backend = make_url(url).get_backend_name()
    if backend != manifest.dialect:
        raise InputError(N_("the backup holds a {found} database; restore it into {found}, not {target}"),
                         found=manifest.dialect, target=backend)
    if backend == "sqlite":
        path = snapshot.sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one() if backend == "postgresql" else ""
    finally:
        engine.dispose()
    if tables:
        raise InputError(N_("the target database is not empty ({count} tables, e.g. {table}): restore only into "
                            "an empty database, so nothing of it is overwritten"), count=len(tables),
                         table=sorted(tables)[0])
    if backend == "postgresql" and schema != manifest.pg_schema:
        raise InputError(N_("the backup holds schema {found}; the target database's connections use {target}"),
                         found=manifest.pg_schema, target=schema)


def check_folder_empty(data_dir: Path, manifest: Manifest, moved: bool) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise InputError(N_("the data folder {folder} is not empty: restore only into an empty or new folder "
                            "(move the old one aside first)"), folder=str(data_dir))
    if str(data_dir) != manifest.data_dir and not moved:
        raise InputError(N_("the backup was taken of the data folder {found}, and the database's rows name paths "
                            "there: restore into that same path (or pass --moved if you will move it yourself)"),
                         found=manifest.data_dir)


def restore(archive: Path, url: str, data_dir: Path, domains: Sequence[Domain], moved: bool = False
            ) -> RestoreResult:
    started = time.perf_counter()
    data_dir = Path(os.path.abspath(data_dir))
    if not archive.is_file():
        raise InputError(N_("{file} does not exist"), file=str(archive))
    manifest = read_manifest(archive)
    check_schema(manifest, url, domains, archive.name)
    check_database_empty(url, manifest)
    check_folder_empty(data_dir, manifest, moved)
    created = not data_dir.exists()
    data_dir.mkdir(parents=True, exist_ok=True)
    # staged inside the (empty) data folder itself: the service's user may write there, and nowhere else
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=".restoring-"))
    try:
        manifest = extract_verified(archive, staging)
        _database(staging / manifest.database, url, manifest)
        moved_out: list[Path] = []
        try:
            unpacked = staging / "data"
            for entry in sorted(unpacked.iterdir()) if unpacked.is_dir() else []:
                os.replace(entry, data_dir / entry.name)
            named = _named(url, domains)
            put_back, kept = _external(staging, manifest, named, moved_out)
        except BaseException:
            _empty_database(url)
            for path in moved_out:  # the folders outside put back so far: they were missing before
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            for entry in data_dir.iterdir():  # it was empty before
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    from gep.migrations import upgrade

    known_heads = set(manifest.schema_heads)
    upgrade(url, domains=domains)
    migrated = _heads(url) != known_heads
    log.info("restored %s into %s and %s (%d files)", archive, url, data_dir, len(manifest.files) - 1)
    return RestoreResult(manifest, len(manifest.files) - 1, put_back, kept, migrated,
                         time.perf_counter() - started)


def _named(url: str, domains: Sequence[Domain]) -> set[str]:
    """The paths the restored database's rows name (only those may be put back outside the data folder)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {os.path.abspath(r) for r in snapshot.refs(conn, domains) if r}
    finally:
        engine.dispose()


def _external(staging: Path, manifest: Manifest, named: set[str], moved_out: list[Path]
              ) -> tuple[list[str], list[str]]:
    """Put back the folders outside the data folder that are missing and that a restored row names; leave those
    that exist as they are (the manifest is not signed: it may not choose paths on its own)."""
    put_back, kept = [], []
    for n, path in enumerate(manifest.external):
        unpacked, target = staging / "external" / str(n), Path(path)
        if target.exists() or not unpacked.exists() or not any(
                r == path or r.startswith(path.rstrip("/") + "/") for r in named):
            kept.append(path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        only = list(unpacked.iterdir())
        if len(only) == 1 and only[0].is_file() and only[0].name == target.name:
            shutil.move(only[0], target)  # a single file was named, not a folder
        else:
            shutil.move(unpacked, target)
        moved_out.append(target)
        put_back.append(path)
    return put_back, kept


def _heads(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(snapshot.heads(conn))
    finally:
        engine.dispose()


def _database(dump: Path, url: str, manifest: Manifest) -> None:
    if manifest.dialect == "sqlite":
        target = snapshot.sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for end in ("-wal", "-shm", "-journal"):  # of no database (the target was empty): never paired with it
            target.with_name(target.name + end).unlink(missing_ok=True)
        shutil.copyfile(dump, target.with_name(f".{target.name}.restoring"))
        os.replace(target.with_name(f".{target.name}.restoring"), target)
        return
    uri, env = snapshot.libpq(url)
    tool = snapshot.pg_tool("pg_restore")
    listing = subprocess.run([tool, "--list", str(dump)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise ArchiveError(N_("pg_restore cannot read the dump: {error}"), error=listing.stderr.strip()[-500:])
    # the schema itself exists already (public, or the one the target's connections use): restore what is in it
    entries = [line for line in listing.stdout.splitlines()
               if f" SCHEMA - {manifest.pg_schema} " not in f"{line} "]
    toc = dump.with_suffix(".toc")
    toc.write_text("\n".join(entries) + "\n", encoding="utf-8")
    done = subprocess.run([tool, "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
                           f"--use-list={toc}", f"--dbname={uri}", str(dump)], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise InputError(N_("pg_restore failed, and restored nothing: {error}"), error=done.stderr.strip()[-500:])


def _empty_database(url: str) -> None:
    """Undo a restore whose data folder could not be put in place (the target was empty before)."""
    if make_url(url).get_backend_name() == "sqlite":
        snapshot.sqlite_path(url).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for table in reversed(inspect(conn).get_sorted_table_and_fkc_names()):
                if table[0]:
                    conn.execute(text(f'DROP TABLE IF EXISTS "{table[0]}" CASCADE'))
    finally:
        engine.dispose()
