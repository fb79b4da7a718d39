"""Product categories as data: seeded from data/categories.toml once, then edited by an administrator."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.errors import N_, Conflict, InputError, NotFound, Word
from gep.exchange import perms, rules
from gep.exchange.models import Category
from gep.kit.audit import audit, now
from gep.kit.principal import Principal
from gep.registry import rules as registry_rules

SEED_FILE = Path(__file__).resolve().parent / "data" / "categories.toml"
DAY = 86400
SOURCING = {"official": N_("confirmed against the official list"), "traded": N_("a documented trade of this type"),
            "named": N_("named by the source article only"), "analog": N_("documented elsewhere, used as a template"),
            "derived": N_("the platform's own category")}
EDITABLE = ("name_zh", "name_en", "right_type", "term_min_years", "term_max_years", "department", "modes",
            "deposit_pct", "deposit_min_fen", "fee_pct", "announce_s", "bidding_s", "contract_s", "settle_s", "unit",
            "mandatory", "verified", "sourcing", "source", "active", "position")


def seed_rows() -> list[dict[str, Any]]:
    """The categories of the seed file, with the defaults filled in and days turned into seconds."""
    data = tomllib.loads(SEED_FILE.read_text(encoding="utf-8"))
    defaults = data["defaults"]
    rows = []
    for i, c in enumerate(data["category"]):
        merged = {**defaults, **c}
        rows.append({
            "code": c["code"], "name_zh": c["name_zh"], "name_en": c["name_en"], "right_type": c.get("right_type", ""),
            "term_min_years": c.get("term_min_years"), "term_max_years": c.get("term_max_years"),
            "department": c.get("department", ""), "modes": list(c["modes"]),
            "deposit_pct": Decimal(str(merged["deposit_pct"])),
            "deposit_min_fen": int(merged["deposit_min_yuan"]) * 100,
            "fee_pct": Decimal(str(merged["fee_pct"])), "announce_s": round(float(merged["announce_days"]) * DAY),
            "bidding_s": round(float(merged["bidding_days"]) * DAY),
            "contract_s": round(float(merged["contract_days"]) * DAY),
            "settle_s": round(float(merged["settle_days"]) * DAY), "unit": c.get("unit", ""),
            "units_from": c.get("units_from", ""), "mandatory": bool(c.get("mandatory", False)), "verified": False,
            "sourcing": c["sourcing"],
            "source": c.get("source", ""), "active": True, "position": (i + 1) * 10})
    return rows


def seed(session: Session) -> int:
    """Add the seed file's categories that are missing (an edited category is never overwritten)."""
    have = set(session.scalars(select(Category.code)))
    added = 0
    for row in seed_rows():
        if row["code"] not in have:
            check(row)
            session.add(Category(**row, updated_at=now()))
            added += 1
    session.flush()
    return added


def all_categories(session: Session, active_only: bool = False) -> list[Category]:
    q = select(Category).order_by(Category.position, Category.code)
    if active_only:
        q = q.where(Category.active.is_(True))
    return list(session.scalars(q))


def get(session: Session, code: str) -> Category:
    row = session.get(Category, code)
    if row is None:
        raise NotFound(N_("category {id} does not exist"), id=code)
    return row


def check(values: dict[str, Any]) -> None:
    """What a category may not be: each problem names the field."""
    modes = values.get("modes")
    if modes is not None and (not modes or any(m not in rules.MODES for m in modes)):
        raise InputError(N_("modes: each must be one of {modes}"), modes=", ".join(rules.MODES))
    right_type = values.get("right_type")
    if right_type and right_type not in registry_rules.RIGHT_TYPES:
        raise InputError(N_("right_type: {value} is not a right type of the registry ({types})"), value=right_type,
                         types=", ".join(registry_rules.RIGHT_TYPES))
    for pct in ("deposit_pct", "fee_pct"):
        if pct in values and not Decimal(0) <= Decimal(values[pct]) <= Decimal(100):
            raise InputError(N_("{field}: a percentage from 0 to 100"), field=pct)
    for period in ("announce_s", "bidding_s", "contract_s", "settle_s"):
        if period in values and not 1 <= int(values[period]) <= 3650 * DAY:
            raise InputError(N_("{field}: a period from 1 second to 10 years"), field=period)
    lo, hi = values.get("term_min_years"), values.get("term_max_years")
    if lo is not None and hi is not None and lo > hi:
        raise InputError(N_("term_min_years may not exceed term_max_years"))
    if values.get("sourcing") is not None and values["sourcing"] not in SOURCING:
        raise InputError(N_("sourcing: one of {values}"), values=", ".join(SOURCING))


def create(session: Session, values: dict[str, Any], by: Principal) -> Category:
    by.require(perms.CATEGORIES)
    if session.get(Category, values["code"]) is not None:
        raise Conflict(N_("category {id} exists already"), id=values["code"])
    check(values)
    row = Category(**values, updated_at=now())
    session.add(row)
    session.flush()
    audit(session, by, "create", "exchange_category", row.code, **_plain(values))
    return row


def update(session: Session, code: str, changes: dict[str, Any], by: Principal) -> Category:
    by.require(perms.CATEGORIES)
    row = get(session, code)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InputError(N_("{field} cannot be edited"), field=Word(sorted(unknown)[0]))
    merged = {k: getattr(row, k) for k in EDITABLE} | changes
    check(merged)
    before = {k: getattr(row, k) for k in changes}
    for k, v in changes.items():
        setattr(row, k, v)
    row.updated_at = now()
    audit(session, by, "update", "exchange_category", code, before=_plain(before), after=_plain(changes))
    return row


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}
