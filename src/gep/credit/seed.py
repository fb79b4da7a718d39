"""Demo seeding of ecological credit: the credit office and its officer, the catalogue, a subject for every
synthetic household (as the registry holder it stands for), every village and every enterprise, and labelled
synthetic events over the last three years — most accepted, a few waiting for review or rejected — drawn so
that grades run from AAA to D (one subject in fifty under a veto). The demo villager is rated A with both kinds
of events. Scores are then recounted from scratch, which is what the benchmark times."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select

from gep.auth import service as auth
from gep.auth.models import Organisation, User
from gep.credit import catalogue, rules, service, timers
from gep.credit.models import CreditEvent, CreditSubject
from gep.db import unit_of_work
from gep.kit.audit import now
from gep.kit.domain import SeedContext
from gep.kit.principal import SYSTEM
from gep.regions import service as regions
from gep.registry.models import Holder

OFFICE = "丽水市发展和改革委员会（演示）"
PROFILES = (("exemplary", 0.07), ("good", 0.30), ("ordinary", 0.43), ("poor", 0.15), ("bad", 0.05))
EVIDENCE = "演示记录（合成）"


def _officer(ctx: SeedContext) -> None:
    with unit_of_work(ctx.factory) as s:
        org = s.scalar(select(Organisation).where(Organisation.name == OFFICE)) or \
            auth.create_organisation(s, OFFICE, "government", SYSTEM)
        password = secrets.token_urlsafe(12)
        user = s.scalar(select(User).where(User.username == "credit"))
        if user is None:
            user = auth.create_user(s, "credit", password, "credit_officer", SYSTEM, "演示信用办专员", org.id,
                                    roles=ctx.roles or None)
        else:
            auth.set_password(s, user, password, SYSTEM)
        ctx.shared.setdefault("users", {})["credit"] = user.id
        ctx.logins["credit"] = (password, "the credit office: review queue, grades by county")


def _events_for(rng: np.random.Generator, kind: str, profile: str, c: catalogue.Catalogue,
                today: Any) -> list[tuple[str, str, int, str]]:
    """(indicator, quantity, days ago, state) of one synthetic subject."""
    pos = [i for i in c.indicators.values() if i.list == "positive" and kind in i.subjects]
    neg = [i for i in c.indicators.values() if i.list == "negative" and kind in i.subjects and not i.veto]
    veto = [i for i in c.indicators.values() if i.veto and kind in i.subjects]
    low, high = {"exemplary": ((20, 34), (0, 1)), "good": ((4, 10), (0, 2)), "ordinary": ((0, 4), (0, 2)),
                 "poor": ((0, 3), (3, 7)), "bad": ((0, 2), (4, 9))}[profile]
    n_pos, n_neg = int(rng.integers(*low)), int(rng.integers(*high))
    out = []
    for ind in [pos[int(k)] for k in rng.integers(0, len(pos), n_pos)] + \
               [neg[int(k)] for k in rng.integers(0, len(neg), n_neg)]:
        qty = ""
        if ind.by_level:
            qty = str(rng.choice(list(ind.by_level), p=[0.6, 0.25, 0.12, 0.03][:len(ind.by_level)]))
        elif ind.per_unit is not None:
            qty = str(int(rng.integers(1, 12)) if ind.per_unit >= 1 else int(rng.integers(100, 3000)))
        ago = int(rng.integers(1, 900))
        state = "accepted" if rng.random() < 0.965 else ("pending" if ago < 60 else "rejected")
        out.append((ind.code, qty, ago, state))
    if profile == "bad" and veto and rng.random() < 0.4:
        out.append((veto[int(rng.integers(0, len(veto)))].code, "", int(rng.integers(30, 600)), "accepted"))
    return out


def seed(ctx: SeedContext) -> None:
    region_id = ctx.shared.get("region_id")
    if region_id is None:
        return
    _officer(ctx)
    rng = np.random.default_rng(ctx.seed + 12)
    with unit_of_work(ctx.factory) as s:
        c = service.install_catalogue(s)
        if s.scalar(select(func.count()).select_from(CreditEvent).where(CreditEvent.source_ref == "demo")):
            ctx.say("credit: there already")
            return
        # subjects other domains' events added already (a carbon buyer) keep their rows
        known = set(s.scalars(select(CreditSubject.code).execution_options(skip_scope=True)))
        villager_id = ctx.shared.get("users", {}).get("villager")
        villages = {z.code: z.name for z in regions.zones(s, region_id, "village")}
        at = now()
        rows: list[dict[str, Any]] = []
        for h in s.scalars(select(Holder).where(Holder.region_id == region_id, Holder.kind == "person")
                           .execution_options(skip_scope=True)):
            v = h.village_code
            rows.append({"kind": "individual", "code": f"holder:{h.id}", "name": h.name, "user_id": h.user_id,
                         "organisation_id": None, "holder_id": h.id, "region_id": region_id, "county_code": v[:6],
                         "township_code": v[:9], "village_code": v, "synthetic": True, "created_at": at})
        for code, name in villages.items():
            rows.append({"kind": "village", "code": f"village:{code}", "name": name, "user_id": None,
                         "organisation_id": None, "holder_id": None, "region_id": region_id, "county_code": code[:6],
                         "township_code": code[:9], "village_code": code, "synthetic": True, "created_at": at})
        for org in s.scalars(select(Organisation).where(Organisation.kind.in_(("enterprise", "cooperative",
                                                                                 "village_company")))):
            rows.append({"kind": "enterprise", "code": f"org:{org.id}", "name": org.name, "user_id": None,
                         "organisation_id": org.id, "holder_id": None, "region_id": region_id, "county_code": "",
                         "township_code": "", "village_code": "", "synthetic": True, "created_at": at})
        s.execute(insert(CreditSubject), [r for r in rows if r["code"] not in known])
        subjects = list(s.execute(select(CreditSubject.id, CreditSubject.kind, CreditSubject.user_id)
                                  .execution_options(skip_scope=True)))
        today = service.today()
        names = [p for p, _ in PROFILES]
        weights = [w for _, w in PROFILES]
        events: list[dict[str, Any]] = []
        for sid, kind, user_id in subjects:
            plan = [("P06", "", 200, "accepted"), ("P04", "city", 150, "accepted"), ("P08", "", 120, "accepted"),
                    ("P01", "", 90, "accepted"), ("P02", "", 60, "accepted"), ("P09", "", 40, "accepted"),
                    ("N09", "", 30, "accepted"), ("P07", "4", 3, "pending")] if user_id == villager_id and \
                villager_id is not None else _events_for(rng, kind, str(rng.choice(names, p=weights)), c, today)
            for code, qty, ago, state in plan:
                ind = c.indicators[code]
                on = today - timedelta(days=ago)
                events.append({
                    "subject_id": sid, "indicator": code, "list": ind.list, "dimension": ind.dimension,
                    "veto": ind.veto, "catalogue_version": c.version, "occurred_on": on,
                    "expires_on": rules.expiry(on, ind), "quantity": qty, "points": ind.points_for(qty),
                    "evidence": EVIDENCE, "note": "", "source": "manual", "source_ref": "demo",
                    "key": f"demo:{rules.event_key(sid, code, on, qty, EVIDENCE)}:{len(events)}", "state": state,
                    "counted": False, "corrects_id": None, "import_id": None, "synthetic": True, "recorded_by": None,
                    "recorded_at": at, "reviewed_by": None if state == "pending" else ctx.shared["users"]["credit"],
                    "reviewed_at": None if state == "pending" else at,
                    "reason": "演示：证据不足" if state == "rejected" else ""})
        for k in range(0, len(events), 5000):
            s.execute(insert(CreditEvent), events[k:k + 5000])
        started = time.perf_counter()
        r = service.recount(s, SYSTEM)
        seconds = time.perf_counter() - started
        timers.ensure(s)
        ctx.shared["credit.subjects"] = r.subjects
        ctx.say(f"credit: {r.subjects:,} subjects, {len(events):,} synthetic events (recounted from scratch in "
                f"{seconds:.1f} s); grades " + ", ".join(f"{g} {r.grades.get(g, 0):,}" for g, _ in c.grades))
    ctx.drain()  # events other domains reported while seeding (carbon retired) arrive in the review queue
