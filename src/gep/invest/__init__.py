"""InVEST-compatible mode: run an InVEST 3.20 datastack and write InVEST's outputs under InVEST's names.

`REGISTRY` maps InVEST model ids to their `ModelSpec` (args + runner); add a model by writing its module
with a `run` function and its spec in `gep.invest.models`. Importing this package is light: a model's code
(numpy, rasterio, numba) is imported when a datastack runs it.
"""

from __future__ import annotations

from pathlib import Path

from gep.invest.datastack import Datastack, load_datastack
from gep.invest.errors import InvestCompatError
from gep.invest.models import REGISTRY
from gep.invest.spec import ModelSpec

__all__ = ["REGISTRY", "Datastack", "InvestCompatError", "ModelSpec", "load_datastack", "run_datastack"]


def run_datastack(path: Path | str, workspace: Path | str) -> dict[str, Path]:
    """Load and check the datastack, run its model into workspace; returns output id -> file."""
    from gep.invest._raster import output_compression  # rasterio: only when a model runs

    output_compression()  # a wrong GEP_INVEST_COMPRESSION is reported before any work
    stack = load_datastack(path, REGISTRY)
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    return REGISTRY[stack.model_id].run(stack.args, workspace)
