"""Demo seeding (labelled synthetic): the brand office, a tea chain in 松阳 — three tea farmers (registry holders,
their farmland and forest-land parcels as tea gardens), a tea company that processes and a trader who buys — the
company's certified green tea with two batches (one sold out, one on sale with a printable sheet of 21 labels), each
batch's steps from harvest to settlement on its signed chain, and applications in every other state."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, select

from gep.brands import rules, service
from gep.brands.models import Application, Batch, Producer
from gep.certificates import keys
from gep.db import unit_of_work
from gep.kit.domain import SeedContext
from gep.kit.principal import ALL, Principal
from gep.registry import service as registry

OFFICE = "丽水市生态农业协会（演示）"
COMPANY = "松阳某茶业有限公司（演示）"
TRADER = "松阳某茶叶经销商（演示）"
SONGYANG = "331124"
TEA_KINDS = ("farmland", "forest_land")
PASSING = {"lead": "0.8", "bifenthrin": "0.05", "imidacloprid": "0.02", "moisture": "6.1"}


def _principal(user_id: int | None, name: str, org_id: int | None) -> Principal:
    return Principal(user_id, name, "demo", org_id, frozenset({ALL}), "system", party=name)


def _growers(s: Any, region_id: int) -> list[tuple[int, str, list[Any]]]:
    """Three 松阳 households with farmland or forest land: (holder id, name, parcels)."""
    by_holder: dict[int, list[Any]] = {}
    for kind in TEA_KINDS:
        parcels = [p for p in registry.parcels_in(s, region_id, kind=kind, limit=20000) if p.county_code == SONGYANG]
        for r in registry.rights_on(s, [p.id for p in parcels]):
            if r.type == "contract":
                by_holder.setdefault(r.holder_id, []).extend(p for p in parcels if p.id == r.parcel_id)
    holders = registry.holders_of(s, sorted(by_holder)[:40])
    people = [h for h in holders.values() if h.kind == "person"][:3]
    return [(h.id, h.name, by_holder[h.id][:2]) for h in people]


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    orgs: dict[str, int] = ctx.shared.get("organisations", {})
    users: dict[str, int] = ctx.shared.get("users", {})
    if region_id is None:
        return
    signer = keys.signer(keys.key_path(ctx.data_dir or ctx.workdir / "data"))
    office = _principal(users.get("brandoffice"), OFFICE, orgs.get(OFFICE))
    rng = np.random.default_rng(ctx.seed + 15)
    with unit_of_work(ctx.factory) as s:
        if s.scalar(select(func.count()).select_from(Producer)):
            ctx.say("brands: there already")
            return
        growers = _growers(s, region_id)
        if len(growers) < 3:
            ctx.say("brands: the registry has no 松阳 tea farmers; no brand demo seeded")
            return
        farmers = [service.add_producer(s, f"{name}（茶农，演示）", "grower", office, SONGYANG, holder_id=hid,
                                        synthetic=True) for hid, name, _ in growers]
        company = service.add_producer(s, COMPANY, "processor", office, SONGYANG, organisation_id=orgs.get(COMPANY),
                                       synthetic=True)
        trader = service.add_producer(s, TRADER, "trader", office, SONGYANG, organisation_id=orgs.get(TRADER),
                                      synthetic=True)
        parcels = [p.id for _, _, ps in growers for p in ps]
        tea = service.apply(s, company.id, "tea", "松阳银猴绿茶（演示）", parcels, office, synthetic=True)
        service.act(s, tea.id, "inspect", office)
        service.inspect(s, tea.id, PASSING, office, laboratory="丽水市农产品质量安全检测中心（演示）")
        service.act(s, tea.id, "certify", office)
        _other_states(s, farmers, company, growers, office)
        s.flush()
        teamaker = _principal(users.get("teamaker"), COMPANY, orgs.get(COMPANY))
        _batch(s, tea, Decimal("60"), 42, farmers, growers, company, trader, teamaker, signer, rng, sold_out=True)
        _batch(s, tea, Decimal("150"), 21, farmers, growers, company, trader, teamaker, signer, rng, sold_out=False)
        counts = {st: s.scalar(select(func.count()).select_from(Application).where(Application.state == st))
                  for st in rules.STATES}
        batches = s.scalar(select(func.count()).select_from(Batch))
    ctx.drain()
    ctx.say(f"brands: {len(farmers) + 2} producers (synthetic); applications "
            f"{', '.join(f'{k} {v}' for k, v in counts.items() if v)}; {batches} batches with signed chains")


def _other_states(s: Any, farmers: list[Producer], company: Producer, growers: list[tuple[int, str, list[Any]]],
                  office: Principal) -> None:
    """Applications in the other states, so the office's queue and the history have something to show."""
    def app(n: int, category: str, product: str) -> Application:
        return service.apply(s, farmers[n].id, category, product, [p.id for p in growers[n][2][:1]], office,
                             synthetic=True)
    service.apply(s, company.id, "honey", "松阳土蜂蜜（演示）", [p.id for p in growers[0][2][:1]], office,
                  synthetic=True)  # submitted: the company's second product
    inspecting = app(1, "edible_fungi", "松阳香菇（演示）")
    service.act(s, inspecting.id, "inspect", office)
    failed = app(2, "fruit", "松阳柑橘（演示）")
    service.act(s, failed.id, "inspect", office)
    service.inspect(s, failed.id, {"lead": "0.16", "cadmium": "0.02"}, office)
    service.act(s, failed.id, "reject", office, reason="铅含量 0.16 mg/kg 超过 0.1 mg/kg 限量（演示）")
    suspended = app(0, "vegetables", "松阳高山蔬菜（演示）")
    service.act(s, suspended.id, "inspect", office)
    service.inspect(s, suspended.id, {"lead": "0.05", "cadmium": "0.03"}, office)
    service.act(s, suspended.id, "certify", office)
    service.act(s, suspended.id, "suspend", office, reason="年度抽检未按期送样（演示）")


def _batch(s: Any, tea: Application, quantity: Decimal, codes: int, farmers: list[Producer],
           growers: list[tuple[int, str, list[Any]]], company: Producer, trader: Producer, by: Principal,
           signer: keys.Signer, rng: np.random.Generator, sold_out: bool) -> Batch:
    batch = service.create_batch(s, tea.id, quantity, codes, by, signer, synthetic=True)
    start = service.today() - timedelta(days=int(rng.integers(40, 60)) if sold_out else 12)

    def step(days: int, kind: str, **raw: Any) -> int:
        on = min(start + timedelta(days=days), service.today())
        return service.append(s, batch.id, kind, {"on": on.isoformat(), **raw}, by, signer).seq

    fresh = quantity * 4  # about 4 kg of fresh leaves make 1 kg of green tea
    harvests = []
    for n, f in enumerate(farmers):
        part = (fresh / 3).quantize(Decimal("0.1"))
        harvests.append((step(n, "harvest", grower=f.id, quantity=str(part), parcel=growers[n][2][0].code),
                         part))
    step(4, "processing", process="摊青、杀青、揉捻、烘干（演示）", output=str(quantity))
    step(6, "inspection", results=PASSING, laboratory="丽水市农产品质量安全检测中心（演示）")
    for n, (seq, part) in enumerate(harvests):
        price = Decimal(int(rng.integers(38, 56)))  # yuan per kg of fresh leaves
        step(7 + n, "settlement", sale=seq, amount_yuan=str((part * price).quantize(Decimal("0.01"))),
             reference=f"TEA-CARD-{batch.id}-{seq}")
    first = quantity if sold_out else (quantity * Decimal("0.4")).quantize(Decimal("1"))
    price = Decimal(int(rng.integers(380, 620)))  # yuan per kg of green tea (synthetic)
    sale = step(10, "sale", buyer=trader.id, quantity=str(first), unit_price_yuan=str(price))
    step(12, "settlement", sale=sale, amount_yuan=str((first * price).quantize(Decimal("0.01"))),
         reference=f"TEA-CARD-{batch.id}-{sale}")
    return batch

