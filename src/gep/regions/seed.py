"""Demo seeding: the demo region and its accounts on the platform."""

from __future__ import annotations

from sqlalchemy import select

from gep.db import unit_of_work
from gep.kit.domain import SeedContext
from gep.kit.principal import SYSTEM
from gep.regions import service
from gep.regions.models import AccountingRun, Region


def seed(ctx: SeedContext) -> None:
    """Import the demo region (kept by the city's government organisation) and register its accounts."""
    if ctx.region_dir is None:
        return
    with unit_of_work(ctx.factory) as s:
        region = s.scalar(select(Region).where(Region.code == "lishui"))
        if region is None:
            region = service.import_region(s, ctx.region_dir, SYSTEM, label="lishui",
                                           organisation_id=ctx.shared.get("government_id"))
            ctx.say(f"region {region.code} imported ({len(region.levels)} levels)")
        ctx.shared["region_id"] = region.id
        for folder in ctx.accounts_dirs:
            done = s.scalar(select(AccountingRun).where(AccountingRun.region_id == region.id,
                                                        AccountingRun.output_dir == str(folder),
                                                        AccountingRun.status == "succeeded"))
            if done is None:
                run = service.register_accounts(s, region.id, folder, SYSTEM)
                ctx.say(f"accounts of {run.year} registered (run {run.id})")
