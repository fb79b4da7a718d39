"""Migrations upgrade an empty database to head (and back) on SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import inspect

from gep.db import Base, downgrade, make_engine, upgrade

TABLES = {"organisation", "user_account", "web_session", "api_token", "audit_log", "region", "zone",
          "accounting_run", "account_value", "alembic_version"}


def _urls(tmp_path: Path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'm.db'}"]
    if os.environ.get("GEP_TEST_DATABASE_URL"):
        urls.append(os.environ["GEP_TEST_DATABASE_URL"])
    return urls


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_from_empty_to_head_and_back(kind: str, tmp_path: Path) -> None:
    urls = {u.split(":")[0].split("+")[0]: u for u in _urls(tmp_path)}
    if kind not in urls:
        pytest.skip("set GEP_TEST_DATABASE_URL to run the PostgreSQL migrations")
    url = urls[kind]
    if kind == "postgresql":
        downgrade(url, "base")
    engine = make_engine(url)
    upgrade(url)
    names = set(inspect(engine).get_table_names())
    assert names >= TABLES
    # the migrated schema has every column the models declare
    for table in Base.metadata.sorted_tables:
        cols = {c["name"] for c in inspect(engine).get_columns(table.name)}
        assert {c.name for c in table.columns} <= cols, table.name
    downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
