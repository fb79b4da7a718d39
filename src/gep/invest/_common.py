"""Small helpers shared by the model runners: arg coercion and pygeoprocessing's raster_map rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gep.invest.errors import InvestCompatError
from gep.invest.spec import is_set


def as_bool(args: Mapping[str, Any], key: str) -> bool:
    """A boolean arg as InVEST reads it: true/false strings, 0/1 numbers, missing or empty is False."""
    value = args.get(key)
    if not is_set(value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise InvestCompatError(f"{key}: expected true or false, got {value!r}")


def as_float(args: Mapping[str, Any], key: str) -> float:
    """A required number arg; a clear error names the arg when it is missing or not a number."""
    value: Any = args.get(key)
    if not is_set(value):
        raise InvestCompatError(f"{key} is required here but was not given")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InvestCompatError(f"{key}: expected a number, got {value!r}") from exc


def raster_map(op: Callable[..., np.ndarray], arrays: Sequence[tuple[np.ndarray, float | None]],
               target_nodata: float, equals: Callable[[np.ndarray, float | None], np.ndarray]) -> np.ndarray:
    """pygeoprocessing.raster_map's rule: op runs only where no input is nodata; elsewhere target_nodata.

    The result dtype is numpy's result type of the inputs, as pygeoprocessing chooses it.
    """
    dtype = np.result_type(*[a.dtype for a, _ in arrays])
    valid = np.ones(arrays[0][0].shape, dtype=bool)
    for array, nodata in arrays:
        valid &= ~equals(array, nodata)
    out = np.full(valid.shape, target_nodata, dtype=dtype)
    out[valid] = op(*[a[valid] for a, _ in arrays])
    return out
