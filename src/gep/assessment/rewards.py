"""Use cases of rewards (奖补一策达): install the reward policies, compute a round (a policy applied to a region's
zones for a year, within a budget) from the stored accounts or a published assessment, approve it (the payments
posted to the ledger once, from the policy's special fund to each zone's reward account), and recheck it against
the accounts as they are now."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.assessment import reward_rules as rr
from gep.assessment import service
from gep.assessment.models import InstalledPolicy, RewardRound, ScoreSheet
from gep.db import add_once
from gep.errors import N_, Conflict, InputError, NotFound
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.ledger import service as ledger
from gep.ledger.models import LedgerAccount
from gep.regions import service as regions


def install_policies(session: Session) -> list[InstalledPolicy]:
    out = []
    for version, (p, raw) in rr.load_policies().items():
        def make(p: rr.Policy = p, raw: dict[str, Any] = raw) -> InstalledPolicy:
            return InstalledPolicy(code=p.code, version=p.version, digest=p.digest,
                                   body=json.loads(json.dumps(raw, default=str)), installed_at=now())

        row, added = add_once(session, InstalledPolicy, {"version": version}, make)
        if not added and row.digest != p.digest:
            raise Conflict(N_("reward policy {version} is installed with other text; give the changed policy a new "
                              "version"), version=version)
        out.append(row)
    return out


def policy(session: Session, version: str) -> rr.Policy:
    row = session.scalar(select(InstalledPolicy).where(InstalledPolicy.version == version))
    if row is None:
        raise NotFound(N_("reward policy {version} is not installed"), version=version)
    return rr.parse_policy(row.body, row.digest)


def policies(session: Session) -> list[rr.Policy]:
    return [policy(session, r.version) for r in session.scalars(select(InstalledPolicy).order_by(InstalledPolicy.id))]


def _bases(session: Session, p: rr.Policy, region_id: int, year: int
           ) -> tuple[dict[str, float | None], dict[str, int], dict[str, Any]]:
    """Each zone's basis (yuan), its rank (by rank) and what the basis was read from."""
    zones = [z.code for z in regions.zones(session, region_id, p.level)]
    if p.basis == "assessment_rank":
        sheet = session.scalar(select(ScoreSheet).where(
            ScoreSheet.set_version == p.set_version, ScoreSheet.region_id == region_id, ScoreSheet.year == year,
            ScoreSheet.status == "published"))
        if sheet is None:
            raise Conflict(N_("no published {set} sheet for {year}: publish the assessment first"),
                           set=p.set_version, year=year)
        ranks = {u["code"]: int(u["rank"]) for u in sheet.body["units"]}
        return dict.fromkeys(zones), ranks, {"sheet_id": sheet.id, "inputs": sheet.inputs_digest}
    if p.basis == "gep_increment":
        acc = service.accounts_of(session, region_id, year, p.level)
        if acc is None:
            raise Conflict(N_("a reward on the GEP increment needs the accounts of {year} and {previous}"),
                           year=year, previous=year - 1)
        bases: dict[str, float | None] = {
            z: (acc.now[z]["gep"] - acc.before[z]["gep"]) if z in acc.now and z in acc.before else None
            for z in zones}
        return bases, {}, {"runs": list(acc.runs), "price_year": acc.price_year}
    run = regions.latest_runs(session, region_id).get(year)
    if run is None:
        raise Conflict(N_("no finished accounting of {year}"), year=year)
    values = service.by_zone(session, run, 1.0, p.level)
    return ({z: values[z].get("regulating", 0.0) if z in values else None for z in zones}, {},
            {"runs": [run.id], "price_year": run.price_year})


def compute_round(session: Session, version: str, region_id: int, year: int, by: Principal,
                  budget_fen: int | None = None, synthetic: bool = False) -> RewardRound:
    """Apply a policy to the region's zones for a year: each zone's amount from its basis, then the budget
    allocated (a draft, recomputed each time until approved)."""
    by.require(service.MANAGE)
    p = policy(session, version)
    budget = p.budget_fen if budget_fen is None else budget_fen
    if budget < 0:
        raise InputError(N_("the budget cannot be negative"))
    row = service.locked_row(session, RewardRound, {"policy_version": version, "region_id": region_id, "year": year},
                             lambda: RewardRound(policy_version=version, policy_digest=p.digest, region_id=region_id,
                                                 year=year, budget_fen=budget, computed_at=now(), synthetic=synthetic,
                                                 body={}, total_fen=0))
    if row.status == "approved":
        raise Conflict(N_("the {year} round of {policy} is approved; it cannot be computed again"), year=year,
                       policy=version)
    body = _compute(session, p, region_id, year, budget)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    row.budget_fen, row.body, row.inputs_digest, row.total_fen = budget, body, digest, body["total_fen"]
    row.computed_at, row.computed_by, row.policy_digest = now(), by.user_id, p.digest
    session.flush()
    audit(session, by, "compute", "reward_round", row.id, policy=version, year=year, budget_fen=budget,
          total_fen=row.total_fen)
    return row


def _compute(session: Session, p: rr.Policy, region_id: int, year: int, budget: int) -> dict[str, Any]:
    bases, ranks, source = _bases(session, p, region_id, year)
    level_zones = regions.zones(session, region_id, p.level)
    names = {z.code: z.name for z in level_zones}
    parents = {z.code: z.parent_code for z in level_zones}
    parent_names = regions.zone_names(session, region_id, sorted(set(parents.values()) - {""}))
    wanted, notes = {}, {}
    for z in sorted(bases):
        wanted[z], notes[z] = rr.amount(p, bases[z], ranks.get(z))
    paid = rr.allocate({z: w for z, w in wanted.items() if w > 0}, budget)
    def basis(z: str) -> float | None:
        b = bases[z]
        return None if b is None else round(b, 2)

    order = sorted(bases, key=lambda z: (-paid.get(z, 0), -(bases[z] or 0.0), z))
    zones = [{"code": z, "name": names.get(z, z), "parent": parent_names.get(parents.get(z, ""), ""),
              "basis_yuan": basis(z), "rank": ranks.get(z), "wanted_fen": wanted[z], "paid_fen": paid.get(z, 0),
              "note": notes[z]} for z in order]
    total_wanted = sum(wanted.values())
    return {"policy": p.version, "basis": p.basis, "level": p.level, "year": year, "budget_fen": budget,
            "wanted_fen": total_wanted, "total_fen": sum(paid.values()), "binding": total_wanted > budget,
            "rewarded": sum(1 for v in paid.values() if v > 0), "zones": zones, "source": source}


def fund_account(session: Session, p: rr.Policy) -> LedgerAccount:
    """The policy's special fund: its budget is appropriated into it, the rewards are paid out of it."""
    return ledger.open_account(session, f"rewards:fund:{p.code}", f"{p.name_zh} 专项资金", "liability", "reward_fund")


def zone_account(session: Session, code: str, name: str) -> LedgerAccount:
    return ledger.open_account(session, f"rewards:zone:{code}", f"{name} 生态奖补资金", "liability", "reward")


def approve(session: Session, round_id: int, by: Principal) -> tuple[RewardRound, bool]:
    """Approve a round: one ledger batch pays each zone out of the fund. Approving again posts nothing."""
    by.require(service.MANAGE)
    row = session.get(RewardRound, round_id, with_for_update=True)
    if row is None:
        raise NotFound(N_("reward round {id} does not exist"), id=round_id)
    if row.status == "approved":
        return row, False
    p = policy(session, row.policy_version)
    fund = fund_account(session, p)
    ref = ("reward_round", str(row.id))
    moves = [ledger.Move(fund.id, zone_account(session, z["code"], z["name"]).id, int(z["paid_fen"]),
                         "reward_payment", memo=f"{p.version} {row.year}", ref=ref)
             for z in row.body["zones"] if z["paid_fen"] > 0]
    key = f"rewards:{row.id}"
    if moves:
        ledger.post(session, moves, key, by)
    row.status, row.approved_at, row.approved_by, row.batch_key = "approved", now(), by.user_id, key
    audit(session, by, "approve", "reward_round", row.id, policy=row.policy_version, year=row.year,
          total_fen=row.total_fen, zones=sum(1 for m in moves))
    return row, True


def recheck(session: Session, round_id: int) -> dict[str, Any]:
    """The round computed again from the accounts as they are now: the same to the fen, or which zones moved."""
    row = get_round(session, round_id)
    body = _compute(session, policy(session, row.policy_version), row.region_id, row.year, row.budget_fen)
    old = {z["code"]: z["paid_fen"] for z in row.body["zones"]}
    new = {z["code"]: z["paid_fen"] for z in body["zones"]}
    moved = [{"code": c, "was_fen": old.get(c), "now_fen": new.get(c)} for c in sorted(set(old) | set(new))
             if old.get(c) != new.get(c)]
    return {"round_id": row.id, "same": not moved, "moved": moved}


def get_round(session: Session, round_id: int) -> RewardRound:
    row = session.get(RewardRound, round_id)
    if row is None:
        raise NotFound(N_("reward round {id} does not exist"), id=round_id)
    return row


def rounds(session: Session) -> list[RewardRound]:
    return list(session.scalars(select(RewardRound).order_by(RewardRound.year.desc(), RewardRound.id.desc())))


def round_view(session: Session, row: RewardRound) -> dict[str, Any]:
    p = policy(session, row.policy_version)
    return {"id": row.id, "policy": {"version": p.version, "code": p.code, "name_zh": p.name_zh, "name_en": p.name_en,
                                     "basis": p.basis, "level": p.level, "rate": str(p.rate),
                                     "floor_fen": p.floor_fen, "cap_fen": p.cap_fen, "source": p.source},
            "region_id": row.region_id, "year": row.year, "status": row.status, "budget_fen": row.budget_fen,
            "total_fen": row.total_fen, "computed_at": row.computed_at.isoformat(),
            "approved_at": row.approved_at.isoformat() if row.approved_at else None, "batch_key": row.batch_key,
            "synthetic": row.synthetic, **{k: row.body[k] for k in ("zones", "binding", "wanted_fen", "rewarded",
                                                                     "source")}}


def policy_view(p: rr.Policy) -> dict[str, Any]:
    return {"version": p.version, "code": p.code, "name_zh": p.name_zh, "name_en": p.name_en, "basis": p.basis,
            "level": p.level, "rate": str(p.rate), "floor_fen": p.floor_fen, "cap_fen": p.cap_fen,
            "budget_fen": p.budget_fen, "set": p.set_version, "amounts_fen": list(p.amounts_fen),
            "source": p.source}
