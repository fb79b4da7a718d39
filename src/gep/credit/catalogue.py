"""The catalogue of credit behaviours as data: dimensions with their caps, indicators with their points (fixed,
per unit, or by level), evidence, validity and veto, and the grade thresholds. Loaded from TOML, checked once,
identified by its version and the digest of its text (a score names the version that made it)."""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from gep.errors import N_, InputError

DEFAULT = Path(__file__).resolve().parent / "data" / "catalogue.toml"
LISTS = ("positive", "negative")
SUBJECT_KINDS = {"individual": N_("individual"), "enterprise": N_("enterprise"), "village": N_("village")}
LEVELS = ("county", "city", "province", "national")


@dataclass(frozen=True)
class Dimension:
    list: str
    code: str
    name_zh: str
    name_en: str
    cap: int


@dataclass(frozen=True)
class Indicator:
    code: str
    list: str
    dimension: str
    name_zh: str
    name_en: str
    subjects: frozenset[str]
    points: int = 0
    per_unit: Decimal | None = None
    max: int | None = None
    by_level: dict[str, int] = field(default_factory=dict)
    evidence_required: bool = False
    validity_days: int = 365
    veto: bool = False
    source: str = ""

    @property
    def needs_quantity(self) -> bool:
        return self.per_unit is not None

    @property
    def needs_level(self) -> bool:
        return bool(self.by_level)

    def points_for(self, quantity: str = "") -> int:
        """The points one event earns (or costs): fixed, per unit (rounded down, at most `max`) or by level."""
        if self.by_level:
            level = quantity.strip().lower()
            if level not in self.by_level:
                raise InputError(N_("indicator {code} needs a level: one of {levels}"), code=self.code,
                                 levels=", ".join(self.by_level))
            return self.by_level[level]
        if self.per_unit is not None:
            try:
                amount = Decimal(quantity.strip())
            except InvalidOperation:
                raise InputError(N_("indicator {code} needs a quantity (a number), not “{value}”"), code=self.code,
                                 value=quantity) from None
            if not amount.is_finite() or amount <= 0:
                raise InputError(N_("indicator {code} needs a positive quantity, not “{value}”"), code=self.code,
                                 value=quantity)
            earned = math.floor(amount * self.per_unit)
            return min(earned, self.max) if self.max is not None else earned
        return self.points

    @property
    def rule_text(self) -> str:
        if self.by_level:
            return ", ".join(f"{k} {v}" for k, v in self.by_level.items())
        if self.per_unit is not None:
            return f"{self.per_unit} × quantity" + (f", ≤ {self.max}" if self.max is not None else "")
        return str(self.points)


@dataclass(frozen=True)
class Catalogue:
    version: str
    digest: str
    name_zh: str
    name_en: str
    base: int
    floor: int
    ceiling: int
    grades: tuple[tuple[str, int], ...]  # highest first
    dimensions: dict[tuple[str, str], Dimension]
    indicators: dict[str, Indicator]
    text: str

    def indicator(self, code: str) -> Indicator:
        found = self.indicators.get(code.strip().upper())
        if found is None:
            raise InputError(N_("unknown indicator {code}: the catalogue {version} has {codes}"), code=code,
                             version=self.version, codes=", ".join(self.indicators))
        return found

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "digest": self.digest, "name_zh": self.name_zh, "name_en": self.name_en,
                "base": self.base, "grades": [list(g) for g in self.grades],
                "dimensions": [{"list": d.list, "code": d.code, "name_zh": d.name_zh, "name_en": d.name_en,
                                "cap": d.cap} for d in self.dimensions.values()],
                "indicators": [{"code": i.code, "list": i.list, "dimension": i.dimension, "name_zh": i.name_zh,
                                "name_en": i.name_en, "subjects": sorted(i.subjects), "rule": i.rule_text,
                                "needs_quantity": i.needs_quantity, "levels": list(i.by_level),
                                "evidence_required": i.evidence_required, "validity_days": i.validity_days,
                                "veto": i.veto, "source": i.source} for i in self.indicators.values()]}


def parse(text: str, where: str = "catalogue") -> Catalogue:
    """A catalogue from its TOML text, refused with the entry named when anything is inconsistent."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(N_("{file} is not valid TOML: {error}"), file=where, error=str(exc)) from None
    try:
        dims = {}
        for d in data["dimensions"]:
            if d["list"] not in LISTS:
                raise InputError(N_("{file}: dimension {code} is on an unknown list {list}"), file=where,
                                 code=d["code"], list=d["list"])
            dims[(d["list"], d["code"])] = Dimension(d["list"], d["code"], d["name_zh"], d["name_en"], int(d["cap"]))
        indicators = {}
        for i in data["indicators"]:
            code = str(i["code"]).upper()
            if (i["list"], i["dimension"]) not in dims:
                raise InputError(N_("{file}: indicator {code} names an unknown dimension {dimension}"), file=where,
                                 code=code, dimension=i["dimension"])
            if code in indicators:
                raise InputError(N_("{file}: indicator {code} appears twice"), file=where, code=code)
            subjects = frozenset(i["subjects"])
            if not subjects or subjects - set(SUBJECT_KINDS):
                raise InputError(N_("{file}: indicator {code} has unknown subject kinds"), file=where, code=code)
            levels = {str(k): int(v) for k, v in (i.get("by_level") or {}).items()}
            if set(levels) - set(LEVELS):
                raise InputError(N_("{file}: indicator {code} has unknown levels"), file=where, code=code)
            indicators[code] = Indicator(
                code, i["list"], i["dimension"], i["name_zh"], i["name_en"], subjects, int(i.get("points", 0)),
                Decimal(str(i["per_unit"])) if "per_unit" in i else None,
                int(i["max"]) if "max" in i else None, levels, bool(i.get("evidence_required", False)),
                int(i.get("validity_days", 365)), bool(i.get("veto", False)), str(i.get("source", "")))
            if indicators[code].validity_days < 1:
                raise InputError(N_("{file}: indicator {code} must stay valid at least one day"), file=where,
                                 code=code)
        grades = tuple((str(g), int(t)) for g, t in data["grades"])
        if [t for _, t in grades] != sorted((t for _, t in grades), reverse=True):
            raise InputError(N_("{file}: the grades must be listed from the highest threshold down"), file=where)
        return Catalogue(str(data["version"]), hashlib.sha256(text.encode()).hexdigest(), data["name_zh"],
                         data["name_en"], int(data["base"]), int(data.get("floor", 0)),
                         int(data.get("ceiling", 1000)), grades, dims, indicators, text)
    except KeyError as exc:
        raise InputError(N_("{file} lacks the entry {key}"), file=where, key=str(exc)) from None


@lru_cache(maxsize=8)
def _parsed(text: str) -> Catalogue:
    return parse(text)


def load(path: Path = DEFAULT) -> Catalogue:
    return _parsed(path.read_text(encoding="utf-8"))


def from_text(text: str) -> Catalogue:
    return _parsed(text)
