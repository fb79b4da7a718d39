"""The (sub)watershed tables as InVEST's convert_vector_to_csv writes them from its shapefiles.

Shared by AWY and SDR: the vector's own fields (names cut to 10 characters, as a shapefile stores them), then
the model's fields read back at the shapefile's precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gep.invest._vector import Vector


def dbf_value(value: float | None) -> float | None:
    """A value as InVEST reads it back from its shapefile field (width 24, 11 decimals)."""
    return None if value is None else float(f"{value:.11f}")


def _csv_cell(value: Any) -> str:
    """GDAL's CSV writer as InVEST's convert_vector_to_csv produces it from the shapefile."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return f'"{int(value)}"'
    if isinstance(value, int | np.integer):
        return f'"{int(value)}"'
    if isinstance(value, float | np.floating):
        return f"{float(value):.15f}"
    text = str(value)
    if any(c in text for c in ',"\n\r') or _looks_numeric(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def vector_csv(frame: Vector, rows: Sequence[Mapping[str, Any]]) -> str:
    """Original attribute fields (names cut to the shapefile's 10 characters), then InVEST's fields."""
    originals = list(frame.fields)
    added = list(rows[0]) if rows else []
    header = [str(c)[:10] for c in originals] + added
    lines = [",".join(header)]
    for i, row in enumerate(rows):
        cells = [_csv_cell(frame.columns[c][i]) for c in originals]
        cells += ["" if row[k] is None else f"{row[k]:.11f}" for k in added]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"
