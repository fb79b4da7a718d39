"""Demo seeding: one cooperative per county at work — rights taken in by every mode, two packages each (one
valued), a year's revenue shared out and a year's rents paid — and the demo villager linked to a holder of
such a contract, so that their own page shows rights, contracts and income. All synthetic, and labelled so."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from gep.cooperatives import rules, service
from gep.cooperatives.models import IntakeContract
from gep.db import unit_of_work
from gep.kit.domain import SeedContext
from gep.kit.principal import SYSTEM
from gep.ledger import service as ledger
from gep.regions import service as regions
from gep.registry import service as registry
from gep.registry.models import Holder

# (mode, rent per year, lump sum, revenue share %) — the shapes of PLATFORM.md §1.4's examples
PLAN = [("shareholding", "0", "0", "60"), ("trusteeship", "0", "0", "60"), ("shareholding", "0", "0", "80"),
        ("trusteeship", "120.00", "0", "40"), ("shareholding", "0", "0", "60"),
        ("lease", "300.00", "0", "0"), ("lease", "450.00", "0", "0"), ("transfer", "280.00", "0", "0"),
        ("lease", "600.00", "0", "0"), ("buyout", "0", "8600.00", "0")]
START, END = date(2024, 1, 1), date(2043, 12, 31)


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    orgs: dict[str, int] = ctx.shared.get("organisations", {})
    if region_id is None or not orgs:
        return
    with unit_of_work(ctx.factory) as s:
        if s.scalar(select(func.count()).select_from(IntakeContract)):
            ctx.say("cooperatives: at work already")
            return
        region = regions.get_region(s, region_id)
        frame = regions.package_zones(region).frame
        counties = frame[["county_code", "county_name"]].drop_duplicates()
        villager_holder = None
        user_id = ctx.shared.get("users", {}).get("villager")
        made = 0
        for county_code, county_name in counties.itertuples(index=False):
            org_id = orgs.get(f"{county_name}两山合作社（演示）")
            if org_id is None:
                continue
            coop = service.register_cooperative(s, org_id, region_id, str(county_code),
                                                f"{county_name}两山合作社（演示）", SYSTEM)
            # the money it pays lump sums and rents from, as a bank statement line recorded by the platform
            ledger.payment_in(s, ledger.funds_of(s, org_id, name=f"{county_name}两山合作社（演示）"), 2_000_000_00,
                              "演示资金（合成）", SYSTEM, key=f"demo-coop-funds-{county_code}")
            rights = service.available_rights(s, coop, limit=200)
            picked = [(r, p) for r, p in rights if p.kind in ("forest_land", "farmland")][::7][:len(PLAN)]
            contracts = []
            for (right, _parcel), (mode, rent, lump, share) in zip(picked, PLAN, strict=False):
                terms = rules.Terms(mode, START, None if mode in rules.TITLE_PASSES else min(END, right.end or END),
                                    Decimal(rent), Decimal(lump), Decimal(share), "annual")
                contracts.append(service.take_in(s, coop, right.id, terms, SYSTEM, "演示数据（合成）"))
            made += len(contracts)
            shared = [c.id for c in contracts if c.mode in ("shareholding", "trusteeship")]
            leased = [c.id for c in contracts if c.mode in ("lease", "transfer")]
            if shared:
                package = service.create_package(s, coop, f"{county_code}-P1", f"{county_name}生态林业资产包（演示）",
                                                 shared, SYSTEM, "入股与托管的山林，统一经营（合成数据）",
                                                 synthetic=True)
                service.value_package(s, package)
                if villager_holder is None and county_name == "遂昌县" and user_id is not None:
                    villager_holder = service.get_contract(s, shared[0]).holder_id
                    holder = s.get(Holder, villager_holder)
                    if holder is not None:  # before the revenue, so the share lands in their own account
                        registry.link_user(s, holder.id, user_id, SYSTEM)
                        ctx.say(f"cooperatives: the demo villager stands for {holder.name}")
                service.record_revenue(s, package, Decimal("128000.00"), date(2025, 12, 20), SYSTEM,
                                       "林下经济与碳汇收益（演示）", f"{county_name}两山合作社 舍入余额",
                                       idempotency_key=f"demo-{county_code}-2025")
            if leased:
                service.create_package(s, coop, f"{county_code}-P2", f"{county_name}农旅用地资产包（演示）", leased,
                                       SYSTEM, "租赁与流转的耕地山林（合成数据）", synthetic=True)
            service.pay_rents(s, coop, 2025, SYSTEM)
        ctx.say(f"cooperatives: {made} intake contracts, packages valued and a year's revenue shared out")
