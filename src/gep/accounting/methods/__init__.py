"""Method profiles: which indicators to account and every parameter and price, each with its source.

A profile is a TOML file in this folder. `extends` names a profile whose parameters it inherits. Every
parameter carries value, unit, source and a verified flag (METHODS.md says which values no source confirms);
prices carry the year they are quoted in, so they can be moved to any price year with the price index.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from gep.errors import N_, MethodError, Phrase, Problem, ProblemsError

Value = float | dict[str, float]

# What the sources say of a value (../shared/PARAMETER-SOURCES.md): a publication gives it, only public code
# has it, or no source was found (a placeholder). `verified` is true for "published".
STATUSES = ("published", "public_code", "not_found")


@dataclass(frozen=True)
class Parameter:
    id: str
    value: Value
    unit: str
    source: str
    verified: bool
    year: int | None = None
    note: str = ""
    overridden_by: str = ""  # set when a region package overrides the profile's value
    status: str = ""  # one of STATUSES ("" only for parameters written before statuses existed)
    range: tuple[float, float] | None = None  # plausible low/high; for a table, a factor applied to every entry
    range_reason: str = ""  # why the range is what it is (its source, or [DERIVED] with the reasoning)

    @property
    def relative_range(self) -> bool:
        """A table's range is a factor on all its entries at once (they share the same evidence)."""
        return isinstance(self.value, dict)

    def scaled(self, x: float) -> Parameter:
        """This parameter with a sampled value: a scalar replaced by x, a table multiplied by x."""
        if isinstance(self.value, dict):
            return replace(self, value={k: v * x for k, v in self.value.items()})
        return replace(self, value=float(x))

    def range_text(self) -> str:
        if self.range is None:
            return ""
        lo, hi = self.range
        return f"×{lo:g}–{hi:g}" if self.relative_range else f"{lo:g}–{hi:g}"

    def scalar(self) -> float:
        if isinstance(self.value, dict):
            raise MethodError(N_("parameter {parameter} is a table by ecosystem, not a single value"),
                              parameter=self.id)
        return float(self.value)

    def table(self) -> dict[str, float]:
        if not isinstance(self.value, dict):
            raise MethodError(N_("parameter {parameter} is a single value, not a table by ecosystem"),
                              parameter=self.id)
        return {k: float(v) for k, v in self.value.items()}


@dataclass(frozen=True)
class PriceIndex:
    values: dict[int, float]
    source: str
    verified: bool

    def factor(self, from_year: int, to_year: int, error: str, **params: Any) -> float:
        """Multiply a price of `from_year` by this to express it in `to_year` prices.

        `error` is the whole template of the MethodError raised when the index lacks either year (the caller
        names what is being moved, over `params`); it also gets `years`, the missing ones, and `covers`.
        """
        if from_year == to_year:
            return 1.0
        missing = [y for y in (from_year, to_year) if y not in self.values]
        if missing:
            covers = f"{min(self.values)}–{max(self.values)}" if self.values else "none"
            raise MethodError(error, **params, years=", ".join(map(str, missing)), covers=covers)
        return self.values[to_year] / self.values[from_year]


@dataclass(frozen=True)
class MethodProfile:
    id: str
    name_zh: str
    name_en: str
    description: str
    indicators: tuple[str, ...]
    parameters: dict[str, Parameter]
    price_index: PriceIndex
    files: tuple[str, ...] = field(default=())
    variants: dict[str, str] = field(default_factory=dict)  # indicator id -> alternative method
    value_items: dict[str, ValueItem] = field(default_factory=dict)  # statistics-based items the catalogue lacks

    def param(self, pid: str) -> Parameter:
        try:
            return self.parameters[pid]
        except KeyError:
            raise MethodError(N_("method profile {method} has no parameter {parameter}"), method=self.id,
                              parameter=repr(pid)) from None

    def with_overrides(self, overrides: dict[str, Parameter]) -> MethodProfile:
        """A copy whose parameters are replaced by a region's overrides (recorded on each parameter)."""
        params = dict(self.parameters)
        params.update(overrides)
        return replace(self, parameters=params)


def available_profiles() -> list[str]:
    """Ids of the profiles shipped with gep."""
    folder = resources.files(__package__)
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def _read_toml(name_or_path: str) -> tuple[dict[str, Any], str]:
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
    res = resources.files(__package__) / f"{name_or_path}.toml"
    if not res.is_file():
        raise MethodError(N_("unknown method profile {method}; available: {available}"), method=repr(name_or_path),
                          available=", ".join(available_profiles()))
    return tomllib.loads(res.read_text(encoding="utf-8")), f"{name_or_path}.toml"


class ProfileError(ProblemsError, MethodError):
    """A method profile (or a region's parameter overrides) with one or more problems, listed at once."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        super().__init__(N_("{source} has {count} problem(s)"), problems, source=source)


PARAMETER_KEYS = ("value", "unit", "source", "verified", "year", "note", "status", "range", "range_reason")


def parse_parameter(pid: str, raw: dict[str, Any], where: str) -> Parameter:
    """Build a Parameter from a TOML table, naming the file and key in any error (all of its problems at once)."""
    problems = parameter_problems(pid, raw, where)
    if problems:
        raise ProfileError(where, problems)
    raw_value = raw["value"]
    value: Value = {k: float(v) for k, v in raw_value.items()} if isinstance(raw_value, dict) else float(raw_value)
    status = str(raw.get("status", "published" if raw.get("verified") else ""))
    bounds = raw.get("range")
    return Parameter(
        id=pid,
        value=value,
        unit=str(raw["unit"]),
        source=str(raw["source"]),
        verified=bool(raw.get("verified", status == "published")),
        year=int(raw["year"]) if "year" in raw else None,
        note=str(raw.get("note", "")),
        status=status,
        range=(float(bounds[0]), float(bounds[1])) if bounds is not None else None,
        range_reason=str(raw.get("range_reason", "")),
    )


PARAM_AT = N_("{source} [parameters.{parameter}]")  # where a parameter's problem is


def parameter_problems(pid: str, raw: Any, where: str) -> list[Problem]:
    """Everything wrong with one parameter's TOML table, each a Problem naming the file and the parameter."""
    at = {"source": where, "parameter": pid}
    if not isinstance(raw, dict):
        return [Problem(PARAM_AT, N_("expected a table with value, unit and source, got {value}"), **at,
                        value=repr(raw))]
    problems = []
    missing = [k for k in ("value", "unit", "source") if k not in raw]
    if missing:
        problems.append(Problem(PARAM_AT, N_("lacks {fields}"), **at, fields=", ".join(missing)))
    for key in raw:
        if key not in PARAMETER_KEYS:
            problems.append(Problem(PARAM_AT, N_("unknown key {key}{suggestion}; known keys: {known}"), **at,
                                    key=repr(key), suggestion=suggest(key, PARAMETER_KEYS),
                                    known=", ".join(PARAMETER_KEYS)))
    value = raw.get("value")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(value, dict):
        bad = [k for k, v in value.items() if not isinstance(v, int | float) or isinstance(v, bool)]
        if bad:
            problems.append(Problem(PARAM_AT, N_("non-numeric entries for {keys}"), **at, keys=str(bad)))
        elif any(not math.isfinite(v) for v in value.values()):
            problems.append(Problem(PARAM_AT, N_("entries must be finite numbers"), **at))
    elif "value" in raw and not numeric:
        problems.append(Problem(PARAM_AT, N_("value must be a number or a table, got {value}"), **at,
                                value=repr(value)))
    elif numeric and not math.isfinite(float(value)):  # type: ignore[arg-type]
        problems.append(Problem(PARAM_AT, N_("value must be a finite number, got {value}"), **at, value=repr(value)))
    if "status" in raw and "verified" in raw and raw["verified"] != (raw["status"] == "published"):
        problems.append(Problem(PARAM_AT, N_("verified = {verified} contradicts status {status} (verified means "
                                             "a publication gives the value)"), **at,
                                verified=str(raw["verified"]).lower(), status=repr(raw["status"])))
    if "status" in raw and raw["status"] not in STATUSES:
        problems.append(Problem(PARAM_AT, N_("status {status} is not one of {known}"), **at,
                                status=repr(raw["status"]), known=", ".join(STATUSES)))
    bounds = raw.get("range")
    if bounds is not None:
        ok = (isinstance(bounds, list) and len(bounds) == 2
              and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds))
        if not ok or bounds[0] > bounds[1]:
            problems.append(Problem(PARAM_AT, N_("range must be [low, high] with low <= high, got {range}"), **at,
                                    range=repr(bounds)))
        elif numeric and not bounds[0] <= value <= bounds[1]:
            problems.append(Problem(PARAM_AT, N_("value {value} lies outside its range {range}"), **at,
                                    value=repr(value), range=repr(bounds)))
        elif isinstance(value, dict) and not bounds[0] <= 1 <= bounds[1]:
            problems.append(Problem(PARAM_AT, N_("a table's range is a factor on all its entries and must include 1, "
                                                 "got {range}"), **at, range=repr(bounds)))
        if "range_reason" not in raw:
            problems.append(Problem(PARAM_AT, N_("range has no range_reason: say where the range comes from"), **at))
    return problems


def suggest(word: str, choices: Any) -> Phrase:
    """ ' (did you mean X?)' when a known word is close to a mistyped one, else '' (translated with its message)."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return Phrase(N_(" (did you mean {close}?)"), close=repr(close[0])) if close else Phrase("")


PROFILE_KEYS = ("id", "extends", "name_zh", "name_en", "description", "indicators", "variants")
TOP_KEYS = ("profile", "parameters", "price_index", "value_items")
VALUE_ITEM_KEYS = ("category", "name_zh", "name_en", "unit", "source", "note", "proxy")
CATEGORIES = ("material", "regulating", "cultural")


@dataclass(frozen=True)
class ValueItem:
    """A value the catalogue lacks, declared by a profile: its figures come from the statistics
    (`value_item.<id>`), as a quantity priced by the parameter `<id>.price`, or as a value in yuan directly."""

    id: str
    category: str
    name_zh: str
    name_en: str
    unit: str  # a quantity unit (t, m3, kWh, m2, person-time, person) or "yuan" for a value given directly
    source: str
    note: str = ""
    proxy: tuple[str, ...] = ()  # ecosystem groups or ids whose area spreads a figure to lower zones

    @property
    def statistics_item(self) -> str:
        return f"value_item.{self.id}"

    @property
    def price_parameter(self) -> str | None:
        return None if self.unit == "yuan" else f"{self.id}.price"


def _unknown_keys(table: Any, known: tuple[str, ...], where: str) -> list[Problem]:
    if not isinstance(table, dict):
        return [Problem("{source}", N_("expected a table, got {value}"), source=where, value=repr(table))]
    return [Problem("{source}", N_("unknown key {key}{suggestion}; known keys: {known}"), source=where,
                    key=repr(k), suggestion=suggest(k, known), known=", ".join(known))
            for k in table if k not in known]


def _value_items(data: dict[str, Any], where: str, problems: list[Problem]) -> dict[str, ValueItem]:
    from gep.accounting.catalogue import QUANTITY_UNITS, canonical_unit
    from gep.accounting.indicators import REGISTRY

    items = {}
    for iid, raw in data.get("value_items", {}).items():
        at = f"{where} [value_items.{iid}]"
        found = _unknown_keys(raw, VALUE_ITEM_KEYS, at)
        if not isinstance(raw, dict):
            problems += found
            continue
        missing = [k for k in ("category", "name_zh", "unit", "source") if k not in raw]
        if missing:
            found.append(Problem("{source}", N_("lacks {fields}"), source=at, fields=", ".join(missing)))
        if iid in REGISTRY:
            found.append(Problem("{source}", N_("{item} is already an indicator of the catalogue; give it another "
                                                "id, or give its quantity as quantity.{item}.<sub-indicator>"),
                                 source=at, item=iid))
        if "category" in raw and raw["category"] not in CATEGORIES:
            found.append(Problem("{source}", N_("category {category} is not one of {known}"), source=at,
                                 category=repr(raw["category"]), known=", ".join(CATEGORIES)))
        unit = canonical_unit(str(raw.get("unit", ""))) or ""
        if "unit" in raw and unit not in (*QUANTITY_UNITS, "yuan"):
            found.append(Problem("{source}", N_("unit {unit} is not a quantity unit ({known}) or yuan (a value given "
                                                "directly)"), source=at, unit=repr(raw["unit"]),
                                 known=", ".join(QUANTITY_UNITS)))
        problems += found
        if found:
            continue
        proxy = raw.get("proxy", ["forest", "shrub", "grassland", "wetland", "cropland", "urban", "bare"])
        items[iid] = ValueItem(iid, str(raw["category"]), str(raw["name_zh"]), str(raw.get("name_en", raw["name_zh"])),
                               unit, str(raw["source"]), str(raw.get("note", "")),
                               tuple(proxy) if isinstance(proxy, list) else (str(proxy),))
    return items


def load_profile(name_or_path: str) -> MethodProfile:
    """Load a shipped profile by id (`national-2022`) or a TOML file by path, following `extends`; every problem
    of the file (unknown keys with a suggestion, malformed parameters and value items) is named at once."""
    data, where = _read_toml(name_or_path)
    problems = _unknown_keys(data, TOP_KEYS, where)
    head = data.get("profile", {})
    problems += _unknown_keys(head, PROFILE_KEYS, f"{where} [profile]")
    parent = load_profile(head["extends"]) if "extends" in head else None
    params = dict(parent.parameters) if parent else {}
    for pid, raw in data.get("parameters", {}).items():
        try:
            params[pid] = parse_parameter(pid, raw, where)
        except ProfileError as exc:
            problems += exc.problems
    index_raw = data.get("price_index")
    index = parent.price_index if parent else PriceIndex({}, "", False)
    if index_raw:
        problems += _unknown_keys(index_raw, ("values", "source", "verified"), f"{where} [price_index]")
        try:
            values = {int(k): float(v) for k, v in index_raw["values"].items()}
            if any(not math.isfinite(v) or v <= 0 for v in values.values()):
                raise ValueError
            index = PriceIndex(values, str(index_raw.get("source", "")), bool(index_raw.get("verified", False)))
        except (KeyError, ValueError, TypeError, AttributeError):
            problems.append(Problem("{source}", N_("values must be a table of year = positive index value, e.g. "
                                                   "{example}"), source=f"{where} [price_index]",
                                    example="values = { 2010 = 100.0, 2020 = 128.07 }"))
    if "indicators" not in head and not parent:
        problems.append(Problem("{source}", N_("[profile] must list `indicators` (or `extends` a profile that does)"),
                                source=where))
    value_items = {**(parent.value_items if parent else {}), **_value_items(data, where, problems)}
    if problems:
        raise ProfileError(where, problems)
    return MethodProfile(
        id=str(head.get("id", Path(where).stem)),
        name_zh=str(head.get("name_zh", "")),
        name_en=str(head.get("name_en", "")),
        description=str(head.get("description", "")),
        indicators=tuple(head.get("indicators", parent.indicators if parent else ())),
        parameters=params,
        price_index=index,
        files=(*(parent.files if parent else ()), where),
        variants={**(parent.variants if parent else {}),
                  **{str(k): str(v) for k, v in head.get("variants", {}).items()}},
        value_items=value_items,
    )
