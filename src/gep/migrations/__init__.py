"""Migrations (Alembic): the platform's core history in versions/, and each domain's own history in its
package's ``migrations/`` folder (a branch labelled with the domain's name), so a new domain brings its tables
with it. `upgrade` applies every branch ("heads"); the tables Alembic compares against come from the same
domain list the app is built from."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gep.kit.domain import Domain

CORE = Path(__file__).resolve().parent / "versions"


def locations(domains: Sequence[Domain]) -> list[Path]:
    return [CORE, *(d.root / "migrations" for d in domains if (d.root / "migrations").is_dir())]


def config(url: str, domains: Sequence[Domain] | None = None) -> Any:
    from alembic.config import Config

    from gep.app import DOMAINS

    domains = tuple(domains) if domains is not None else DOMAINS
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations(domains)))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["domains"] = domains
    return cfg


def upgrade(url: str, revision: str = "heads", domains: Sequence[Domain] | None = None) -> None:
    """Apply the migrations of the core and of every domain up to `revision` (all heads by default)."""
    from alembic import command

    command.upgrade(config(url, domains), revision)


def downgrade(url: str, revision: str = "base", domains: Sequence[Domain] | None = None) -> None:
    from alembic import command

    command.downgrade(config(url, domains), revision)
