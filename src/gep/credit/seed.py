"""Demo seeding of ecological credit (placeholder replaced below)."""

from __future__ import annotations

from gep.kit.domain import SeedContext


def seed(ctx: SeedContext) -> None:
    return None
