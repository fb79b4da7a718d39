"""InVEST-style CSV tables: case-insensitive headers, an integer key column, numeric value columns.

Read with the csv module (pandas would take longer to import than a small model run takes): the separator is
sniffed from the header line as pandas' `sep=None` does, headers are stripped and lower-cased as InVEST does,
blank rows are skipped.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gep.invest.errors import InvestCompatError


@dataclass(frozen=True)
class Table(Mapping[str, dict[int, float]]):
    """Numeric columns keyed by the integer key column, rows in file order: `table["kc"][lucode]`."""

    index: tuple[int, ...]
    columns: dict[str, dict[int, float]]

    def __getitem__(self, column: str) -> dict[int, float]:
        return self.columns[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)


def _number(text: str) -> float | None:
    """A cell as a finite-or-infinite float, None when empty or not a number (pandas' to_numeric coercion)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) else value


def _rows(path: Path | str, label: str) -> list[list[str]]:
    """The file's non-blank rows, split with the separator sniffed from its first line."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvestCompatError(f"{label}: cannot read table {path}: {exc}") from exc
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first)
    except csv.Error:
        dialect = csv.excel  # one column: nothing to sniff
    try:
        rows = list(csv.reader(text.splitlines(), delimiter=dialect.delimiter, quotechar=dialect.quotechar or '"'))
    except csv.Error as exc:
        raise InvestCompatError(f"{label}: cannot read table {path}: {exc}") from exc
    return [row for row in rows if any(cell.strip() for cell in row)]


def read_table(path: Path | str, label: str, index_col: str, columns: Sequence[str]) -> Table:
    """Read a table indexed by an integer key, with the named numeric columns; problems name the file and column."""
    rows = _rows(path, label)
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    missing = [c for c in (index_col, *columns) if c not in header]
    if missing:
        raise InvestCompatError(f"{label} ({path}): missing column(s) {', '.join(missing)}")
    position = {name: header.index(name) for name in (index_col, *columns)}

    def cell(row: list[str], name: str) -> str:
        i = position[name]
        return row[i].strip() if i < len(row) else ""

    keys: list[int] = []
    for row in rows[1:]:
        key = _number(cell(row, index_col))
        if key is None or not math.isfinite(key) or key % 1 != 0:
            raise InvestCompatError(f"{label} ({path}): column {index_col} must hold integers")
        keys.append(int(key))
    dupes = sorted(k for k, n in Counter(keys).items() if n > 1)
    if dupes:
        raise InvestCompatError(f"{label} ({path}): duplicate {index_col} values {dupes}")
    out: dict[str, dict[int, float]] = {}
    for col in columns:
        values = [_number(cell(row, col)) for row in rows[1:]]
        bad = [k for k, v in zip(keys, values, strict=True) if v is None]
        if bad:
            raise InvestCompatError(f"{label} ({path}): column {col} is not a number for {index_col} {bad}")
        out[col] = {k: float(v) for k, v in zip(keys, values, strict=True) if v is not None}
    return Table(tuple(keys), out)
