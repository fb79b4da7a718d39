"""Method profiles: which indicators to account and every parameter and price, each with its source.

A profile is a TOML file in this folder. `extends` names a profile whose parameters it inherits. Every
parameter carries value, unit, source and a verified flag (METHODS.md says which values no source confirms);
prices carry the year they are quoted in, so they can be moved to any price year with the price index.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from gep.errors import N_, MethodError

Value = float | dict[str, float]


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


def parse_parameter(pid: str, raw: dict[str, Any], where: str) -> Parameter:
    """Build a Parameter from a TOML table, naming the file and key in any error."""
    missing = [k for k in ("value", "unit", "source") if k not in raw]
    if missing:
        raise MethodError(N_("{source}: parameter {parameter} lacks {fields}"), source=where, parameter=repr(pid),
                          fields=", ".join(missing))
    value = raw["value"]
    if isinstance(value, dict):
        bad = [k for k, v in value.items() if not isinstance(v, int | float)]
        if bad:
            raise MethodError(N_("{source}: parameter {parameter} has non-numeric entries for {keys}"), source=where,
                              parameter=repr(pid), keys=str(bad))
        value = {k: float(v) for k, v in value.items()}
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)
    else:
        raise MethodError(N_("{source}: parameter {parameter} value must be a number or a table, got {value}"),
                          source=where, parameter=repr(pid), value=repr(value))
    return Parameter(
        id=pid,
        value=value,
        unit=str(raw["unit"]),
        source=str(raw["source"]),
        verified=bool(raw.get("verified", False)),
        year=int(raw["year"]) if "year" in raw else None,
        note=str(raw.get("note", "")),
    )


def load_profile(name_or_path: str) -> MethodProfile:
    """Load a shipped profile by id (`national-2022`) or a TOML file by path, following `extends`."""
    data, where = _read_toml(name_or_path)
    head = data.get("profile", {})
    parent = load_profile(head["extends"]) if "extends" in head else None
    params = dict(parent.parameters) if parent else {}
    for pid, raw in data.get("parameters", {}).items():
        params[pid] = parse_parameter(pid, raw, where)
    index_raw = data.get("price_index")
    if index_raw:
        index = PriceIndex(
            values={int(k): float(v) for k, v in index_raw["values"].items()},
            source=str(index_raw.get("source", "")),
            verified=bool(index_raw.get("verified", False)),
        )
    elif parent:
        index = parent.price_index
    else:
        index = PriceIndex({}, "", False)
    if "indicators" not in head and not parent:
        raise MethodError(N_("{source}: [profile] must list `indicators`"), source=where)
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
    )
