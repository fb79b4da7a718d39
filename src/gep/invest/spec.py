"""What each InVEST model accepts, so a datastack is checked before any work starts.

`gep.invest.models` declares one `ModelSpec` per model; a spec names its runner ("module:function") instead
of holding it, so checking a datastack imports nothing heavy and running one imports only that model's code
(numpy, rasterio, numba: a quarter of a small run's time goes to imports).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Runner = Callable[[Mapping[str, Any], Path], dict[str, Path]]

# Args every InVEST model accepts and that do not change results (n_workers only changes scheduling).
COMMON_ARGS = frozenset({"workspace_dir", "results_suffix", "n_workers"})


@dataclass(frozen=True)
class ModelSpec:
    """The args of one InVEST model: which exist, which are needed, which we refuse and why."""

    model_id: str
    pyname: str
    runner: str  # "module:function", a Runner imported when the model runs
    required: frozenset[str]
    optional: frozenset[str]
    paths: frozenset[str]
    # args InVEST 3.20 accepts but this mode does not implement: arg -> reason (refused when set non-empty)
    unsupported: Mapping[str, str] = field(default_factory=dict)

    def run(self, args: Mapping[str, Any], workspace: Path) -> dict[str, Path]:
        """Import the model's code and run it into workspace."""
        module, _, name = self.runner.partition(":")
        runner: Runner = getattr(importlib.import_module(module), name)
        return runner(args, workspace)

    @property
    def known(self) -> frozenset[str]:
        """Every arg name InVEST 3.20 accepts for this model."""
        return COMMON_ARGS | self.required | self.optional | frozenset(self.unsupported)


def is_set(value: Any) -> bool:
    """InVEST treats None, '' and whitespace-only strings as 'not given'."""
    if value is None:
        return False
    return not (isinstance(value, str) and not value.strip())


def suffix(args: Mapping[str, Any]) -> str:
    """InVEST's file suffix: '' or '_' + results_suffix (no doubled underscore)."""
    raw = args.get("results_suffix")
    if not is_set(raw):
        return ""
    text = str(raw)
    return text if text.startswith("_") else f"_{text}"


def with_suffix(name: str, sfx: str) -> str:
    """'c_storage_bas.tif' + '_x' -> 'c_storage_bas_x.tif', as InVEST names its outputs."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}{sfx}.{ext}" if dot else f"{name}{sfx}"
