"""Fixtures shared by the suite: one demo build for the whole session, and the databases to test against.

The demo (`gep demo` at 1 km, no serving) is built once per session and shared by the accounts, report and
browser tests; tests that change its database work on a copy. PostgreSQL runs too when
GEP_TEST_DATABASE_URL is set (CI sets it); each PostgreSQL test module gets a schema of its own.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock
from sqlalchemy import create_engine, text

pytest_plugins = ["browser_kit"]  # the browser tests' fixtures: browser, page, folder

PASSWORD = "correct-horse-42"
DEMO_PASSWORD = "Demo-Browser-2019!"
PG_URL = os.environ.get("GEP_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])


@dataclass(frozen=True)
class Demo:
    workdir: Path

    @property
    def region(self) -> Path:
        return self.workdir / "region"

    @property
    def accounts(self) -> Path:
        return self.workdir / "accounts" / "2019"

    @property
    def database(self) -> Path:
        return self.workdir / "gep.db"

    def copy_database(self, target: Path) -> str:
        """A copy of the demo's platform database (seeded: users, organisations, region, accounts)."""
        shutil.copy(self.database, target)
        return f"sqlite:///{target}"


def shared_build(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder built once for the whole run: under `pytest -n` the first worker builds
    it and the others wait for it and share it, so the demo is not built once per worker."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        work = factory.mktemp(name)
        build(work)
        return work
    root = factory.getbasetemp().parent  # shared by the workers of one run
    work, done = root / name, root / f"{name}.built"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            build(work)
            done.touch()
    return work


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`gep demo --resolution 1000 --no-serve`, once; every demo user's password is then DEMO_PASSWORD."""
    from typer.testing import CliRunner

    from gep.auth import service
    from gep.auth.models import User
    from gep.cli import app
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import SYSTEM

    def build(work: Path) -> None:
        result = CliRunner().invoke(app, ["demo", "--workdir", str(work), "--resolution", "1000", "--no-serve"])
        assert result.exit_code == 0, result.output
        engine = make_engine(f"sqlite:///{work / 'gep.db'}")
        with unit_of_work(session_factory(engine)) as s:
            for user in s.query(User).all():
                service.set_password(s, user, DEMO_PASSWORD, SYSTEM)
        engine.dispose()

    return Demo(shared_build(tmp_path_factory, "demo", build))


@pytest.fixture(scope="session")
def demo_accounts_only(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo's region, 2019 accounts and report as `gep demo --resolution 1000` writes them, without the
    platform (its seeding takes half the time: tests of the seeded platform use `demo`, and are slow)."""
    from gep.cli import demo_accounts

    def build(work: Path) -> None:
        demo_accounts(work, resolution=1000, following=())  # the following years are the seeded platform's

    return Demo(shared_build(tmp_path_factory, "demo-accounts", build))


def fresh_postgres_schema() -> tuple[str, str]:
    """A new empty schema in the test database, and a URL whose connections use it."""
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def drop_postgres_schema(schema: str) -> None:
    assert PG_URL
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def served_app(url: str, data_dir: Path) -> Iterator[object]:
    """The platform on `url` in a test client (with its inline worker), for a module's API tests."""
    from fastapi.testclient import TestClient

    from gep.app import Settings, create_app

    with TestClient(create_app(Settings(database_url=url, data_dir=data_dir))) as client:
        yield client


def bearer(client: object, user: str) -> dict[str, str]:
    """Headers that act as `user` (password PASSWORD) through a bearer token, answers in English."""
    r = client.post("/api/auth/tokens", json={"username": user, "password": PASSWORD})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}", "Accept-Language": "en"}


@pytest.fixture(params=DATABASES, scope="module")
def empty_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database (SQLite file, or a fresh PostgreSQL schema) for one test module."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'gep.db'}"
        return
    schema, url = fresh_postgres_schema()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


@pytest.fixture(params=DATABASES)
def live_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind for one test (concurrency on SQLite and PostgreSQL alike)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    schema, url = fresh_postgres_schema()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test (concurrency tests); skipped without PostgreSQL."""
    if not PG_URL:
        pytest.skip("set GEP_TEST_DATABASE_URL to run the PostgreSQL tests")
    schema, url = fresh_postgres_schema()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)
