"""gep's InVEST-compatible mode beside InVEST 3.20 itself, as a user times them: whole processes.

    python benchmarks/bench_invest.py [--sizes 2000 4000] [--models awy sdr_mfd sdr_d8] [--repeat 3]

Generates the datasets once (crosscheck/datasets.py), runs each model through InVEST (in its own venv,
scripts/install-invest.sh; results cached by input hash, with the timings of the run that produced them)
and through `python -m gep invest run` — each a child process from start to exit, imports included, so the
figure is the one a user waits for, and peak RSS is the child's own (ru_maxrss). gep runs `--repeat` times and
its median is reported; InVEST runs once (its runs take minutes; `--rerun-invest` repeats a cached run). The
ratios printed are InVEST's whole process over gep's (speed-up) and gep's peak memory over InVEST's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crosscheck.datasets import make_dataset  # noqa: E402  (after the path set-up above)
from crosscheck.run_invest import invest_available, run_invest  # noqa: E402


def run_gep(datastack: Path, workspace: Path) -> dict[str, float]:
    """`gep invest run` as a child process: its wall time from spawn to exit and its own peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gep", "invest", "run", str(datastack), "--workspace",
                             str(workspace)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"gep failed on {datastack}:\n{err[-3000:]}")
    return {"process_s": elapsed, "peak_rss_mb": usage.ru_maxrss / 1024}


def median_run(datastack: Path, workspace: Path, repeat: int) -> dict[str, float]:
    """The median process time of `repeat` runs (the machine's noise, not gep's, varies between them)."""
    runs = [run_gep(datastack, workspace) for _ in range(repeat)]
    return {"process_s": statistics.median(r["process_s"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "runs": [r["process_s"] for r in runs]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 4000])
    parser.add_argument("--models", nargs="+", default=["awy", "sdr_mfd", "sdr_d8"],
                        choices=["awy", "sdr_mfd", "sdr_d8", "carbon"])
    parser.add_argument("--repeat", type=int, default=3, help="gep runs per case (median reported)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gep-bench-invest"))
    parser.add_argument("--rerun-invest", action="store_true",
                        help="run InVEST again instead of reusing a cached run (when that ran on a busy machine)")
    args = parser.parse_args(argv)
    if not invest_available():
        sys.exit("InVEST is not installed: run scripts/install-invest.sh first")
    rows = []
    for n in args.sizes:
        data = args.workdir / f"d{n}"
        make_dataset(data, n, seed=42)
        for model in args.models:
            stack = data / f"{model}.invs.json"
            invest = run_invest(stack, force=args.rerun_invest)
            ours = median_run(stack, args.workdir / f"gep_{model}_{n}", args.repeat)
            rows.append((model, n, invest, ours))
            runs = ", ".join(f"{s:.2f}" for s in ours["runs"])
            print(f"{model} {n}²: InVEST {invest['process_s']:.1f} s, gep {ours['process_s']:.2f} s ({runs})",
                  flush=True)
    print("\nwhole processes, imports included")
    print(f"{'model':<9}{'pixels':>8}  {'InVEST s':>9} {'MB':>6}   {'gep s':>7} {'MB':>6}   {'speed-up':>8} "
          f"{'memory':>7}")
    for model, n, inv, ours in rows:
        cached = " (InVEST cached)" if inv.get("cached") else ""
        print(f"{model:<9}{n:>6}²  {inv['process_s']:>9.1f} {inv['peak_rss_mb']:>6.0f}   {ours['process_s']:>7.2f} "
              f"{ours['peak_rss_mb']:>6.0f}   {inv['process_s'] / ours['process_s']:>7.1f}× "
              f"{ours['peak_rss_mb'] / inv['peak_rss_mb']:>6.2f}×{cached}")


if __name__ == "__main__":
    main()
