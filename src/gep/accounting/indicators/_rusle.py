"""RUSLE factors of the GEP soil-retention account: K (EPIC with Zhang's correction), R (daily-rainfall model), C.

Pure array functions (METHODS.md §2.3); the indicator module wires them to the region's layers.
"""

from __future__ import annotations

import numpy as np

US_TO_SI = 0.1317  # converts K from US customary units to t·ha·h/(ha·MJ·mm)


def k_epic_zhang(sand: np.ndarray, silt: np.ndarray, clay: np.ndarray, organic_matter: np.ndarray) -> np.ndarray:
    """Soil erodibility K (t·ha·h/(ha·MJ·mm)) from texture and organic matter (all mass %).

    K_EPIC = k1·k2·k3·k4 (Williams' EPIC), corrected by Zhang: K = (−0.01383 + 0.51575·K_EPIC) × 0.1317.
    """
    ms, msilt, mc, org = (np.asarray(a, dtype=np.float64) for a in (sand, silt, clay, organic_matter))
    sn = 1.0 - ms / 100.0
    k1 = 0.2 + 0.3 * np.exp(-0.0256 * ms * (1.0 - msilt / 100.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        k2 = np.where(mc + msilt > 0, (msilt / (mc + msilt)) ** 0.3, 0.0)
    k3 = 1.0 - 0.25 * org / (org + np.exp(3.72 - 2.95 * org))
    k4 = 1.0 - 0.7 * sn / (sn + np.exp(-5.51 + 22.9 * sn))
    return np.maximum((-0.01383 + 0.51575 * k1 * k2 * k3 * k4) * US_TO_SI, 0.0)


def erosivity_daily(daily: np.ndarray, day_of_year: np.ndarray, threshold: float, alpha_warm: float,
                         alpha_cold: float, beta: float, warm_first: int, warm_last: int) -> np.ndarray:
    """Annual rainfall erosivity R (MJ·mm/(ha·h·a)) from one year of daily rainfall (axis 0 = days).

    Each erosive day (rain ≥ threshold, mm) adds α·P^β, α of the warm or cold season by its day of the year:
    the 双评价 script's model with its fixed α and β (public code). 章文波 et al. 2002's model has the same form
    but computes α and β per station from its rainfall record (../shared/PARAMETER-SOURCES.md, rows 18–20).
    """
    p = np.asarray(daily, dtype=np.float64)
    warm = (day_of_year >= warm_first) & (day_of_year <= warm_last)
    alpha = np.where(warm, alpha_warm, alpha_cold).reshape((-1,) + (1,) * (p.ndim - 1))
    erosive = np.where(np.nan_to_num(p) >= threshold, np.nan_to_num(p) ** beta, 0.0)
    return (alpha * erosive).sum(axis=0)


def cover_class(cover: np.ndarray) -> np.ndarray:
    """Vegetation-cover class 1–6 (<10, 10–30, 30–50, 50–70, 70–90, ≥90 %) of a 0–1 cover fraction."""
    return np.digitize(np.asarray(cover, dtype=np.float64), [0.1, 0.3, 0.5, 0.7, 0.9]) + 1


def c_dry_farmland(cover: np.ndarray) -> np.ndarray:
    """C of dry farmland: 0.221 − 0.595·log10(f_c), bounded to [0, 1] (METHODS.md §2.3, unverified form)."""
    fc = np.clip(np.asarray(cover, dtype=np.float64), 1e-6, 1.0)
    return np.clip(0.221 - 0.595 * np.log10(fc), 0.0, 1.0)
