"""Alembic environment: the URL comes from the config gep builds (gep.db.alembic_config); the tables come
from the platform's domain list (each domain's models module), so a new domain needs no line here."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from gep.db import Base
from gep.migrations.models import load_models

load_models(context.config.attributes["domains"])
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = engine_from_config(context.config.get_section(context.config.config_ini_section) or {},
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
