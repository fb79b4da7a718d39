"""The industry negative list (生态工业发展负面清单) as plain functions: the list read and checked from data, and the
verdict on an industry in the kinds of area a project touches. Within an area kind the rule of the most specific
industry code wins (C26 over C); across the areas a project touches the strictest verdict wins; a project that
touches no listed area is allowed by the list (its GEP change is still assessed)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from gep.errors import N_, InputError

DEFAULT = Path(__file__).resolve().parent / "data" / "negative_list.toml"
VERDICTS = {"forbidden": N_("forbidden"), "restricted": N_("restricted: only with approval"),
            "conditional": N_("allowed with conditions"), "allowed": N_("allowed")}
STRICTNESS = ("allowed", "conditional", "restricted", "forbidden")
INDUSTRY = re.compile(r"^[A-T](\d{2}(\d{1,2})?)?$")


@dataclass(frozen=True)
class Rule:
    id: str
    industry: str
    kind: str
    verdict: str
    conditions: str = ""


@dataclass(frozen=True)
class NegativeList:
    version: str
    source: str
    kinds: dict[str, tuple[str, str]]
    industries: dict[str, tuple[str, str]]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Verdict:
    verdict: str
    rule: Rule | None  # None: no listed area touched, or no rule for the industry there
    kind: str = ""

    def as_dict(self) -> dict[str, Any]:
        r = self.rule
        return {"verdict": self.verdict, "kind": self.kind,
                "rule": None if r is None else {"id": r.id, "industry": r.industry, "kind": r.kind,
                                                "verdict": r.verdict, "conditions": r.conditions}}


def parse(data: Mapping[str, Any]) -> NegativeList:
    kinds = {str(k["code"]): (str(k["name_zh"]), str(k["name_en"])) for k in data.get("kind", [])}
    industries = {str(i["code"]): (str(i["name_zh"]), str(i["name_en"])) for i in data.get("industry", [])}
    bad = [c for c in industries if not INDUSTRY.match(c)]
    if bad:
        raise InputError(N_("negative list: {value} is not a GB/T 4754 code (a section letter, then digits)"),
                         value=repr(bad[0]))
    rules: list[Rule] = []
    seen: set[tuple[str, str]] = set()
    for r in data.get("rule", []):
        rule = Rule(str(r["id"]), str(r["industry"]), str(r["kind"]), str(r["verdict"]), str(r.get("conditions", "")))
        if rule.kind not in kinds or rule.industry not in industries or rule.verdict not in STRICTNESS[1:]:
            raise InputError(N_("negative list rule {id}: unknown area kind, industry or verdict"), id=rule.id)
        if (rule.industry, rule.kind) in seen or rule.id in {x.id for x in rules}:
            raise InputError(N_("negative list rule {id}: repeats an industry and area kind or an id"), id=rule.id)
        seen.add((rule.industry, rule.kind))
        rules.append(rule)
    return NegativeList(str(data.get("version", "")), str(data.get("source", "")), kinds, industries, tuple(rules))


@lru_cache(maxsize=2)
def load(path: Path = DEFAULT) -> NegativeList:
    return parse(tomllib.loads(path.read_text(encoding="utf-8")))


def covers(prefix: str, industry: str) -> bool:
    """A rule's industry code covers a project's: a section letter covers its divisions (C covers C26)."""
    return industry == prefix or industry.startswith(prefix)


def rule_for(nl: NegativeList, industry: str, kind: str) -> Rule | None:
    """The rule of the most specific code covering the industry in an area kind."""
    hits = [r for r in nl.rules if r.kind == kind and covers(r.industry, industry)]
    return max(hits, key=lambda r: len(r.industry)) if hits else None


def verdict(nl: NegativeList, industry: str, kinds: Iterable[str]) -> Verdict:
    """The strictest verdict over the kinds of area touched (allowed when none, or no rule applies)."""
    if industry not in nl.industries and not INDUSTRY.match(industry):
        raise InputError(N_("{value} is not an industry code of GB/T 4754 (e.g. C26)"), value=repr(industry))
    best = Verdict("allowed", None)
    for kind in sorted(set(kinds)):
        r = rule_for(nl, industry, kind)
        if r is not None and STRICTNESS.index(r.verdict) > STRICTNESS.index(best.verdict):
            best = Verdict(r.verdict, r, kind)
    return best
