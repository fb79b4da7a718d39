"""Demo seeding: three forest carbon projects of county cooperatives on demo forest parcels (afforestation,
forest management, bamboo), each with a monitoring report for 2019–2023 estimated by the methodology, verified
by the demo verifier and issued; 20,000 t retired for the Hangzhou Asian Games; and three multi-unit auctions
through the exchange whose trades come near Lishui's reported totals to 2023 (23 trades, 24,000 t, 134.2万元;
PLATFORM.md §6.2, unconfirmed). All synthetic, and labelled so."""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import func, select

from gep.carbon import service
from gep.carbon.models import CarbonProject, ExchangeOffer
from gep.certificates import keys
from gep.db import unit_of_work
from gep.kit.domain import SeedContext
from gep.kit.principal import ALL, Principal
from gep.regions import service as regions
from gep.registry.models import Parcel

DEMO = "（演示）"
# (county, project name, type, species mix, hectares, annual growth m³/ha (culms/ha for bamboo), baseline share).
# Synthetic figures: the afforestation project grows faster than the demo's synthetic NPP supports, so the
# registry shows the cross-check's flag on it; the other two stay within the margin.
PLAN = [("遂昌县", "遂昌县碳汇造林项目", "afforestation", ("chinese_fir", "masson_pine"), 1500, 10.0, 0.15),
        ("龙泉市", "龙泉市森林经营碳汇项目", "forest_management", ("mixed_conifer_broadleaf", "hardwood"), 900, 3.0,
         0.55),
        ("庆元县", "庆元县毛竹林碳汇项目", "bamboo", ("moso_bamboo",), 500, 150.0, 0.3)]
START, END = date(2019, 1, 1), date(2023, 12, 31)
# three auctions: 10, 10 and 13 bidders; the top 70 % win (7 + 7 + 9 = 23 trades)
AUCTIONS = [("遂昌县", 8400, 10), ("龙泉市", 8400, 10), ("庆元县", 10800, 13)]


def _as(orgs: dict[str, int], name: str, user_id: int | None = None) -> Principal:
    return Principal(user_id, name, "demo", orgs.get(name), frozenset({ALL}), "system", party=name)


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    orgs: dict[str, int] = ctx.shared.get("organisations", {})
    users: dict[str, int] = ctx.shared.get("users", {})
    if region_id is None or "丽水市林业局（演示）" not in orgs:
        return
    rng = np.random.default_rng(ctx.seed + 23)
    signer = keys.signer(keys.key_path(ctx.data_dir or ctx.workdir / "data"))
    forester = _as(orgs, "丽水市林业局（演示）", users.get("forester"))
    verifier = _as(orgs, "浙江某碳汇核证机构（演示）", users.get("verifier"))
    offers = []
    with unit_of_work(ctx.factory) as s:
        if s.scalar(select(func.count()).select_from(CarbonProject)):
            ctx.say("carbon: projects there already")
            return
        frame = regions.package_zones(regions.get_region(s, region_id)).frame
        codes = dict(frame[["county_name", "county_code"]].drop_duplicates().itertuples(index=False))
        issued = 0
        for county, name, type_, species, hectares, growth, baseline in PLAN:
            developer = _as(orgs, f"{county}两山合作社{DEMO}", users.get("coop") if county == "遂昌县" else None)
            if developer.organisation_id is None or county not in codes:
                continue
            parcels = list(s.scalars(select(Parcel).where(Parcel.region_id == region_id,
                                                          Parcel.county_code == str(codes[county]),
                                                          Parcel.kind == "forest_land", Parcel.active.is_(True))
                                     .order_by(Parcel.id)))
            picked, area = [], 0.0
            for p in parcels:
                if area >= hectares:
                    break
                picked.append(p)
                area += p.area_m2 / 1e4
            if not picked:
                continue
            stands = [service.StandInput(p.code, species[i % len(species)]) for i, p in enumerate(picked)]
            project = service.create_project(s, f"{name}{DEMO}", type_, "bef-provincial-2011", region_id, stands,
                                             START, developer, synthetic=True)
            years = END.year - START.year + 1
            measured = []
            for st in stands:
                stock = float(rng.uniform(2500, 3500)) if type_ == "bamboo" else \
                    (float(rng.uniform(5, 20)) if type_ == "afforestation" else float(rng.uniform(60, 110)))
                grow = growth * float(rng.uniform(0.8, 1.2)) * years
                measured.append({"parcel_code": st.parcel_code, "baseline_start": stock,
                                 "baseline_end": stock + grow * baseline, "project_start": stock,
                                 "project_end": stock + grow})
            period = service.report_period(s, project.id, START, END, measured, developer)
            service.submit_period(s, period.id, developer)
            service.verify_period(s, period.id, True, None, "经现场抽样核查，林分蓄积量与监测报告一致，"
                                  "同意按监测报告核证减排量（演示数据）。", verifier)
            row = service.issue(s, period.id, forester)
            issued += row.quantity
            account = service.holding_account(s, developer.organisation_id, None, developer.party_name)
            if county == "遂昌县":
                service.retire(s, service.RetireRequest(
                    account.id, "event", "第19届亚运会杭州亚组委（演示）",
                    "杭州第19届亚运会碳中和：捐赠林业碳汇 20,000 吨（演示数据）", quantity=20_000),
                    "demo-asian-games", developer, signer, synthetic=True)
            for seller, planned, _bidders in AUCTIONS:
                if seller == county:
                    quantity = min(planned, service.balance(s, account.id))
                    offers.append((service.offer(s, account.id, quantity, f"{county}林业碳汇 {quantity:,} tCO₂e{DEMO}",
                                                 developer).id, quantity))
        ctx.say(f"carbon: {len(PLAN)} projects, {issued:,} tCO₂e issued, 20,000 t retired for the Asian Games")
    play = ctx.shared.get("exchange.play_units")
    buyers = [*ctx.shared.get("discharge.enterprises", [])]
    for name in ("丽水某光伏企业（演示）", "丽水某文旅企业（演示）"):
        if name in orgs:
            buyers.insert(0, (orgs[name], name))
    if play is None or len(buyers) < 13:
        return
    trades = 0
    for k, ((offer_id, _quantity), (_county, _q, bidders)) in enumerate(zip(offers, AUCTIONS, strict=False)):
        pool = buyers[k * 5:k * 5 + bidders] if len(buyers) >= k * 5 + bidders else buyers[:bidders]
        bids = [(org, name, int(rng.integers(46, 62)) * 100, int(rng.integers(9, 13)) * 100) for org, name in pool]
        trades += play({"units_ref": f"{service.UNITS_REF}{offer_id}", "start_price_fen": 4500, "bids": bids,
                        "funds_fen": 20_000_000})
    with unit_of_work(ctx.factory) as s:
        sold = s.scalar(select(func.coalesce(func.sum(ExchangeOffer.delivered), 0))) or 0
    ctx.say(f"carbon: {trades} trades on the exchange, {sold:,} tCO₂e delivered")
