"""numba for gep's compiled kernels, started lean in gep's own processes.

Why: the first time numba's CPU target is used, it probes for BLAS by importing scipy.linalg.cython_blas
(``numba.np.arraymath``). scipy is installed (SALib needs it), so every `gep` command that runs a kernel paid
for importing scipy.linalg: the first kernel call took 0.23 s with the probe and 0.12 s without, for linear
algebra no gep kernel uses. With ``GEP_NUMBA_BLAS=off`` (the `gep` command sets it for itself and for the
worker processes it starts) the probe runs here, once, with that module hidden: numba records "no BLAS",
so np.dot or np.linalg inside an njit function would fail to compile with numba's own message, and scipy
stays importable for everything else. A program that imports gep's engine without the variable (a notebook,
say) gets numba exactly as numba starts itself.
"""

from __future__ import annotations

import os
import sys

BLAS_ENV = "GEP_NUMBA_BLAS"
_PROBED = "scipy.linalg.cython_blas"  # what numba.np.linalg.ensure_blas imports


def _start_without_blas_probe() -> None:
    """Import numba's array maths with scipy's BLAS hidden, unless it is loaded already or not asked for."""
    if os.environ.get(BLAS_ENV, "").strip().lower() != "off":
        return
    if "numba.np.arraymath" in sys.modules or _PROBED in sys.modules:
        return
    sys.modules[_PROBED] = None  # type: ignore[assignment]  # None makes the import raise ImportError
    try:
        import numba.np.arraymath  # noqa: F401  (runs the probe)
    finally:
        if sys.modules.get(_PROBED, 0) is None:
            del sys.modules[_PROBED]


_start_without_blas_probe()

from numba import njit, prange  # noqa: E402  (after the probe: numba's import does not run it)

__all__ = ["BLAS_ENV", "njit", "prange"]
