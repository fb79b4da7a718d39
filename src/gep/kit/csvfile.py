"""Reading a CSV file a person uploaded: UTF-8 with or without the BOM Excel writes, column names trimmed and
lower-cased, every problem a FileError naming the file (not UTF-8, a missing column with the columns expected,
not CSV at all, too many rows), so every domain's import answers the same way."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from gep.errors import N_, FileError, Problem


def read_rows(data: bytes, filename: str, required: Sequence[str], expected: Sequence[str] = (),
              max_rows: int | None = None) -> list[dict[str, str]]:
    """The rows of `data` as dicts by column name; `required` columns must be in the header, `expected` (all
    the columns the import reads) is named when one is missing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(filename, [Problem(N_("encoding"), N_("the file is not UTF-8 text"))]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise FileError(filename, [Problem(N_("header"), N_("missing columns: {columns} (expected {expected})"),
                                               columns=", ".join(missing),
                                               expected=", ".join(expected or required))])
        rows = []
        for row in reader:
            rows.append({(k or "").strip().lower(): v if isinstance(v, str) else "" for k, v in row.items()})
            if max_rows is not None and len(rows) > max_rows:
                raise FileError(filename, [Problem(N_("rows"), N_("at most {n} rows in one file"), n=max_rows)])
    except csv.Error as exc:
        raise FileError(filename, [Problem(N_("rows"), N_("not a CSV file: {error}"), error=str(exc))]) from None
    return rows
