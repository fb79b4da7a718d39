"""InVEST-compatible mode: run an InVEST 3.20 datastack and write InVEST's outputs under InVEST's names.

`REGISTRY` maps InVEST model ids to their `ModelSpec` (args + runner); add a model by writing its module
with a `SPEC` and listing it here.
"""

from __future__ import annotations

from pathlib import Path

from gep.invest import annual_water_yield, carbon, sdr
from gep.invest.datastack import Datastack, load_datastack
from gep.invest.errors import InvestCompatError
from gep.invest.spec import ModelSpec

REGISTRY: dict[str, ModelSpec] = {spec.model_id: spec for spec in (carbon.SPEC, annual_water_yield.SPEC, sdr.SPEC)}

__all__ = ["REGISTRY", "Datastack", "InvestCompatError", "ModelSpec", "load_datastack", "run_datastack"]


def run_datastack(path: Path | str, workspace: Path | str) -> dict[str, Path]:
    """Load and check the datastack, run its model into workspace; returns output id -> file."""
    stack = load_datastack(path, REGISTRY)
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    return REGISTRY[stack.model_id].run(stack.args, workspace)
