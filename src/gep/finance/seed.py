"""Demo seeding of green finance (placeholder replaced below)."""

from __future__ import annotations

from gep.kit.domain import SeedContext


def seed(ctx: SeedContext) -> None:
    return None
