"""The in-memory terrain kernels one by one, on the InVEST benchmark's DEM (crosscheck/datasets.py).

    python benchmarks/bench_terrain.py [--size 4000] [--repeat 3] [--workdir /tmp/gep-bench-invest]

Each step is timed `--repeat` times (median) after a warm-up call on a small window (numba's compilation or
cache load is not counted), and printed with its ratio to a baseline measured in the same run: one pass over
the DEM that touches every pixel and its eight neighbours (a 3×3 maximum, numpy), the least any of these steps
could cost. The DEM has pits carved into fractal relief and exact flats (the fill raises about a third of its
pixels onto plateaus), so the plateau searches of the direction steps are exercised.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crosscheck.datasets import make_dataset  # noqa: E402  (after the path set-up above)

from gep.accounting import terrain  # noqa: E402


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def neighbourhood_pass(dem: np.ndarray) -> np.ndarray:
    """The baseline: every pixel's 3×3 maximum, each pixel read nine times in vectorised passes."""
    padded = np.pad(dem, 1, mode="edge")
    out = dem.copy()
    rows, cols = dem.shape
    for dr in (0, 1, 2):
        for dc in (0, 1, 2):
            np.maximum(out, padded[dr:dr + rows, dc:dc + cols], out=out)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gep-bench-invest"))
    args = parser.parse_args(argv)
    data = args.workdir / f"d{args.size}"
    make_dataset(data, args.size, seed=42)
    with rasterio.open(data / "dem.tif") as src:
        dem = src.read(1).astype(np.float64)
        mask = dem == src.nodata
    small = (slice(0, 64), slice(0, 64))
    filled_small = terrain.fill_pits(dem[small], mask[small])
    for warm in (lambda: terrain.flow_dir_mfd(filled_small, mask[small]),
                 lambda: terrain.flow_dir_d8(filled_small, mask[small]),
                 lambda: terrain.flow_accumulation_mfd(terrain.flow_dir_mfd(filled_small, mask[small])),
                 lambda: terrain.flow_accumulation_d8(terrain.flow_dir_d8(filled_small, mask[small])),
                 lambda: terrain.slope_percent(filled_small, mask[small], (30.0, -30.0)),
                 lambda: terrain.distance_to_channel_mfd(terrain.flow_dir_mfd(filled_small, mask[small]),
                                                         np.eye(64, dtype=np.uint8)),
                 lambda: terrain.distance_to_channel_d8(terrain.flow_dir_d8(filled_small, mask[small]),
                                                        np.eye(64, dtype=np.uint8))):
        warm()
    base, _ = timed(lambda: neighbourhood_pass(dem), args.repeat)
    rows: list[tuple[str, float]] = []
    t, filled = timed(lambda: terrain.fill_pits(dem, mask), args.repeat)
    rows.append(("fill_pits", t))
    t, mfd = timed(lambda: terrain.flow_dir_mfd(filled, mask), args.repeat)
    rows.append(("flow_dir_mfd", t))
    t, d8 = timed(lambda: terrain.flow_dir_d8(filled, mask), args.repeat)
    rows.append(("flow_dir_d8", t))
    t, fa_mfd = timed(lambda: terrain.flow_accumulation_mfd(mfd), args.repeat)
    rows.append(("flow_accumulation_mfd", t))
    t, fa_d8 = timed(lambda: terrain.flow_accumulation_d8(d8), args.repeat)
    rows.append(("flow_accumulation_d8", t))
    # streams at InVEST SDR's default threshold (1000 pixels), then the distance down to them
    streams_mfd = terrain.extract_streams_mfd(fa_mfd, mfd, 1000.0, trace_threshold_proportion=0.7)
    streams_d8 = terrain.extract_streams_d8(fa_d8, 1000.0)
    rows.append(("distance_to_channel_mfd",
                 timed(lambda: terrain.distance_to_channel_mfd(mfd, streams_mfd), args.repeat)[0]))
    rows.append(("distance_to_channel_d8",
                 timed(lambda: terrain.distance_to_channel_d8(d8, streams_d8), args.repeat)[0]))
    rows.append(("slope_percent", timed(lambda: terrain.slope_percent(filled, mask, (30.0, -30.0)), args.repeat)[0]))
    raised = int((filled > dem).sum())
    print(f"{args.size}² DEM: {raised / dem.size:.0%} of the pixels raised by the fill (they end on plateaus)")
    print(f"{'step':<24}{'s':>7}{'× baseline':>12}")
    print(f"{'baseline (3×3 pass)':<24}{base:>7.2f}{1:>11.1f}×")
    for name, seconds in rows:
        print(f"{name:<24}{seconds:>7.2f}{seconds / base:>11.1f}×")


if __name__ == "__main__":
    main()
