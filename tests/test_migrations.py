"""Migrations build exactly the tables the models declare (an `alembic check` on SQLite and PostgreSQL), and go
down again; an old database (revision 0001) upgrades with its data."""

from __future__ import annotations

from sqlalchemy import inspect, text

from gep.app import DOMAINS
from gep.db import Base, make_engine
from gep.migrations import downgrade, upgrade
from gep.migrations.models import load_models


def _our_tables() -> set[str]:
    """The tables of the platform's domains (other tests may map tables of throwaway domains too)."""
    modules = {m.__name__ for m in load_models(DOMAINS)}
    return {m.class_.__table__.name for m in Base.registry.mappers if m.class_.__module__ in modules}


def _differences(url: str) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    wanted = _our_tables()

    def ours(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        return kind != "table" or name in wanted

    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": ours})
        diffs = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diffs


def test_models_and_migrations_agree_and_go_down_again(empty_db: str) -> None:
    upgrade(empty_db)
    assert _differences(empty_db) == []
    engine = make_engine(empty_db)
    assert _our_tables() <= set(inspect(engine).get_table_names())
    downgrade(empty_db, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_an_old_database_upgrades_with_its_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user_account (username, display_name, password_hash, role, is_active) "
                          "VALUES ('U_Admin', 'x', 'x', 'admin', 1)"))
        conn.execute(text("INSERT INTO region (code, name, name_en, package_path, method, years, levels) "
                          "VALUES ('r', 'r', 'r', '/x', 'zhejiang-2020', '[2019]', '[\"city\"]')"))
        conn.execute(text("INSERT INTO accounting_run (region_id, year, method, price_year, status, progress, stage, "
                          "message, output_dir, reports, run_metadata) VALUES (1, 2019, 'm', 2019, 'running', 0.5, "
                          "'', '', '', '{}', '{}')"))
    upgrade(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM user_account")).scalar() == "u_admin"
        status, params = conn.execute(text("SELECT status, message_params FROM accounting_run")).one()
        assert status == "failed" and params == "{}"  # the run the old job runner left would block its year
    engine.dispose()
