"""numba started without its scipy BLAS probe in gep's own processes (gep.accounting.jit).

Each case runs in a fresh interpreter: the probe happens once per process, at numba's first use.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

FIRST_KERNEL = """
import sys
import numpy as np
from gep.invest._fast import snap_to_gdal_nodata
a = np.array([[1.0, -1.0000000001]], dtype=np.float64)
snap_to_gdal_nodata(a, -1.0)
print(a[0, 1], "scipy.linalg.cython_blas" in sys.modules)
"""

needs_scipy = pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="scipy is not installed")


def _run(code: str, blas: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "GEP_NUMBA_BLAS"}
    if blas is not None:
        env["GEP_NUMBA_BLAS"] = blas
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@needs_scipy
def test_gep_processes_skip_the_probe_and_kernels_still_run() -> None:
    """With the variable, scipy.linalg is never imported for a kernel, and the kernel gives its answer."""
    value, imported = _run(FIRST_KERNEL, "off")
    assert float(value) == -1.0  # the pixel within GDAL's tolerance was snapped to the nodata value
    assert imported == "False"


@needs_scipy
def test_without_the_variable_numba_starts_as_it_does_itself() -> None:
    """A program importing gep's engine (no variable) gets numba's own start, probe included. This also
    shows the probe still exists in this numba: if it fails, gep.accounting.jit has become unnecessary."""
    value, imported = _run(FIRST_KERNEL, None)
    assert float(value) == -1.0
    assert imported == "True"


@needs_scipy
def test_the_gep_command_asks_for_the_lean_start_and_scipy_stays_usable() -> None:
    """Importing the command sets the variable (for itself and the workers it starts); scipy.linalg still
    imports afterwards for the code that needs it (SALib's sampling)."""
    code = FIRST_KERNEL.replace("import sys", "import sys, os\nimport gep.cli\nprint(os.environ['GEP_NUMBA_BLAS'])")
    code += "import scipy.linalg\nprint(scipy.linalg.norm([3.0, 4.0]))\n"
    setting, value, imported, norm = _run(code, None)
    assert (setting, float(value), imported, float(norm)) == ("off", -1.0, "False", 5.0)
