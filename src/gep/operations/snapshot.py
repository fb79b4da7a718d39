"""A consistent copy of the database, and what its rows say about the data folder, read from that same copy.

SQLite: the online backup API copies the live file page by page into a new one while others keep writing; the
copy is then read for the schema heads and the paths its rows name. PostgreSQL: one REPEATABLE READ transaction
exports its snapshot; `pg_dump --snapshot` dumps exactly what that transaction sees, and the transaction reads the
heads and paths, so the dump and the list of files it needs describe one moment.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url

from gep.db import make_engine
from gep.errors import N_, InputError
from gep.kit.domain import Domain


@dataclass(frozen=True)
class Snapshot:
    dump: Path
    dialect: str
    heads: list[str]
    refs: list[str]  # paths the rows name (region packages, run outputs), as stored
    pg_schema: str = ""


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InputError(N_("an in-memory database cannot be backed up or restored"))
    return Path(database)


def heads(conn: Connection) -> list[str]:
    if "alembic_version" not in inspect(conn).get_table_names():
        return []
    return sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def refs(conn: Connection, domains: Sequence[Domain]) -> list[str]:
    out: list[str] = []
    for domain in domains:
        if domain.data_refs is not None:
            out.extend(domain.data_refs(conn))
    return out


def take(url: str, work: Path, domains: Sequence[Domain]) -> Snapshot:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite(url, work, domains)
    return _postgresql(url, work, domains)


def _sqlite(url: str, work: Path, domains: Sequence[Domain]) -> Snapshot:
    source = sqlite_path(url)
    if not source.is_file():
        raise InputError(N_("the database {file} does not exist"), file=str(source))
    dump = work / "gep.sqlite3"
    src, dst = sqlite3.connect(source, timeout=30), sqlite3.connect(dump)
    try:
        src.backup(dst, pages=4096)
    finally:
        src.close()
        dst.close()
    engine = create_engine(f"sqlite:///{dump}")
    try:
        with engine.connect() as conn:
            return Snapshot(dump, "sqlite", heads(conn), refs(conn, domains))
    finally:
        engine.dispose()


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump/pg_restore, and the environment carrying the password (never on the
    command line, where `ps` would show it)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InputError(N_("{tool} is not installed: install Debian's postgresql-client (the same major version "
                            "as the server, or newer)"), tool=name)
    return found


def _postgresql(url: str, work: Path, domains: Sequence[Domain]) -> Snapshot:
    dump = work / "gep.pgdump"
    uri, env = libpq(url)
    engine = make_engine(url)
    try:
        with engine.connect() as plain:
            conn = plain.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                exported = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                schema = conn.execute(text("SELECT current_schema()")).scalar_one()
                found = Snapshot(dump, "postgresql", heads(conn), refs(conn, domains), pg_schema=schema)
                done = subprocess.run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-acl",
                                       f"--snapshot={exported}", f"--schema={schema}", f"--file={dump}", uri],
                                      env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise InputError(N_("pg_dump failed: {error}"), error=done.stderr.strip()[-500:])
        return found
    finally:
        engine.dispose()
