"""The rules of the GEP comprehensive assessment (GEP综合考评, 考核一码清) as plain functions over plain values:
indicator sets read and checked from data, the four scoring algorithms, growth at constant prices, ranks and the
colour of the one-code view.

Points are Decimal, rounded half-up to 2 decimals per indicator; the total is the sum of the rounded points, so
the sheet adds up as printed. Growth rates are percentages rounded to 2 decimals before they are scored."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from gep.errors import N_, InputError

DEFAULT = Path(__file__).resolve().parent / "data" / "sets.toml"
TOTAL_POINTS = Decimal(1000)
POINT_PLACES = Decimal("0.01")
RATE_PLACES = Decimal("0.01")
ALGORITHMS = {"target_ratio": N_("share of the target"), "threshold": N_("steps"),
              "rank": N_("rank among the assessed"), "increment": N_("change on the previous year")}
KINDS = {"county": N_("counties"), "department": N_("municipal departments")}
COLOURS = {"green": N_("green"), "yellow": N_("yellow"), "red": N_("red")}
# what the platform computes itself; "indicator_growth:" and "double_growth:" take an argument
METRICS = {"gep_growth": N_("GEP growth at constant prices (%)"),
           "material_growth": N_("growth of material products at constant prices (%)"),
           "regulating_growth": N_("growth of regulating services at constant prices (%)"),
           "cultural_growth": N_("growth of cultural services at constant prices (%)"),
           "indicator_growth": N_("growth of an accounting indicator at constant prices (%)"),
           "double_growth": N_("1 when GEP and GDP both grew, else 0"),
           "trades_amount": N_("ecological products traded on the exchange (10,000 yuan)"),
           "trades_count": N_("trades settled on the exchange"),
           "loans_count": N_("green loans disbursed through the platform"),
           "loans_amount": N_("green loans disbursed through the platform (10,000 yuan)"),
           "submitted_on_time": N_("share of the department's indicators submitted by the deadline (%)"),
           "submitted_uncorrected": N_("share of the department's indicators never corrected (%)")}
CONDITION_OPS = ("below", "at_least")


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Level:
    code: str
    name_zh: str
    name_en: str
    parent: str = ""  # a level-2's level-1
    points: Decimal = Decimal(0)  # a level-1's maximum


@dataclass(frozen=True)
class Indicator:
    code: str
    level1: str
    level2: str
    name_zh: str
    name_en: str
    unit: str
    provider: str  # a department code
    algorithm: str
    params: Mapping[str, Any]
    points: Decimal
    metric: str = ""  # empty: submitted by the provider
    low: Decimal | None = None  # plausible range of a submitted value
    high: Decimal | None = None

    @property
    def submitted(self) -> bool:
        return not self.metric

    @property
    def better(self) -> str:
        return str(self.params.get("better", "higher"))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "level1": self.level1, "level2": self.level2, "name_zh": self.name_zh,
                "name_en": self.name_en, "unit": self.unit, "provider": self.provider, "algorithm": self.algorithm,
                "params": _plain(self.params), "points": str(self.points), "metric": self.metric,
                "range": [str(self.low), str(self.high)] if self.low is not None else None}


@dataclass(frozen=True)
class Condition:
    of: str  # total | level1_min_share | indicator:<code>
    op: str  # below | at_least
    value: Decimal


@dataclass(frozen=True)
class ColourRule:
    colour: str
    when: str  # any | all
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class IndicatorSet:
    code: str
    version: str
    kind: str
    name_zh: str
    name_en: str
    source: str
    deadline: str  # MM-DD of the following year
    level1: tuple[Level, ...]
    level2: tuple[Level, ...]
    indicators: tuple[Indicator, ...]
    colour_rules: tuple[ColourRule, ...]
    default_colour: str
    digest: str
    data_of: str = ""  # a department set: the county set whose data provision it measures

    def indicator(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Decimal) else value


def dec(value: Any, where: str) -> Decimal:
    """A Decimal from a string or number of the data, or a clear error naming where it is."""
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(N_("{where}: {value} is not a number"), where=where, value=repr(value)) from None
    if not d.is_finite():
        raise InputError(N_("{where}: {value} is not a finite number"), where=where, value=repr(value))
    return d


def digest_of(raw: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _check_params(ind: str, algorithm: str, params: Mapping[str, Any]) -> dict[str, Any]:
    where = f"indicator {ind}"
    out: dict[str, Any] = {"better": str(params.get("better", "higher"))}
    if out["better"] not in ("higher", "lower"):
        raise InputError(N_("{where}: better must be higher or lower, not {value}"), where=where,
                         value=repr(out["better"]))
    if algorithm == "target_ratio":
        out["target"] = dec(params.get("target", ""), f"{where} target")
        if out["target"] <= 0:
            raise InputError(N_("{where}: the target must be above 0"), where=where)
    elif algorithm == "threshold":
        steps = [(dec(b, f"{where} steps"), dec(s, f"{where} steps")) for b, s in params.get("steps", [])]
        if not steps or any(not 0 <= s <= 1 for _, s in steps):
            raise InputError(N_("{where}: steps must be [bound, share] pairs with shares between 0 and 1"),
                             where=where)
        # best step first: the highest bound when higher is better, the lowest when lower is
        out["steps"] = sorted(steps, key=lambda bs: bs[0], reverse=out["better"] == "higher")
    elif algorithm == "rank":
        out["floor"] = dec(params.get("floor", "0"), f"{where} floor")
        out["zero_scores_nothing"] = bool(params.get("zero_scores_nothing", False))
        if not 0 <= out["floor"] <= 1:
            raise InputError(N_("{where}: floor must be between 0 and 1"), where=where)
    elif algorithm == "increment":
        out["full"] = dec(params.get("full", ""), f"{where} full")
        out["floor"] = dec(params.get("floor", "0"), f"{where} floor")
        if out["full"] <= out["floor"]:
            raise InputError(N_("{where}: full must be above floor"), where=where)
    else:
        raise InputError(N_("{where}: unknown algorithm {value}; expected one of {expected}"), where=where,
                         value=repr(algorithm), expected=", ".join(ALGORITHMS))
    return out


def _check_metric(ind: str, metric: str, codes: set[str]) -> None:
    name, _, arg = metric.partition(":")
    if name not in METRICS:
        raise InputError(N_("indicator {code}: unknown metric {value}; expected one of {expected}"), code=ind,
                         value=repr(metric), expected=", ".join(METRICS))
    if name in ("indicator_growth", "double_growth") and not arg:
        raise InputError(N_("indicator {code}: metric {value} needs an argument after ':'"), code=ind,
                         value=repr(metric))
    if name == "double_growth" and arg not in codes:
        raise InputError(N_("indicator {code}: {value} names no indicator of the set"), code=ind, value=repr(arg))


def parse_set(raw: Mapping[str, Any], departments: Mapping[str, Department], digest: str = "") -> IndicatorSet:
    """One [[set]] table, checked: the kind, levels and providers are known, every indicator's algorithm has its
    parameters, the points of each first-level indicator add up to it and all add up to 1,000."""
    where = f"set {raw.get('version', '?')}"
    missing = [k for k in ("code", "version", "kind", "name_zh", "name_en", "level1", "level2", "indicator")
               if k not in raw]
    if missing:
        raise InputError(N_("{where}: missing {fields}"), where=where, fields=", ".join(missing))
    if raw["kind"] not in KINDS:
        raise InputError(N_("{where}: kind must be one of {expected}, not {value}"), where=where,
                         expected=", ".join(KINDS), value=repr(raw["kind"]))
    l1 = tuple(Level(str(x["code"]), str(x["name_zh"]), str(x["name_en"]), points=dec(x["points"], where))
               for x in raw["level1"])
    l1_codes = {x.code for x in l1}
    l2 = tuple(Level(str(x["code"]), str(x["name_zh"]), str(x["name_en"]), parent=str(x["level1"]))
               for x in raw["level2"])
    for x in l2:
        if x.parent not in l1_codes:
            raise InputError(N_("{where}: level-2 {code} names an unknown level-1 {value}"), where=where,
                             code=x.code, value=repr(x.parent))
    parents = {x.code: x.parent for x in l2}
    codes = [str(x["code"]) for x in raw["indicator"]]
    if len(set(codes)) != len(codes):
        raise InputError(N_("{where}: indicator codes repeat"), where=where)
    inds = []
    for x in raw["indicator"]:
        code = str(x["code"])
        if x.get("level2") not in parents:
            raise InputError(N_("{where}: indicator {code} names an unknown level-2 {value}"), where=where,
                             code=code, value=repr(x.get("level2")))
        if x.get("provider") not in departments:
            raise InputError(N_("{where}: indicator {code} names an unknown department {value}"), where=where,
                             code=code, value=repr(x.get("provider")))
        metric = str(x.get("metric", ""))
        if metric:
            _check_metric(code, metric, set(codes))
            if x.get("algorithm") == "increment":
                raise InputError(N_("{where}: indicator {code} is computed as a change already; score it by "
                                    "target_ratio, threshold or rank, not increment"), where=where, code=code)
        low, high = (None, None)
        if "range" in x:
            low, high = (dec(v, f"indicator {code} range") for v in x["range"])
        inds.append(Indicator(code, parents[str(x["level2"])], str(x["level2"]), str(x["name_zh"]),
                              str(x["name_en"]), str(x["unit"]), str(x["provider"]), str(x["algorithm"]),
                              _check_params(code, str(x["algorithm"]), x.get("params", {})),
                              dec(x["points"], f"indicator {code} points"), metric, low, high))
    for level in l1:
        got = sum((i.points for i in inds if i.level1 == level.code), Decimal(0))
        if got != level.points:
            raise InputError(N_("{where}: the indicators of {code} add up to {got} points, not its {points}"),
                             where=where, code=level.code, got=str(got), points=str(level.points))
    total = sum((x.points for x in l1), Decimal(0))
    if total != TOTAL_POINTS:
        raise InputError(N_("{where}: the first-level indicators add up to {got} points, not 1,000"), where=where,
                         got=str(total))
    rules = []
    for c in raw.get("colour", []):
        if c.get("colour") not in COLOURS or c.get("when", "all") not in ("any", "all"):
            raise InputError(N_("{where}: a colour rule needs a colour of {expected} and when = any or all"),
                             where=where, expected=", ".join(COLOURS))
        conds = []
        for cond in c.get("conditions", []):
            ops = [op for op in CONDITION_OPS if op in cond]
            of = str(cond.get("of", ""))
            if len(ops) != 1 or not (of in ("total", "level1_min_share") or
                                     (of.startswith("indicator:") and of[10:] in codes)):
                raise InputError(N_("{where}: colour condition {value} must name total, level1_min_share or "
                                    "indicator:<code> and one of below or at_least"), where=where, value=repr(cond))
            conds.append(Condition(of, ops[0], dec(cond[ops[0]], where)))
        rules.append(ColourRule(str(c["colour"]), str(c.get("when", "all")), tuple(conds)))
    default = str(raw.get("default_colour", "yellow"))
    if default not in COLOURS:
        raise InputError(N_("{where}: default_colour must be one of {expected}"), where=where,
                         expected=", ".join(COLOURS))
    deadline = str(raw.get("deadline", "03-31"))
    if not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", deadline):
        raise InputError(N_("{where}: deadline must be MM-DD"), where=where)
    return IndicatorSet(str(raw["code"]), str(raw["version"]), str(raw["kind"]), str(raw["name_zh"]),
                        str(raw["name_en"]), str(raw.get("source", "")), deadline, l1, l2, tuple(inds),
                        tuple(rules), default, digest, str(raw.get("data_of", "")))


@dataclass(frozen=True)
class Catalogue:
    departments: dict[str, Department]
    sets: dict[str, IndicatorSet]  # by version
    raw: dict[str, dict[str, Any]]  # the text of each set, by version (installed with it)


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    deps = {str(d["code"]): Department(str(d["code"]), str(d["name_zh"]), str(d["name_en"]))
            for d in data.get("department", [])}
    sets: dict[str, IndicatorSet] = {}
    raws: dict[str, dict[str, Any]] = {}
    for raw in data.get("set", []):
        s = parse_set(raw, deps, digest_of(raw))
        if s.version in sets:
            raise InputError(N_("set version {version} appears twice"), version=s.version)
        sets[s.version], raws[s.version] = s, dict(raw)
    for s in sets.values():
        if s.data_of and s.data_of not in sets:
            raise InputError(N_("set {version}: data_of names an unknown set {value}"), version=s.version,
                             value=repr(s.data_of))
    return Catalogue(deps, sets, raws)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = DEFAULT) -> Catalogue:
    return parse_catalogue(tomllib.loads(path.read_text(encoding="utf-8")))


# -- scoring ---------------------------------------------------------------------------------------------------------

def points(x: Decimal) -> Decimal:
    return x.quantize(POINT_PLACES, rounding=ROUND_HALF_UP)


def _clamp01(x: Decimal) -> Decimal:
    return min(Decimal(1), max(Decimal(0), x))


@dataclass(frozen=True)
class Scored:
    points: Decimal
    note: str = ""  # a msgid when the indicator could not be scored in full (missing value, no previous year)


def score(ind: Indicator, values: Mapping[str, Decimal | None],
          previous: Mapping[str, Decimal | None] | None = None) -> dict[str, Scored]:
    """Points of one indicator for every assessed unit. `values` holds each unit's value (None: missing);
    `previous` the previous year's, for the increment algorithm. A missing value scores 0 with a note."""
    p = ind.params
    higher = p["better"] == "higher"
    out: dict[str, Scored] = {}
    if ind.algorithm == "rank":
        # with zero_scores_nothing a unit with nothing (no trade at all) is not ranked: it would tie for first
        present = {u: v for u, v in values.items() if v is not None and not (p["zero_scores_nothing"] and v == 0)}
        for unit, rank in competition_ranks(present, higher).items():
            n = len(present)
            share = Decimal(1) if n == 1 else 1 - (1 - p["floor"]) * Decimal(rank - 1) / Decimal(n - 1)
            out[unit] = Scored(points(ind.points * share))
        for unit, v in values.items():
            out.setdefault(unit, Scored(Decimal("0.00"), N_("no value") if v is None else ""))
        return out
    for unit, v in values.items():
        if v is None:
            out[unit] = Scored(Decimal("0.00"), N_("no value"))
            continue
        if ind.algorithm == "target_ratio":
            t = p["target"]
            share = _clamp01(v / t) if higher else (Decimal(1) if v <= t else _clamp01(t / v))
        elif ind.algorithm == "threshold":
            share = next((s for bound, s in p["steps"] if (v >= bound if higher else v <= bound)), Decimal(0))
        else:  # increment
            before = (previous or {}).get(unit)
            if before is None:
                out[unit] = Scored(Decimal("0.00"), N_("no value for the previous year"))
                continue
            change = v - before if higher else before - v
            share = _clamp01((change - p["floor"]) / (p["full"] - p["floor"]))
        out[unit] = Scored(points(ind.points * share))
    return out


def competition_ranks(values: Mapping[str, Decimal], higher: bool = True) -> dict[str, int]:
    """1-based ranks where equal values share the better rank and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(values.values(), reverse=higher)
    first: dict[Decimal, int] = {}
    for i, v in enumerate(ordered):
        first.setdefault(v, i + 1)
    return {u: first[v] for u, v in values.items()}


def growth(now: float | None, before: float | None) -> Decimal | None:
    """Growth in percent, rounded half-up to 2 decimals; None when either year is missing or the earlier is not
    > 0. The ratio is first cut to 10 decimals: revaluing float accounts leaves noise near 1e-16 that must not
    decide a rounding (815 × 1.02 × 100/102 is 814.99999999999989)."""
    if now is None or before is None or before <= 0:
        return None
    ratio = (Decimal(repr(now)) / Decimal(repr(before))).quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)
    rate = (ratio * 100 - 100).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    return abs(rate) if rate.is_zero() else rate  # no "-0.00"


def constant_price_factor(index: Mapping[str, float], from_year: int, to_year: int) -> float:
    """What multiplies values at `from_year` prices to give them at `to_year` prices (the profile's index)."""
    if from_year == to_year:
        return 1.0
    try:
        return float(index[str(to_year)]) / float(index[str(from_year)])
    except KeyError:
        raise InputError(N_("the price index has no value for {years}: the two years cannot be compared at "
                            "constant prices"), years=f"{from_year}/{to_year}") from None


def colour(s: IndicatorSet, total: Decimal, level1_points: Mapping[str, Decimal],
           values: Mapping[str, Decimal | None]) -> tuple[str, str]:
    """The colour of a unit and the rule that gave it (e.g. "red: total below 700"); the first rule that holds
    wins, none holding gives the default. A condition on a missing value does not hold."""
    maxima = {x.code: x.points for x in s.level1}
    min_share = min((level1_points.get(c, Decimal(0)) / m for c, m in maxima.items() if m > 0), default=Decimal(1))
    for rule in s.colour_rules:
        held: list[str] = []
        for c in rule.conditions:
            x = total if c.of == "total" else min_share if c.of == "level1_min_share" else values.get(c.of[10:])
            if x is not None and (x < c.value if c.op == "below" else x >= c.value):
                shown = x.quantize(Decimal("0.01")) if c.of == "level1_min_share" else x
                held.append(f"{c.of.removeprefix('indicator:')} {shown} {SIGNS[c.op]} {c.value}")
        if held and (rule.when == "any" or len(held) == len(rule.conditions)):
            return rule.colour, "; ".join(held)
    return s.default_colour, ""


SIGNS = {"below": "<", "at_least": "≥"}


def rule_text(rule: ColourRule) -> str:
    join = " or " if rule.when == "any" else " and "
    return join.join(f"{c.of.removeprefix('indicator:')} {SIGNS[c.op]} {c.value}" for c in rule.conditions)


def provider_indicators(s: IndicatorSet, department: str) -> list[Indicator]:
    return [i for i in s.indicators if i.provider == department and i.submitted]


def parse_value(raw: str, ind: Indicator) -> tuple[Decimal | None, str]:
    """A submitted value, or None with a msgid saying what is wrong (not a number, outside the range)."""
    try:
        v = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation:
        return None, N_("{value} is not a number")
    if not v.is_finite():
        return None, N_("{value} is not a number")
    if ind.low is not None and ind.high is not None and not ind.low <= v <= ind.high:
        return None, N_("{value} is outside the plausible range {low} to {high} {unit}")
    return v, ""


def units_match(given: str, ind: Indicator) -> bool:
    norm = [re.sub(r"\s+", "", u).lower() for u in (given, ind.unit)]
    return norm[0] == norm[1]


def sum_points(items: Sequence[Decimal]) -> Decimal:
    return sum(items, Decimal("0.00"))
