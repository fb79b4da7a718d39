"""GEP with its uncertainty: the parameters' plausible ranges propagated to every indicator and zone.

Each parameter of the method that has a `range` (every unverified one has; see ../shared/PARAMETER-SOURCES.md)
is drawn uniformly over it: a single value between its low and high, a table by ecosystem multiplied as a whole
by one factor (its entries share the same evidence). SALib's Latin-hypercube sampler draws the Monte Carlo
samples; each parameter is also set to its low and its high with every other at its value (the tornado). All of
these scenarios are computed in the same pass over the chunks as the accounts themselves: a pixel layer that
depends on a sampled parameter is added once per scenario, the rasters are read once. RBD-FAST (SALib) gives
each parameter's first-order share of the variance of GEP from the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gep.accounting.methods import MethodProfile, Parameter
from gep.errors import N_, InputError

QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class UncertaintySpec:
    """How the uncertainty is estimated: Monte Carlo samples, their seed, and (optionally) which parameters."""

    samples: int = 64
    seed: int = 0
    parameters: tuple[str, ...] | None = None  # None: every parameter of the run's indicators that has a range

    def __post_init__(self) -> None:
        if not 16 <= self.samples <= 4096:
            raise InputError(N_("--samples must be between 16 and 4096, got {value}"), value=self.samples)


@dataclass(frozen=True)
class Scenario:
    """One set of parameter values: a Monte Carlo sample, or one parameter at its low or high end."""

    name: str  # "mc12", "low:<id>", "high:<id>"
    values: dict[str, float]  # parameter id -> value (a scalar) or factor (a table)

    def profile(self, profile: MethodProfile) -> MethodProfile:
        return profile.with_overrides({pid: profile.parameters[pid].scaled(x) for pid, x in self.values.items()})


def ranged_parameters(profile: MethodProfile, indicator_ids: list[str], spec: UncertaintySpec) -> list[Parameter]:
    """The parameters to vary: those of the computed indicators that have a range (or the ones asked for)."""
    prefixes = tuple(f"{i}." for i in indicator_ids)
    if spec.parameters is not None:
        unknown = [p for p in spec.parameters if p not in profile.parameters]
        no_range = [p for p in spec.parameters if p in profile.parameters and profile.parameters[p].range is None]
        if unknown or no_range:
            raise InputError(N_("uncertainty: unknown parameters {unknown}; parameters without a range {no_range}"),
                             unknown=", ".join(unknown) or "-", no_range=", ".join(no_range) or "-")
        return [profile.parameters[p] for p in spec.parameters]
    return [p for p in profile.parameters.values() if p.range is not None and p.id.startswith(prefixes)]


def scenarios(params: list[Parameter], spec: UncertaintySpec) -> tuple[list[Scenario], np.ndarray]:
    """The Monte Carlo samples (Latin hypercube) then each parameter's low and high; returns them and the
    sample matrix (samples × parameters) for the sensitivity analysis."""
    from SALib.sample import latin

    problem = {"num_vars": len(params), "names": [p.id for p in params], "bounds": [list(p.range or (1, 1))
                                                                                   for p in params]}
    x = latin.sample(problem, spec.samples, seed=spec.seed) if params else np.zeros((0, 0))
    out = [Scenario(f"mc{i}", {p.id: float(x[i, j]) for j, p in enumerate(params)}) for i in range(len(x))]
    for p in params:
        lo, hi = p.range or (1.0, 1.0)
        out += [Scenario(f"low:{p.id}", {p.id: lo}), Scenario(f"high:{p.id}", {p.id: hi})]
    return out, x


def summarise(rows: pd.DataFrame, values: np.ndarray, names: list[str], params: list[Parameter],
              sample_matrix: np.ndarray, spec: UncertaintySpec) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Quantiles per row (level, zone, indicator) from the Monte Carlo columns of `values` (rows × scenarios),
    the tornado of the top zone's GEP, and each parameter's first-order sensitivity index."""
    mc = np.array([n.startswith("mc") for n in names])
    sampled = values[:, mc]
    table = rows.copy()
    for q in QUANTILES:
        table[f"p{round(q * 100):02d}"] = np.quantile(sampled, q, axis=1)
    table["mean"] = sampled.mean(axis=1)
    table["std"] = sampled.std(axis=1, ddof=1)
    top = np.flatnonzero(((rows["level"] == rows["level"].iloc[0]) & (rows["indicator"] == "gep")).to_numpy())
    col = {n: i for i, n in enumerate(names)}
    tornado = []
    for p in params:
        lo, hi = values[top, col[f"low:{p.id}"]].sum(), values[top, col[f"high:{p.id}"]].sum()
        tornado.append({"parameter": p.id, "low": p.range[0] if p.range else None,
                        "high": p.range[1] if p.range else None, "relative": p.relative_range,
                        "gep_at_low": float(lo), "gep_at_high": float(hi), "swing": float(abs(hi - lo))})
    tornado.sort(key=lambda r: -float(r["swing"] or 0.0))
    sensitivity = _first_order(params, sample_matrix, sampled[top].sum(axis=0))
    return table, {"tornado": tornado, "sensitivity": sensitivity}


def _first_order(params: list[Parameter], x: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
    """RBD-FAST first-order indices of GEP (SALib); empty when GEP does not vary."""
    if not params or float(np.std(y)) == 0.0:
        return []
    from SALib.analyze import rbd_fast

    problem = {"num_vars": len(params), "names": [p.id for p in params],
               "bounds": [list(p.range or (1, 1)) for p in params]}
    m = max(1, min(10, (len(y) - 1) // 2 - 1))
    result = rbd_fast.analyze(problem, x, y, M=m, print_to_console=False, seed=0)
    return sorted(({"parameter": n, "s1": float(s), "s1_conf": float(c)}
                   for n, s, c in zip(result["names"], result["S1"], result["S1_conf"], strict=True)),
                  key=lambda r: -r["s1"])


def describe(spec: UncertaintySpec, params: list[Parameter]) -> dict[str, Any]:
    """How the range was made, for the accounts' metadata and the report."""
    return {
        "method": "Monte Carlo, Latin-hypercube samples (SALib), in the same pass over the chunks as the accounts",
        "samples": spec.samples, "seed": spec.seed, "quantiles": list(QUANTILES),
        "distribution": "uniform over each parameter's range; a table's range is one factor on all its entries",
        "sensitivity": "RBD-FAST first-order indices (SALib) of the top zone's GEP; tornado: one parameter at a "
                       "time at its low and high end, the others at their values",
        "parameters": [{"id": p.id, "range": list(p.range or ()), "relative": p.relative_range,
                        "status": p.status, "reason": p.range_reason} for p in params],
        "not_varied": "parameters without a range (published values), prices from the statistics, the inputs",
    }
