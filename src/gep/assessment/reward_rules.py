"""The rules of rewards (奖补一策达) as plain functions: reward policies read and checked from data, a zone's
amount from its basis (rate × basis, the floor for an eligible zone, the cap), and the allocation of a budget that
never pays out more than it holds: when the amounts exceed it, each is cut in proportion and the fen left over go,
one each, to the largest remainders, so the payments add up to the budget exactly.

Money is integer fen; a basis in yuan (a GEP estimate, float) is turned into Decimal once, then rounded half-up."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from gep.assessment.rules import dec, digest_of
from gep.errors import N_, InputError

DEFAULT = Path(__file__).resolve().parent / "data" / "rewards.toml"
BASES = {"gep_increment": N_("GEP increment at constant prices"),
         "regulating_value": N_("value of regulating services"),
         "assessment_rank": N_("rank in the published assessment")}
LEVELS = ("county", "township", "village")


@dataclass(frozen=True)
class Policy:
    code: str
    version: str
    name_zh: str
    name_en: str
    basis: str
    level: str
    rate: Decimal
    floor_fen: int
    cap_fen: int | None
    min_basis_yuan: Decimal
    budget_fen: int
    source: str
    set_version: str = ""  # assessment_rank: the indicator set whose published sheet ranks the counties
    amounts_fen: tuple[int, ...] = ()  # assessment_rank: the amount of rank 1, 2, …
    digest: str = ""


def to_fen(value: Any, where: str) -> int:
    d = dec(value, where)
    if d < 0:
        raise InputError(N_("{where}: an amount cannot be negative"), where=where)
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_policy(raw: Mapping[str, Any], digest: str = "") -> Policy:
    where = f"policy {raw.get('version', '?')}"
    missing = [k for k in ("code", "version", "name_zh", "name_en", "basis", "level", "budget_yuan") if k not in raw]
    if missing:
        raise InputError(N_("{where}: missing {fields}"), where=where, fields=", ".join(missing))
    if raw["basis"] not in BASES:
        raise InputError(N_("{where}: basis must be one of {expected}, not {value}"), where=where,
                         expected=", ".join(BASES), value=repr(raw["basis"]))
    if raw["level"] not in LEVELS:
        raise InputError(N_("{where}: level must be one of {expected}, not {value}"), where=where,
                         expected=", ".join(LEVELS), value=repr(raw["level"]))
    rank = raw["basis"] == "assessment_rank"
    if rank and (not raw.get("set") or not raw.get("amounts_yuan")):
        raise InputError(N_("{where}: a reward by rank needs set and amounts_yuan"), where=where)
    rate = dec(raw.get("rate", "0"), f"{where} rate")
    if not rank and not 0 < rate <= 1:
        raise InputError(N_("{where}: rate must be above 0 and at most 1"), where=where)
    cap = to_fen(raw["cap_yuan"], f"{where} cap_yuan") if "cap_yuan" in raw else None
    floor = to_fen(raw.get("floor_yuan", "0"), f"{where} floor_yuan")
    if cap is not None and floor > cap:
        raise InputError(N_("{where}: the floor is above the cap"), where=where)
    return Policy(str(raw["code"]), str(raw["version"]), str(raw["name_zh"]), str(raw["name_en"]), str(raw["basis"]),
                  str(raw["level"]), rate, floor, cap, dec(raw.get("min_basis_yuan", "0"), f"{where} min_basis_yuan"),
                  to_fen(raw["budget_yuan"], f"{where} budget_yuan"), str(raw.get("source", "")),
                  str(raw.get("set", "")),
                  tuple(to_fen(a, f"{where} amounts_yuan") for a in raw.get("amounts_yuan", [])), digest)


@lru_cache(maxsize=4)
def load_policies(path: Path = DEFAULT) -> dict[str, tuple[Policy, dict[str, Any]]]:
    """Every policy of the file by version, with its text (installed with it)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, tuple[Policy, dict[str, Any]]] = {}
    for raw in data.get("policy", []):
        p = parse_policy(raw, digest_of(raw))
        if p.version in out:
            raise InputError(N_("policy version {version} appears twice"), version=p.version)
        out[p.version] = (p, dict(raw))
    return out


def amount(policy: Policy, basis_yuan: float | None, rank: int | None = None) -> tuple[int, str]:
    """A zone's amount before the budget (fen) and, when it gets nothing, why (a msgid)."""
    if policy.basis == "assessment_rank":
        if rank is None:
            return 0, N_("not ranked")
        if rank > len(policy.amounts_fen):
            return 0, N_("below the ranks rewarded")
        return policy.amounts_fen[rank - 1], ""
    if basis_yuan is None:
        return 0, N_("no accounts for both years")
    basis = Decimal(repr(basis_yuan))
    if basis <= policy.min_basis_yuan:
        return 0, N_("basis not above the threshold")
    fen = int((basis * policy.rate * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    fen = max(fen, policy.floor_fen)
    if policy.cap_fen is not None and fen > policy.cap_fen:
        return policy.cap_fen, N_("capped")
    return fen, ""


def allocate(wanted: Mapping[str, int], budget_fen: int) -> dict[str, int]:
    """Payments within the budget: as wanted when they fit; otherwise each cut in proportion, the fen left over
    given one each to the largest remainders (ties by code), so the total is the budget exactly and no zone gets
    more than it wanted."""
    if budget_fen < 0:
        raise InputError(N_("the budget cannot be negative"))
    total = sum(wanted.values())
    if total <= budget_fen:
        return dict(wanted)
    paid = {k: v * budget_fen // total for k, v in wanted.items()}
    rest = budget_fen - sum(paid.values())
    by_remainder = sorted(wanted, key=lambda k: (-(wanted[k] * budget_fen % total), k))
    for k in by_remainder[:rest]:
        paid[k] += 1
    return paid
