"""Demo seeding: caps for every county (one with a short reserve), a few dozen enterprises with permits and
their fee bills (some paid), a month of daily emission records imported as a CSV (the demo's chemical plant
passes 80 % of its COD), a pledge, a buy-back, checks of two new projects (one refused: its county's reserve
is short), and a reserve auction of COD through the exchange (the Zhejiang rule). All synthetic, and labelled so.
It leaves the enterprises for later seeding (carbon buyers)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from gep.auth import service as auth
from gep.auth.models import Organisation
from gep.db import unit_of_work
from gep.discharge import rules, service
from gep.discharge.models import Enterprise
from gep.kit.domain import SeedContext
from gep.kit.principal import ALL, SYSTEM, Principal
from gep.ledger import service as ledger
from gep.regions import service as regions

DEMO = "（演示）"
INDUSTRIES: list[tuple[str, dict[str, float]]] = [
              ("化工", {"cod": 6, "nh3n": 0.6, "so2": 3, "nox": 5}), ("造纸", {"cod": 12, "nh3n": 1.0}),
              ("食品加工", {"cod": 4, "nh3n": 0.5}), ("合成革", {"cod": 5, "nh3n": 0.4, "nox": 2}),
              ("阀门铸造", {"so2": 2, "nox": 4}), ("竹木制品", {"cod": 1.5, "nox": 1.5}),
              ("电镀", {"cod": 2, "nh3n": 0.3}), ("建材", {"so2": 8, "nox": 12})]
CAP_T = {"cod": 900, "nh3n": 90, "so2": 500, "nox": 700}  # t a year per county (synthetic)
YEARS = range(2025, 2031)
PER_COUNTY = 4


def _credit_code(rng: np.random.Generator, county: str) -> str:
    return f"91{county[:6]}" + "".join(str(int(d)) for d in rng.integers(0, 10, 9)) + "X"


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    orgs: dict[str, int] = ctx.shared.get("organisations", {})
    if region_id is None or "丽水市生态环境局（演示）" not in orgs:
        return
    rng = np.random.default_rng(ctx.seed + 11)
    bureau_org = orgs["丽水市生态环境局（演示）"]
    bureau = Principal(ctx.shared.get("users", {}).get("envofficer"), "丽水市生态环境局（演示）", "demo", bureau_org,
                       frozenset({ALL}), "system", party="丽水市生态环境局（演示）")
    with unit_of_work(ctx.factory) as s:
        if s.scalar(select(func.count()).select_from(Enterprise)):
            ctx.say("discharge: there already")
            ctx.shared["discharge.enterprises"] = [(e.organisation_id, e.name) for e in s.scalars(select(Enterprise))]
            return
        frame = regions.package_zones(regions.get_region(s, region_id)).frame
        counties = frame[["county_code", "county_name"]].drop_duplicates().itertuples(index=False)
        counties = [(str(c), str(n)) for c, n in counties]
        short = counties[-1][0]
        made: list[Enterprise] = []
        plans: list[tuple[Enterprise, list[service.Line]]] = []
        plant_org = orgs.get("丽水某化工企业（演示）")
        for i, (county, county_name) in enumerate(counties):
            for k in range(PER_COUNTY):
                industry, load = INDUSTRIES[(i * PER_COUNTY + k) % len(INDUSTRIES)]
                if i == 0 and k == 0 and plant_org is not None:
                    org_id, name, industry, load = plant_org, "丽水某化工企业（演示）", "化工", {"cod": 2, "nh3n": 0.3}
                else:
                    name = f"{county_name}某{industry}企业{k + 1}{DEMO}"
                    existing = s.scalar(select(Organisation.id).where(Organisation.name == name))
                    org_id = existing or auth.create_organisation(s, name, "enterprise", SYSTEM).id
                e = service.register_enterprise(s, org_id, name, _credit_code(rng, county), county, bureau,
                                                industry=industry, synthetic=True)
                plans.append((e, [service.Line(p, int(t * float(rng.uniform(0.8, 1.3)) * 1e6))
                                  if org_id != plant_org else service.Line(p, int(t * 1e6)) for p, t in load.items()]))
                ledger.payment_in(s, ledger.funds_of(s, org_id, name=name), 50_000_000, "演示资金（合成）", SYSTEM,
                                  key=f"demo-discharge-funds:{org_id}")
                made.append(e)
        # caps: every county's and the city's; the last county's only just covers its enterprises (a short reserve)
        needs_short: dict[str, int] = {}
        for e, lines in plans:
            if e.county_code == short:
                for ln in lines:
                    needs_short[ln.pollutant] = needs_short.get(ln.pollutant, 0) + ln.grams_per_year
        for code, _name in [*counties, (service.CITY, "")]:
            for pol, tonnes in CAP_T.items():
                grams = int(needs_short.get(pol, 0) * 1.02) + 200_000 if code == short else \
                    int(tonnes * (0.3 if code == service.CITY else 1.0) * 1e6)
                for year in YEARS:
                    service.set_cap(s, code, pol, year, grams, bureau)
        for e, lines in plans:
            service.issue_permit(s, e.id, 2025, 5, lines, bureau)
        ctx.shared["discharge.enterprises"] = [(e.organisation_id, e.name) for e in made]
        # most paid 2025 and 2026 fees; some have 2026 still to pay
        for n, e in enumerate(made):
            who = Principal(None, e.name, "demo", e.organisation_id, frozenset({ALL}), "system", party=e.name)
            for bill in service.card(s, e.id, 2026, bureau)["bills"]:
                if bill["year"] == 2025 or (bill["year"] == 2026 and n % 3):
                    service.pay_bill(s, bill["id"], who)
        service.pledge(s, made[1].id, next(iter(service.card(s, made[1].id, 2026, bureau)["pollutants"]))["pollutant"],
                       2026, 500_000, "丽水农商银行（演示）", "排污权质押-2026-001（演示）", bureau)
        spare = made[2]
        pol = service.card(s, spare.id, 2026, bureau)["pollutants"][0]["pollutant"]
        service.buy_back(s, spare.id, pol, 2026, 300_000, 400, bureau, key="demo-buyback-2026")
        service.check_project(s, f"{counties[0][1]}新建食品加工项目（演示）", counties[0][0], 2026,
                              {"cod": 3_000_000, "nh3n": 300_000}, bureau)
        service.check_project(s, f"{counties[-1][1]}新建合成革项目（演示）", short, 2026,
                              {"cod": 30_000_000, "nox": 5_000_000}, bureau)
        rows = _month_of_records(made, plant_org, rng)
        result = service.record_emissions(s, rows, bureau, "演示监测数据（合成）.csv")
        ctx.say(f"discharge: {len(made)} enterprises with permits, {result.booked} emission records, "
                f"{len(result.alerts)} alerts")
        offer = service.offer(s, "cod", 2026, 2030, 10_000, bureau, county_code=counties[0][0],
                              start_price_fen=service.reserve_price_fen("cod", 5),
                              title=f"{counties[0][1]}储备化学需氧量排污权 10 吨/年 · 2026–2030{DEMO}")
        ref, start = f"{service.UNITS_REF}{offer.id}", offer.start_price_fen
    play = ctx.shared.get("exchange.play_units")
    if play is not None:
        bidders = [(org, name, start + int(rng.integers(0, 40)) * 50, int(rng.integers(15, 40)) * 100)
                   for org, name in ctx.shared["discharge.enterprises"][1:8]]
        trades = play({"units_ref": ref, "start_price_fen": start, "bids": bidders})
        ctx.say(f"discharge: a reserve auction of COD through the exchange, {trades} enterprises won")


def _month_of_records(enterprises: list[Enterprise], plant_org: int | None,
                      rng: np.random.Generator) -> list[dict[str, str]]:
    """Thirty days of daily records up to yesterday (China time) for each enterprise's pollutants, as the CSV
    rows a monitoring system sends; the demo plant emits enough COD to pass 80 % of its year's quota."""
    today = datetime.now(rules.CHINA).date()
    days = [today - timedelta(days=d) for d in range(30, 0, -1)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rules.COLUMNS))
    writer.writeheader()
    for e in enterprises:
        for code in ("cod", "nh3n", "so2", "nox"):
            for day in days:
                kg = _daily_kg(e, code, day, plant_org, rng)
                if kg is None:
                    continue
                writer.writerow({"enterprise": e.credit_code, "pollutant": code,
                                 "time": f"{day.isoformat()}T00:00:00+08:00", "value": f"{kg:.3f}", "unit": "kg"})
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def _daily_kg(e: Enterprise, code: str, day: date, plant_org: int | None, rng: np.random.Generator) -> float | None:
    if e.organisation_id == plant_org:
        plant = {"cod": 56.0, "nh3n": 0.7}
        return plant[code] * float(rng.uniform(0.95, 1.05)) if code in plant else None
    load = dict(INDUSTRIES).get(e.industry, {})
    if code not in load:
        return None
    return load[code] * 1000 / 365 * float(rng.uniform(0.6, 1.2))
