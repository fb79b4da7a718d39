"""Statistics tables by zone code and year, and their allocation down to the lowest level.

A figure is published for some zone at some level. Figures given for children are used as they are;
what the parent's figure leaves over is spread over the remaining children in proportion to a proxy
(an ecosystem area). The result is per lowest-level zone, so every level above sums exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gep.accounting.catalogue import (
    CARBON_OUTPUTS,
    CARBON_QUANTITY_UNITS,
    OTHER_UNIT,
    QUANTITY_UNITS,
    ROW,
    UNKNOWN_UNIT,
    VALUE_UNITS,
    UnitError,
    canonical_unit,
    convert_factor,
    item_spec,
)
from gep.accounting.zones import Zones
from gep.errors import N_, InputError, Problem

REQUIRED_COLUMNS = ("zone_code", "year", "item", "value", "unit")
_UNIT_PROBLEMS = {  # a UnitError's template -> the same sentence about a table's unit column
    UNKNOWN_UNIT: N_("column unit: unknown unit {unit}; expected {expected} or one of its multiples for item {item}"),
    OTHER_UNIT: N_("column unit: unit {unit} is {canonical}, expected {expected} for item {item}"),
}


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8) or the first sheet of an XLSX as strings, keeping codes' leading zeros."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path, dtype=str)
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig")


def _check_row(row: pd.Series, file: str, line: int,
               zone_levels: dict[str, str]) -> tuple[list[Problem], float | None, str]:
    problems: list[Problem] = []

    def problem(message: str, **params: object) -> None:
        problems.append(Problem(ROW, message, file=file, row=line, **params))

    item = str(row["item"]).strip()
    spec = item_spec(item)
    if spec is None:
        problem(N_("column item: unknown item {item} (see docs/region-package.md)"), item=repr(item))
    if str(row["zone_code"]).strip() not in zone_levels:
        problem(N_("column zone_code: zone {zone} does not exist in the zones"), zone=repr(row["zone_code"]))
    try:
        int(str(row["year"]).strip())
    except ValueError:
        problem(N_("column year: {value} is not a year"), value=repr(row["year"]))
    try:
        value = float(str(row["value"]).replace(",", ""))
        if np.isnan(value):
            raise ValueError
    except ValueError:
        problem(N_("column value: {value} is not a number"), value=repr(row["value"]))
        return problems, None, ""
    unit = str(row["unit"]).strip()
    canonical = ""
    if spec is not None:
        is_product = spec.unit == "*"
        if value < 0 and spec.is_price:
            problem(N_("column value: negative price {value} for {item}; expected >= 0"), value=value, item=item)
        elif value < 0:
            problem(N_("column value: negative value {value} for {item}; expected >= 0"), value=value, item=item)
        if is_product and not spec.is_price:
            if item in (f"quantity.{o}" for o in CARBON_OUTPUTS) and unit.lower() in CARBON_QUANTITY_UNITS:
                return problems, value * CARBON_QUANTITY_UNITS[unit.lower()], "t"  # t C -> t CO₂ (× 44/12)
            canonical = canonical_unit(unit) or ""
            allowed = VALUE_UNITS if item.startswith(("value_item.", "quantity.")) else QUANTITY_UNITS
            if canonical not in allowed:
                problem(N_("column unit: {unit} is not a quantity unit for {item}; expected one of {units} or a "
                           "multiple"), unit=repr(unit), item=item, units=", ".join(allowed))
                return problems, None, ""
            return problems, value * convert_factor(unit, canonical), canonical
        if is_product and spec.is_price:
            canonical = canonical_unit(unit) or ""
            if not canonical.startswith("yuan/"):
                problem(N_("column unit: {unit} is not a price unit (yuan/...) for {item}"), unit=repr(unit), item=item)
                return problems, None, ""
            return problems, value * convert_factor(unit, canonical), canonical
        try:
            value *= convert_factor(unit, spec.unit)
            canonical = spec.unit
        except UnitError as exc:
            problem(_UNIT_PROBLEMS[exc.template], item=item, **exc.params)
    return problems, value, canonical


@dataclass
class Statistics:
    """Validated figures: zone_code, level, year, item, value (canonical unit), unit, source, synthetic."""

    frame: pd.DataFrame

    @classmethod
    def load(cls, paths: list[Path], zones: Zones, root: Path) -> tuple[Statistics, list[Problem]]:
        zone_levels = zones.all_codes()
        problems: list[Problem] = []
        rows = []
        for path in paths:
            rel = path.relative_to(root) if path.is_relative_to(root) else path
            try:
                table = read_table(path)
            except (OSError, ValueError) as exc:
                problems.append(Problem("{file}", N_("cannot read: {detail}"), file=str(rel),
                                        detail=str(exc).replace(str(path), str(rel))))
                continue
            missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
            if missing:
                problems.append(Problem("{file}", N_("missing column(s) {columns}; expected {expected}"), file=str(rel),
                                        columns=", ".join(missing), expected=", ".join(REQUIRED_COLUMNS)))
                continue
            for i, row in table.iterrows():
                line = int(str(i)) + 2  # +1 for the header, +1 for 1-based rows
                found, value, unit = _check_row(row, str(rel), line, zone_levels)
                problems += found
                if not found and value is not None:
                    code = str(row["zone_code"]).strip()
                    rows.append({
                        "zone_code": code, "level": zone_levels[code], "year": int(str(row["year"]).strip()),
                        "item": str(row["item"]).strip(), "value": value, "unit": unit,
                        "source": str(row.get("source", "") or ""),
                        "synthetic": str(row.get("synthetic", "")).strip().lower() in ("true", "1", "yes"),
                        "where": ROW.format(file=rel, row=line), "file": str(rel), "row": line,
                    })
        frame = pd.DataFrame(rows, columns=["zone_code", "level", "year", "item", "value", "unit", "source",
                                            "synthetic", "where", "file", "row"])
        dup = frame[frame.duplicated(["zone_code", "year", "item"], keep=False)]
        for _, group in dup.groupby(["zone_code", "year", "item"]):
            first, second = group.iloc[0], group.iloc[1]
            problems.append(Problem(ROW, N_("duplicate figure for zone {zone}, year {year}, item {item} "
                                            "(also {first_file}, row {first_row})"),
                                    file=str(second["file"]), row=int(second["row"]), zone=str(first["zone_code"]),
                                    year=int(first["year"]), item=str(first["item"]), first_file=str(first["file"]),
                                    first_row=int(first["row"])))
        return cls(frame), problems

    def for_year(self, year: int) -> Statistics:
        return Statistics(self.frame[self.frame["year"] == year])

    def items(self, prefix: str = "") -> list[str]:
        return sorted(i for i in self.frame["item"].unique() if i.startswith(prefix))

    def has(self, item: str) -> bool:
        return bool((self.frame["item"] == item).any())

    def figures(self, item: str) -> pd.DataFrame:
        return self.frame[self.frame["item"] == item]

    def allocate(self, item: str, zones: Zones, proxy: pd.Series,
                 equal: list[str] | None = None) -> tuple[pd.Series, str]:
        """Spread an item's figures to the lowest level; returns (per-zone values, levels the figures came from).
        The codes of zones whose figure was split equally (no proxy anywhere below) are appended to `equal`."""
        figures = self.figures(item)
        given = dict(zip(figures["zone_code"], figures["value"], strict=True))
        levels = sorted(set(figures["level"]), key=list(zones.levels).index)
        return allocate(given, zones, proxy, item, equal), "+".join(levels)


def allocate(given: dict[str, float], zones: Zones, proxy: pd.Series, what: str,
             equal: list[str] | None = None) -> pd.Series:
    """Top-down allocation of figures at any levels to the lowest level, in proportion to `proxy`.

    Within a zone with a figure, the nearest figures given further down (a township's, or a village's where
    its township has none) are used as they are; what the zone's figure leaves over is spread, by proxy, over
    the lowest-level zones that no such figure covers (equally where their proxy is all zero). Figures below
    that exceed their parent's, or that leave a remainder with nowhere to go, are input errors.
    """
    frame = zones.frame
    lowest_codes = frame[f"{zones.lowest}_code"].to_numpy()
    weights = proxy.reindex(lowest_codes).fillna(0.0).to_numpy(dtype=np.float64)
    result = np.zeros(len(frame), dtype=np.float64)
    codes_by_level = [frame[f"{lv}_code"].to_numpy() for lv in zones.levels]
    # which rows' zone at each level has a figure (once: np.isin on strings is slow for 25,000 villages)
    figured = [np.fromiter((c in given for c in codes), dtype=bool, count=len(codes)) for codes in codes_by_level]

    def spread(rows: np.ndarray, amount: float, code: str) -> None:
        w = weights[rows]
        if w.sum() <= 0:
            w = np.ones(len(rows))
            if equal is not None and amount != 0 and len(rows) > 1:
                equal.append(code)
        result[rows] += amount * w / w.sum()

    def visit(level_i: int, rows: np.ndarray, amount: float | None, code: str) -> None:
        covered: dict[str, tuple[int, np.ndarray]] = {}
        free = np.ones(len(rows), dtype=bool)
        for lv in range(level_i + 1, len(zones.levels)):  # nearest figure below, per lowest-level zone
            level_codes = codes_by_level[lv][rows]
            hit = free & figured[lv][rows]
            for c in np.unique(level_codes[hit]):
                covered[str(c)] = (lv, rows[hit & (level_codes == c)])
            free &= ~hit
        if amount is not None:
            below = sum(given[c] for c in covered)
            rest = amount - below
            tol = 1e-6 * max(abs(amount), 1.0)
            names = ", ".join(sorted(covered))
            if rest < -tol:
                raise InputError(N_("statistics {item}: the figures of {names} ({below:,.2f}) exceed the figure of "
                                    "{code} ({amount:,.2f}) above them"),
                                 item=what, names=names, below=float(below), code=code, amount=float(amount))
            if free.any():
                spread(rows[free], rest, code)
            elif rest > tol:
                raise InputError(N_("statistics {item}: the figures of {names} ({below:,.2f}) fall short of the "
                                    "figure of {code} ({amount:,.2f}) and no zone below it is left to take the rest"),
                                 item=what, names=names, below=float(below), code=code, amount=float(amount))
        for c, (lv, sub_rows) in covered.items():
            if lv == len(zones.levels) - 1:
                result[sub_rows] += given[c]
            else:
                visit(lv, sub_rows, given[c], c)

    top_codes = codes_by_level[0]
    for top in np.unique(top_codes):
        rows = np.flatnonzero(top_codes == top)
        amount = given.get(str(top))
        if amount is not None and len(zones.levels) == 1:
            result[rows] += amount
        else:
            visit(0, rows, amount, str(top))
    return pd.Series(result, index=pd.Index(lowest_codes, name="zone_code"))
