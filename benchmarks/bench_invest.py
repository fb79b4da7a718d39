"""gep's InVEST-compatible mode beside InVEST 3.20 itself: wall time and peak memory on the same inputs.

    python benchmarks/bench_invest.py [--sizes 2000 4000] [--models awy sdr_mfd] [--workdir /tmp/gep-bench-invest]

Generates the datasets once (crosscheck/datasets.py), runs each model through InVEST (in its own venv,
scripts/install-invest.sh; results cached by input hash, with the timings of the run that produced them)
and through `gep invest run`, each in a subprocess so peak RSS is the child's own, and prints both with
the ratios. Both time the model's work only (after imports), as InVEST's `execute()` is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from crosscheck.datasets import make_dataset  # noqa: E402  (after the path set-up above)
from crosscheck.run_invest import invest_available, run_invest  # noqa: E402

GEP_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from gep.invest import run_datastack
t1 = time.perf_counter()
run_datastack(sys.argv[1], sys.argv[2])
print(json.dumps({"execute_s": time.perf_counter() - t1, "import_s": t1 - t0}))
"""


def run_gep(datastack: Path, workspace: Path) -> dict[str, float]:
    """`gep invest run` in a child process: its work time and its own peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", GEP_CHILD, str(datastack), str(workspace)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"gep failed on {datastack}:\n{err[-3000:]}")
    record = json.loads(out.strip().splitlines()[-1])
    return {"execute_s": record["execute_s"], "process_s": time.perf_counter() - start,
            "peak_rss_mb": usage.ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 4000])
    parser.add_argument("--models", nargs="+", default=["awy", "sdr_mfd"], choices=["awy", "sdr_mfd", "sdr_d8",
                                                                                      "carbon"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gep-bench-invest"))
    args = parser.parse_args(argv)
    if not invest_available():
        sys.exit("InVEST is not installed: run scripts/install-invest.sh first")
    rows = []
    for n in args.sizes:
        data = args.workdir / f"d{n}"
        make_dataset(data, n, seed=42)
        for model in args.models:
            stack = data / f"{model}.invs.json"
            invest = run_invest(stack)
            ours = run_gep(stack, args.workdir / f"gep_{model}_{n}")
            rows.append((model, n, invest, ours))
            print(f"{model} {n}²: InVEST {invest['execute_s']:.1f} s, gep {ours['execute_s']:.1f} s", flush=True)
    print(f"\n{'model':<9}{'pixels':>8}  {'InVEST s':>9} {'MB':>6}   {'gep s':>7} {'MB':>6}   {'speed-up':>8} "
          f"{'memory':>7}")
    for model, n, inv, ours in rows:
        cached = " (InVEST cached)" if inv.get("cached") else ""
        print(f"{model:<9}{n:>6}²  {inv['execute_s']:>9.1f} {inv['peak_rss_mb']:>6.0f}   {ours['execute_s']:>7.2f} "
              f"{ours['peak_rss_mb']:>6.0f}   {inv['execute_s'] / ours['execute_s']:>7.1f}× "
              f"{ours['peak_rss_mb'] / inv['peak_rss_mb']:>6.2f}×{cached}")


if __name__ == "__main__":
    main()
