"""Demo seeding: the categories; money paid in for the demo's participants; and listings in several categories
and modes — an ascending auction open when the demo starts, a sealed bid waiting for review, a regulating-service
purchase (the 缙云 pattern) finished with its certificate, an auction that failed — and trade demands with their
matches. It also leaves the seeding of later domains a way to sell units they set aside (`play_units`: carbon
units, discharge quota) through the same use cases. All synthetic, and labelled so; finished trades are played
through the same use cases a person would use, at seeding time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gep.certificates import keys
from gep.db import unit_of_work
from gep.errors import InputError
from gep.exchange import bidding, categories, deals, demands, gep_purchase, listings, store
from gep.exchange.models import Listing, Registration
from gep.kit.audit import now
from gep.kit.domain import SeedContext
from gep.kit.principal import ALL, SYSTEM, Principal
from gep.ledger import service as ledger
from gep.regions import service as regions
from gep.registry import service as registry

WAN = 1_000_000  # fen in 1万元
DEMO = "演示数据（合成）"


def _as(ctx: SeedContext, username: str, org_name: str | None) -> Principal:
    """A demo user acting (the seed plays their part through the same use cases)."""
    orgs = ctx.shared.get("organisations", {})
    org_id = orgs.get(org_name) if org_name else None
    return Principal(ctx.shared["users"][username], username, "demo", org_id, frozenset({ALL}), "system",
                     party=org_name or username)


def _backdate_open(session: Session, listing: Listing, opened_hours_ago: float, closes_in_hours: float) -> None:
    """Demo only: a listing announced earlier, so that its bidding is open (or over) when the demo starts."""
    at = now()
    listing.announced_at = at - timedelta(hours=opened_hours_ago + 24 * 7)
    listing.opens_at = at - timedelta(hours=opened_hours_ago)
    listing.closes_at = at + timedelta(hours=closes_in_hours)
    listings.open_if_due(session, listing, SYSTEM)
    store.schedule_close(session, listing)


def _listing(session: Session, offer: listings.Offer, seller: Principal, officer: Principal) -> Listing:
    listing = listings.create(session, offer, seller, synthetic=True)
    listings.submit(session, listing.id, seller)
    listings.review(session, listing.id, True, "", officer)
    listings.announce(session, listing.id, officer)
    return listing


def seed(ctx: SeedContext) -> None:
    if "users" not in ctx.shared:
        return
    signer = keys.signer(keys.key_path(ctx.data_dir or ctx.workdir / "data"))
    ctx.shared["exchange.play_units"] = lambda plan: play_units(ctx, signer, plan)
    with unit_of_work(ctx.factory) as s:
        added = categories.seed(s)
        ctx.say(f"exchange: {added} product categories")
        if s.scalar(select(func.count()).select_from(Listing)):
            ctx.say("exchange: listings there already")
            return
        suichang = "遂昌县两山合作社（演示）"
        coop, pv, tourism = _as(ctx, "coop", suichang), _as(ctx, "enterprise", "丽水某光伏企业（演示）"), \
            _as(ctx, "enterprise2", "丽水某文旅企业（演示）")
        officer = _as(ctx, "officer", "丽水市公共资源交易中心（演示）")
        for who, amount in ((pv, 800 * WAN), (tourism, 300 * WAN), (coop, 20 * WAN)):
            ledger.payment_in(s, ledger.funds_of_caller(s, who), amount, f"{DEMO} 银行入账", SYSTEM,
                              key=f"demo-funds:{who.username}")
        lian_du_name = "莲都区两山合作社（演示）"  # its own right: the demo's coop user keeps theirs to list
        lian_du = Principal(None, lian_du_name, "demo", ctx.shared["organisations"].get(lian_du_name),
                            frozenset({ALL}), "system", party=lian_du_name)
        made = [_open_auction(s, lian_du, pv, tourism, officer), _gep_purchase(s, ctx, coop, pv, officer, signer),
                _sealed_waiting(s, coop), _failed(s, coop, officer)]
        _demands(s, pv, tourism, coop)
        ctx.say(f"exchange: {sum(1 for m in made if m)} listings (an auction open now, two finished trades with "
                "certificates), demands matched")


def _open_auction(s: Session, coop: Principal, pv: Principal, tourism: Principal, officer: Principal) -> bool:
    """A forest right a cooperative bought out, in an ascending auction open now (two bids in)."""
    holders = registry.my_holders(s, coop)
    rights = [r for r in registry.rights_of_holders(s, [h.id for h in holders])
              if not registry.locks_of(s, [r.id]).get(r.id)]
    if not rights:
        return False
    right = rights[0]
    parcel = registry.get_parcel(s, right.parcel_id)
    category = "forest_right" if parcel.kind == "forest_land" else "rural_land"
    listing = _listing(s, listings.Offer(
        category, f"{parcel.name or parcel.code} 经营权转让（{DEMO}）", "ascending", start_price_fen=38 * WAN,
        increment_fen=5_000_00, reserve_fen=40 * WAN, right_id=right.id,
        description="合作社收储的山林经营权，整体转让；竞价期最后5分钟内出价自动延时5分钟。" + DEMO), coop, officer)
    _backdate_open(s, listing, opened_hours_ago=20, closes_in_hours=72)
    for who, price in ((pv, 38 * WAN), (tourism, 39 * WAN)):
        bidding.register(s, listing.id, who)
        bidding.place_bid(s, listing.id, price, 1, who, key=f"demo-{listing.id}-{who.username}")
    return True


def _gep_purchase(s: Session, ctx: SeedContext, coop: Principal, pv: Principal, officer: Principal,
                  signer: keys.Signer) -> bool:
    """The 缙云大洋镇 pattern: a PV operator buys the regulating services of 800 亩 of mountain land for 20 years,
    priced from the accounts (the demo's synthetic accounts: the price is whatever they give)."""
    region_id = ctx.shared.get("region_id")
    if region_id is None:
        return False
    region = regions.get_region(s, region_id)
    towns = regions.zones(s, region_id, "township")
    counties = {z.code: z.name for z in regions.zones(s, region_id, "county")}
    town = next((z for z in towns if counties.get(z.parent_code) == "缙云县"), towns[0] if towns else None)
    if town is None or not town.geometry:
        return False
    crs = registry.zone_index(region).crs
    centre = registry.reproject(shapely.from_geojson(town.geometry).representative_point(), registry.WGS84, crs)
    mu = 800
    while True:  # 800 亩; a coarse demo raster (1 km pixels) may need a larger square to hold a pixel centre
        side = (mu * float(listings.MU_M2)) ** 0.5
        square = registry.to_wgs84(shapely.box(centre.x - side / 2, centre.y - side / 2, centre.x + side / 2,
                                               centre.y + side / 2), crs)
        try:
            gep_purchase.quote(s, region_id, 20, Decimal(-40), geometry=square)
            break
        except InputError:
            if mu > 200_000:
                return False
            mu *= 4
    listing = gep_purchase.list_purchase(
        s, coop, f"{town.name} {mu:,} 亩山地水土空气调节服务 20 年（{DEMO}）", region_id, 20, Decimal(-40),
        geometry=square, synthetic=True,
        description="仿缙云县大洋镇：光伏项目购买山地的水土空气调节服务；"
                    "价格以核算的调节服务价值为锚，协商下浮 40%。" + DEMO)
    listings.submit(s, listing.id, coop)
    listings.review(s, listing.id, True, "", officer)
    listings.announce(s, listing.id, officer)
    _backdate_open(s, listing, opened_hours_ago=48, closes_in_hours=24 * 7)
    funds = ledger.funds_of_caller(s, pv)
    short = listing.start_price_fen - ledger.account_view(funds)["available_fen"] + 100 * WAN
    if short > 0:  # the synthetic buyer brings what the synthetic accounts ask
        ledger.payment_in(s, funds, short, f"{DEMO} 银行入账（调节服务购买款）", SYSTEM, key="demo-funds:gep")
    bidding.register(s, listing.id, pv)
    bid, _ = bidding.place_bid(s, listing.id, listing.start_price_fen, 1, pv, key="demo-gep-offer")
    [deal] = bidding.accept_offer(s, listing.id, bid.id, coop)
    deals.sign(s, deal.id, pv)
    deals.settle(s, deal.id, pv, signer)
    return True


def _sealed_waiting(s: Session, coop: Principal) -> bool:
    """Sand and gravel by sealed bid, submitted and waiting for the officer's review."""
    listing = listings.create(s, listings.Offer("sand_gravel", f"河道疏浚砂石 5,000 m³（{DEMO}）", "sealed",
                                                start_price_fen=30 * WAN, reserve_fen=32 * WAN,
                                                description="河道疏浚产生的砂石资源，密封报价，价高者得。" + DEMO),
                              coop, synthetic=True)
    listings.submit(s, listing.id, coop)
    return True


def _failed(s: Session, coop: Principal, officer: Principal) -> bool:
    """An eco-tourism concession that drew no bid: the auction failed, the seller may list it again."""
    listing = _listing(s, listings.Offer("eco_tourism", f"水土保持生态旅游资源经营权 6 年（{DEMO}）", "sealed",
                                         start_price_fen=500 * WAN, term_years=6,
                                         description="仿安吉案例：水土保持生态旅游资源经营权，价高者得。" + DEMO),
                       coop, officer)
    _backdate_open(s, listing, opened_hours_ago=30, closes_in_hours=-1)
    bidding.close(s, listing.id, SYSTEM)
    return True


def _demands(s: Session, pv: Principal, tourism: Principal, coop: Principal) -> None:
    demands.publish(s, demands.Wanted("buy", f"求购林业碳汇，用于光伏项目碳中和（{DEMO}）", "forest_carbon",
                                      budget_fen=200 * WAN, description=DEMO), pv, synthetic=True)
    demands.publish(s, demands.Wanted("buy", f"求租闲置农房 5–10 处，发展民宿（{DEMO}）", "idle_house",
                                      budget_fen=50 * WAN, term_years=15, description=DEMO), tourism, synthetic=True)
    demands.publish(s, demands.Wanted("sell", f"出租闲置农房 8 处（{DEMO}）", "idle_house", budget_fen=40 * WAN,
                                      term_years=20, description=DEMO), coop, synthetic=True)


@dataclass(frozen=True)
class UnitsPlan:
    """How the demo sells units another domain set aside (its `units_ref`): one multi-unit auction, or one
    negotiated sale, with these bidders (organisation id, name, price per unit in fen, quantity)."""

    units_ref: str
    start_price_fen: int
    bids: list[tuple[int, str, int, int]]
    mode: str = "multi_unit"
    funds_fen: int = 0  # paid in for each bidder first


def play_units(ctx: SeedContext, signer: keys.Signer, plan: Any) -> int:
    """Sell set-aside units at seeding time: the offer's event makes the draft listing (drained here), which
    is priced, submitted, approved, announced, bid on, closed, signed and paid; the settlement's events deliver
    the units (drained again). `plan` is a UnitsPlan or a dict of its fields. Returns the number of trades."""
    plan = plan if isinstance(plan, UnitsPlan) else UnitsPlan(**plan)
    ctx.drain()
    officer = _as(ctx, "officer", "丽水市公共资源交易中心（演示）")
    with unit_of_work(ctx.factory) as s:
        listing = s.scalar(select(Listing).where(Listing.units_ref == plan.units_ref))
        if listing is None:
            raise InputError("no draft listing for {ref}", ref=plan.units_ref)
        assert listing.seller_org_id is not None
        seller = Principal(None, listing.seller_name, "demo", listing.seller_org_id, frozenset({ALL}), "system",
                           party=listing.seller_name)
        listings.update(s, listing.id, {"mode": plan.mode, "start_price_fen": plan.start_price_fen}, seller)
        listing.synthetic = True
        listings.submit(s, listing.id, seller)
        listings.review(s, listing.id, True, "", officer)
        listings.announce(s, listing.id, officer)
        _backdate_open(s, listing, opened_hours_ago=2, closes_in_hours=1)
        buyers = {}
        for i, (org_id, name, price, qty) in enumerate(plan.bids):
            who = Principal(None, name, "demo", org_id, frozenset({ALL}), "system", party=name)
            buyers[store.bidder_key(who)] = who
            if plan.funds_fen:
                ledger.payment_in(s, ledger.funds_of_caller(s, who), plan.funds_fen, f"{DEMO} 银行入账", SYSTEM,
                                  key=f"demo-funds:{plan.units_ref}:{org_id}")
            bidding.register(s, listing.id, who)
            bid, _replay = bidding.place_bid(s, listing.id, price, qty if plan.mode == "multi_unit" else 1, who,
                                    key=f"demo:{plan.units_ref}:{i}")
            if plan.mode == "negotiated":
                bidding.accept_offer(s, listing.id, bid.id, seller)
                break
        if plan.mode == "multi_unit":
            listing.closes_at = now() - timedelta(seconds=1)
            bidding.close(s, listing.id, SYSTEM)
        trades = 0
        for deal in store.deals_of(s, listing.id):
            reg = s.get(Registration, deal.registration_id)
            assert reg is not None
            buyer = buyers[reg.bidder_key]
            deals.sign(s, deal.id, buyer)
            deals.settle(s, deal.id, buyer, signer)
            trades += 1
    ctx.drain()
    return trades
