"""The rules of watershed compensation as plain functions over plain values: the monitored parameters and their
units, the checking of observation rows, annual means, the baseline ratchet, the compensation index with its
orientation stated, the direction of payment by water class, and who gets what out of an agreement's pool.

Everything is Decimal: an index is rounded to 4 decimals before it meets a threshold, so 0.9 is exactly 0.9
whatever the arithmetic on the way."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from gep.errors import N_, Conflict, InputError

DEFAULT = Path(__file__).resolve().parent / "data" / "schemes.toml"
INDEX_PLACES = Decimal("0.0001")
MEAN_PLACES = Decimal("0.000001")
ORIENTATIONS = {"pollution": N_("pollution index (higher is worse)"), "quality": N_("quality index (higher is better)")}
DIRECTIONS = {"downstream_pays": N_("downstream pays upstream"), "upstream_pays": N_("upstream pays downstream"),
              "none": N_("no payment")}
WATER_CLASSES = ("II", "III")


@dataclass(frozen=True)
class Parameter:
    code: str
    name_zh: str
    name_en: str
    unit: str
    units: frozenset[str]  # spellings accepted for the unit
    period: str  # "monthly" or "annual"
    better: str  # "lower" or "higher"
    plausible_max: Decimal  # above this a value is flagged for a second look (not refused)
    unit_zh: str = ""


PARAMETERS: dict[str, Parameter] = {p.code: p for p in (
    Parameter("codmn", "高锰酸盐指数", "permanganate index (CODMn)", "mg/L", frozenset({"mg/l", "毫克/升"}),
              "monthly", "lower", Decimal(30)),
    Parameter("nh3n", "氨氮", "ammonia nitrogen (NH3-N)", "mg/L", frozenset({"mg/l", "毫克/升"}), "monthly",
              "lower", Decimal(20)),
    Parameter("tp", "总磷", "total phosphorus (TP)", "mg/L", frozenset({"mg/l", "毫克/升"}), "monthly", "lower",
              Decimal(5)),
    Parameter("tn", "总氮", "total nitrogen (TN)", "mg/L", frozenset({"mg/l", "毫克/升"}), "monthly", "lower",
              Decimal(30)),
    Parameter("flow", "流量", "flow", "m3/s", frozenset({"m3/s", "m³/s", "立方米/秒"}), "monthly", "higher",
              Decimal(50000)),
    Parameter("efficiency", "万元GDP用水量", "water use per 10,000 yuan of GDP", "m3/10k yuan",
              frozenset({"m3/10k yuan", "m³/10k yuan", "m3/万元", "m³/万元", "立方米/万元"}), "annual", "lower",
              Decimal(2000), "m³/万元"),
)}
QUALITY = ("codmn", "nh3n", "tp", "tn")


# -- schemes ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Band:
    lower: Decimal
    upper: Decimal
    lower_inclusive: bool = False


@dataclass(frozen=True)
class Scheme:
    """One round of a scheme: its formula, weights, baseline rule, thresholds and money, and where they come
    from. `digest` identifies the exact text it was read from."""

    code: str
    version: str
    name_zh: str
    name_en: str
    first_year: int
    last_year: int
    orientation: str
    k0: Decimal
    quality_weight: Decimal
    quantity_weight: Decimal
    efficiency_weight: Decimal
    parameter_weights: dict[str, Decimal]
    baseline_rule: str
    amount_fen: int
    external_fen: int
    external_to: str
    thresholds: dict[str, Band]
    source: str
    digest: str = ""

    def needs(self) -> tuple[str, ...]:
        """The parameters this scheme's index reads."""
        out = [p for p in QUALITY if self.parameter_weights.get(p, Decimal(0)) > 0]
        if self.quantity_weight > 0:
            out.append("flow")
        if self.efficiency_weight > 0:
            out.append("efficiency")
        return tuple(out)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "version": self.version, "name_zh": self.name_zh, "name_en": self.name_en,
                "first_year": self.first_year, "last_year": self.last_year, "orientation": self.orientation,
                "k0": str(self.k0), "quality_weight": str(self.quality_weight),
                "quantity_weight": str(self.quantity_weight), "efficiency_weight": str(self.efficiency_weight),
                "parameter_weights": {k: str(v) for k, v in self.parameter_weights.items()},
                "baseline_rule": self.baseline_rule, "amount_fen": self.amount_fen,
                "external_fen": self.external_fen, "external_to": self.external_to,
                "thresholds": {c: {"lower": str(b.lower), "upper": str(b.upper),
                                   "lower_inclusive": b.lower_inclusive} for c, b in self.thresholds.items()},
                "source": self.source, "digest": self.digest}


def _dec(raw: Any, where: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise InputError(N_("{where}: {value} is not a number"), where=where, value=repr(raw)) from None
    if not value.is_finite():
        raise InputError(N_("{where}: {value} is not a number"), where=where, value=repr(raw))
    return value


def to_fen(yuan: Any, where: str = "amount") -> int:
    value = _dec(yuan, where)
    if value < 0:
        raise InputError(N_("{where}: an amount cannot be negative"), where=where)
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_scheme(raw: Mapping[str, Any], digest: str = "") -> Scheme:
    """One [[scheme]] table, checked: the weights add up to 1, the orientation and baseline rule are known, and
    each water class has lower ≤ upper."""
    where = f"scheme {raw.get('version', '?')}"
    missing = [k for k in ("code", "version", "name_zh", "name_en", "first_year", "last_year", "orientation",
                           "parameter_weights", "thresholds", "amount_yuan") if k not in raw]
    if missing:
        raise InputError(N_("{where}: missing {fields}"), where=where, fields=", ".join(missing))
    if raw["orientation"] not in ORIENTATIONS:
        raise InputError(N_("{where}: orientation must be one of {expected}, not {value}"), where=where,
                         expected=", ".join(ORIENTATIONS), value=repr(raw["orientation"]))
    rule = raw.get("baseline_rule", "ratchet")
    if rule not in ("ratchet", "fixed"):
        raise InputError(N_("{where}: baseline_rule must be ratchet or fixed, not {value}"), where=where,
                         value=repr(rule))
    weights = {k: _dec(v, f"{where} parameter_weights.{k}") for k, v in dict(raw["parameter_weights"]).items()}
    unknown = [k for k in weights if k not in QUALITY]
    if unknown:
        raise InputError(N_("{where}: unknown water-quality parameter {name}; expected one of {expected}"),
                         where=where, name=unknown[0], expected=", ".join(QUALITY))
    if sum(weights.values()) != 1:
        raise InputError(N_("{where}: the parameter weights add up to {total}, not 1"), where=where,
                         total=str(sum(weights.values())))
    qw, vw, ew = (_dec(raw.get(k, "0"), f"{where} {k}") for k in ("quality_weight", "quantity_weight",
                                                                    "efficiency_weight"))
    if qw + vw + ew != 1 or min(qw, vw, ew) < 0:
        raise InputError(N_("{where}: quality, quantity and efficiency weights must be ≥ 0 and add up to 1, not "
                            "{total}"), where=where, total=str(qw + vw + ew))
    bands = {}
    for cls, b in dict(raw["thresholds"]).items():
        lower, upper = _dec(b["lower"], f"{where} thresholds.{cls}"), _dec(b["upper"], f"{where} thresholds.{cls}")
        if lower > upper:
            raise InputError(N_("{where}: class {cls} has lower bound {lower} above upper bound {upper}"),
                             where=where, cls=cls, lower=str(lower), upper=str(upper))
        bands[str(cls)] = Band(lower, upper, bool(b.get("lower_inclusive", False)))
    external_to = raw.get("external_to", "upstream")
    if external_to not in ("upstream", "downstream"):
        raise InputError(N_("{where}: external_to must be upstream or downstream"), where=where)
    return Scheme(str(raw["code"]), str(raw["version"]), str(raw["name_zh"]), str(raw["name_en"]),
                  int(raw["first_year"]), int(raw["last_year"]), str(raw["orientation"]),
                  _dec(raw.get("k0", "1"), f"{where} k0"), qw, vw, ew, weights, rule,
                  to_fen(raw["amount_yuan"], f"{where} amount_yuan"),
                  to_fen(raw.get("external_yuan", "0"), f"{where} external_yuan"), external_to, bands,
                  str(raw.get("source", "")), digest)


def scheme_digest(raw: Mapping[str, Any]) -> str:
    """A stable digest of one scheme's content (key order does not matter)."""
    import json

    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@lru_cache(maxsize=4)
def load_schemes(path: Path = DEFAULT) -> dict[str, Scheme]:
    """Every scheme round of the file, by version."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, Scheme] = {}
    for raw in data.get("scheme", []):
        s = parse_scheme(raw, scheme_digest(raw))
        if s.version in out:
            raise InputError(N_("{file}: scheme version {version} appears twice"), file=path.name, version=s.version)
        out[s.version] = s
    return out


def scheme_for(schemes: Mapping[str, Scheme], code: str, year: int) -> Scheme:
    """The round of scheme `code` that covers `year`."""
    for s in schemes.values():
        if s.code == code and s.first_year <= year <= s.last_year:
            return s
    raise InputError(N_("scheme {code} has no round covering {year}"), code=code, year=year)


# -- the index -----------------------------------------------------------------------------------------------------

def ratio(parameter: str, value: Decimal, baseline: Decimal, orientation: str) -> Decimal:
    """This period's value against the baseline, oriented: in a pollution index a ratio above 1 is worse than
    the baseline, in a quality index a ratio above 1 is better. Concentrations and water use are better when
    lower; flow is better when higher."""
    lower_is_better = PARAMETERS[parameter].better == "lower"
    worse_up = orientation == "pollution"
    num, den = (value, baseline) if lower_is_better == worse_up else (baseline, value)
    if den == 0:
        raise InputError(N_("{parameter}: a ratio to zero cannot be formed (value {value}, baseline {baseline})"),
                         parameter=parameter, value=str(value), baseline=str(baseline))
    return num / den


@dataclass(frozen=True)
class Index:
    value: Decimal  # rounded to INDEX_PLACES
    quality: Decimal
    quantity: Decimal | None
    efficiency: Decimal | None
    ratios: dict[str, Decimal]

    def as_dict(self) -> dict[str, Any]:
        return {"value": str(self.value), "quality": str(self.quality.quantize(INDEX_PLACES)),
                "quantity": None if self.quantity is None else str(self.quantity.quantize(INDEX_PLACES)),
                "efficiency": None if self.efficiency is None else str(self.efficiency.quantize(INDEX_PLACES)),
                "ratios": {k: str(v.quantize(INDEX_PLACES)) for k, v in self.ratios.items()}}


def index(s: Scheme, values: Mapping[str, Decimal], baseline: Mapping[str, Decimal]) -> Index:
    """I = K0 × (a · Σ w_k ratio_k + b · ratio_flow + c · ratio_efficiency), rounded half up to 4 decimals."""
    missing = [p for p in s.needs() if p not in values or p not in baseline]
    if missing:
        raise InputError(N_("the index needs {parameters}: no value or no baseline"), parameters=", ".join(missing))
    ratios = {p: ratio(p, values[p], baseline[p], s.orientation) for p in s.needs()}
    quality = sum((w * ratios[p] for p, w in s.parameter_weights.items() if w > 0), Decimal(0))
    quantity = ratios.get("flow")
    efficiency = ratios.get("efficiency")
    total = s.quality_weight * quality + s.quantity_weight * (quantity or 0) + s.efficiency_weight * (efficiency or 0)
    return Index((s.k0 * total).quantize(INDEX_PLACES, rounding=ROUND_HALF_UP), quality, quantity, efficiency, ratios)


def direction(s: Scheme, water_class: str, value: Decimal) -> str:
    """Who pays, by the section's water class. Pollution index: below the lower bound the water handed down is
    cleaner than the baseline, so downstream pays upstream; above the upper bound upstream pays downstream;
    between (bounds included) nobody pays. A quality index mirrors this."""
    band = s.thresholds.get(water_class)
    if band is None:
        raise InputError(N_("scheme {version} has no thresholds for water class {cls}"), version=s.version,
                         cls=water_class)
    if s.orientation == "pollution":
        good = value < band.lower or (band.lower_inclusive and value == band.lower)
        bad = value > band.upper and not good
    else:
        good = value > band.upper or (band.lower_inclusive and value == band.upper)
        bad = value < band.lower and not good
    return "downstream_pays" if good else "upstream_pays" if bad else "none"


# -- observations, means, baselines -------------------------------------------------------------------------------

def annual_means(values: Mapping[str, Iterable[Decimal]]) -> dict[str, Decimal]:
    """The arithmetic mean of each parameter's values (6 decimals, half even)."""
    out = {}
    for p, vs in values.items():
        vs = list(vs)
        if vs:
            out[p] = (sum(vs, Decimal(0)) / len(vs)).quantize(MEAN_PLACES, rounding=ROUND_HALF_EVEN)
    return out


def better(parameter: str, a: Decimal, b: Decimal) -> Decimal:
    return min(a, b) if PARAMETERS[parameter].better == "lower" else max(a, b)


def baseline_for(rule: str, agreed: Mapping[str, Decimal], earlier: Iterable[tuple[int, Mapping[str, Decimal]]],
                 ) -> dict[str, Decimal]:
    """The baseline of a year. `fixed`: the agreed one. `ratchet` (补偿基准取数不低于上一年度): each year's baseline
    is the better of the previous baseline and the previous year's annual value, so it never gets worse."""
    base = dict(agreed)
    if rule == "fixed":
        return base
    for _year, actual in sorted(earlier, key=lambda x: x[0]):
        base = {p: better(p, v, actual[p]) if p in actual else v for p, v in base.items()}
    return base


def missing_periods(year: int, parameters: Iterable[str], present: set[tuple[str, int]]) -> list[tuple[str, int]]:
    """(parameter, month) pairs a year lacks; month 0 is an annual value."""
    out = []
    for p in parameters:
        months = range(1, 13) if PARAMETERS[p].period == "monthly" else (0,)
        out += [(p, m) for m in months if (p, m) not in present]
    return out


def period_text(year: int, month: int) -> str:
    return f"{year}" if month == 0 else f"{year}-{month:02d}"


_PERIOD = re.compile(r"^(\d{4})(?:-(\d{1,2}))?$")


def parse_period(text: str) -> tuple[int, int]:
    m = _PERIOD.match(text.strip())
    if not m:
        raise ValueError(text)
    year, month = int(m.group(1)), int(m.group(2) or 0)
    if not 1990 <= year <= 2100 or not 0 <= month <= 12 or (m.group(2) is not None and month == 0):
        raise ValueError(text)
    return year, month


@dataclass(frozen=True)
class Record:
    row: int
    section: str
    year: int
    month: int
    parameter: str
    value: Decimal
    flagged: bool


@dataclass
class Checked:
    records: list[Record] = field(default_factory=list)
    skipped: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, row: int, column: str, message: str, **params: Any) -> None:
        self.problems.append({"row": row, "field": column, "message": message, "params": params})


def check_rows(rows: list[dict[str, str]], sections: set[str], stored: Mapping[tuple[str, int, int, str], Decimal],
               first_row: int = 2) -> Checked:
    """Check observation rows (section, period, parameter, value, unit). Every problem is reported with its row:
    unknown section or parameter, a unit that is not the parameter's, a value that is not a number or negative,
    a period of the wrong form for the parameter, a row repeated in the file, a value that contradicts the one
    stored. A row equal to a stored one is skipped (posting a file again stores nothing twice). A value beyond
    the plausible range is stored but flagged."""
    out = Checked()
    seen: dict[tuple[str, int, int, str], int] = {}
    for i, r in enumerate(rows):
        row = first_row + i
        before = len(out.problems)
        section = str(r.get("section", "")).strip()
        code = str(r.get("parameter", "")).strip().lower()
        unit = str(r.get("unit", "")).strip()
        raw_value = str(r.get("value", "")).strip()
        raw_period = str(r.get("period", "")).strip()
        if section not in sections:
            out.problem(row, "section", N_("unknown section {section}"), section=repr(section))
        param = PARAMETERS.get(code)
        if param is None:
            out.problem(row, "parameter", N_("unknown parameter {parameter}; expected one of {expected}"),
                        parameter=repr(code), expected=", ".join(PARAMETERS))
        elif unit.lower() != param.unit.lower() and unit.lower() not in param.units:
            out.problem(row, "unit", N_("{parameter} is measured in {expected}, not {unit}"), parameter=code,
                        expected=param.unit, unit=repr(unit))
        value: Decimal | None = None
        try:
            value = Decimal(raw_value)
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            out.problem(row, "value", N_("{value} is not a number"), value=repr(raw_value))
            value = None
        if value is not None and value < 0:
            out.problem(row, "value", N_("a measured value cannot be negative ({value})"), value=raw_value)
        if value is not None and code == "flow" and value == 0:
            out.problem(row, "value", N_("a flow of zero cannot be compared with its baseline"))
        try:
            year, month = parse_period(raw_period)
        except ValueError:
            out.problem(row, "period", N_("{period} is not a period: expected YYYY-MM (a month) or YYYY (a year)"),
                        period=repr(raw_period))
            year, month = 0, -1
        if param is not None and month >= 0:
            if param.period == "monthly" and month == 0:
                out.problem(row, "period", N_("{parameter} is monitored monthly: give the month as YYYY-MM"),
                            parameter=code)
            elif param.period == "annual" and month != 0:
                out.problem(row, "period", N_("{parameter} is a yearly figure: give the year as YYYY"),
                            parameter=code)
        if len(out.problems) > before or value is None or param is None:
            continue
        key = (section, year, month, code)
        if key in seen:
            out.problem(row, "period", N_("{section} {period} {parameter} is given twice (also in row {other})"),
                        section=section, period=period_text(year, month), parameter=code, other=seen[key])
            continue
        seen[key] = row
        if key in stored:
            if stored[key] == value:
                out.skipped += 1
                continue
            out.problem(row, "value", N_("{section} {period} {parameter} is already recorded as {stored}; correct the "
                                         "stored value instead"), section=section, period=period_text(year, month),
                        parameter=code, stored=str(stored[key]))
            continue
        out.records.append(Record(row, section, year, month, code, value, value > param.plausible_max))
    return out


def data_digest(rows: Iterable[tuple[str, int, int, str, Decimal]]) -> str:
    """A digest of exactly the observations a settlement used (order does not matter)."""
    text = "\n".join(f"{s}|{y}|{m}|{p}|{v.normalize()}" for s, y, m, p, v in sorted(rows))
    return hashlib.sha256(text.encode()).hexdigest()


# -- money ------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Payout:
    """What the pool pays each side at settlement: each side staked `amount`; the payer's stake goes to the
    payee; outside money (a province's or the centre's) goes where the scheme says."""

    upstream_fen: int
    downstream_fen: int

    @property
    def total(self) -> int:
        return self.upstream_fen + self.downstream_fen


def payout(direction_: str, amount_fen: int, external_fen: int, external_to: str) -> Payout:
    if direction_ not in DIRECTIONS:
        raise InputError(N_("unknown direction {value}"), value=direction_)
    up, down = {"downstream_pays": (2 * amount_fen, 0), "upstream_pays": (0, 2 * amount_fen),
                "none": (amount_fen, amount_fen)}[direction_]
    if external_to == "upstream":
        up += external_fen
    else:
        down += external_fen
    return Payout(up, down)


SETTLEMENT_STATES = ("draft", "closed")


def can_close(gaps: list[Any], accepted: bool, state: str) -> None:
    if state == "closed":
        raise Conflict(N_("this settlement is closed already"))
    if gaps and not accepted:
        raise Conflict(N_("{count} monthly values are missing; import them or accept the gaps with a reason "
                          "before closing"), count=len(gaps))
