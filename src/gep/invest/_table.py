"""InVEST-style CSV tables: case-insensitive headers, an integer key column, numeric value columns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from gep.invest.errors import InvestCompatError


def read_table(path: Path | str, label: str, index_col: str, columns: Sequence[str]) -> pd.DataFrame:
    """Read a table indexed by an integer key, with the named numeric columns; problems name the file and column.

    InVEST lower-cases and strips headers and sniffs the separator, so the same files load here.
    """
    try:
        frame = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvestCompatError(f"{label}: cannot read table {path}: {exc}") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    frame = frame.dropna(how="all")
    missing = [c for c in (index_col, *columns) if c not in frame.columns]
    if missing:
        raise InvestCompatError(f"{label} ({path}): missing column(s) {', '.join(missing)}")
    try:
        keys = pd.to_numeric(frame[index_col], errors="raise")
    except (ValueError, TypeError) as exc:
        raise InvestCompatError(f"{label} ({path}): column {index_col} must hold integers") from exc
    if keys.isna().any() or (keys % 1 != 0).any():
        raise InvestCompatError(f"{label} ({path}): column {index_col} must hold integers")
    frame.index = pd.Index(keys.astype("int64"), name=index_col)
    dupes = sorted({int(k) for k in frame.index[frame.index.duplicated()]})
    if dupes:
        raise InvestCompatError(f"{label} ({path}): duplicate {index_col} values {dupes}")
    out = pd.DataFrame(index=frame.index)
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = frame.index[values.isna()].tolist()
        if bad:
            raise InvestCompatError(f"{label} ({path}): column {col} is not a number for {index_col} {bad}")
        out[col] = values.astype("float64")
    return out
