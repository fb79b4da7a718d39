"""What `gep account --uncertainty` costs, against a plain run of the same region measured in the same run.

    python benchmarks/bench_uncertainty.py [--size 2000] [--samples 64] [--workdir DIR]

A synthetic region (benchmarks/synthetic_region.py, size × size pixels at 30 m, method zhejiang-2020) is
generated once into the work dir. Each run is a child process, so its peak memory (VmHWM) is its own:

- plain: `account(load_region(path), 2019)`;
- uncertainty: the same with `UncertaintySpec(samples=N)`: N Latin-hypercube samples plus two one-at-a-time
  ends per ranged parameter, their pixel layers in the same pass over the chunks.

Prints the seconds and peak memory of each and the ratios uncertainty / plain.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = """
import json, time
from pathlib import Path
t0 = time.perf_counter()
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.accounting.uncertainty import UncertaintySpec
t1 = time.perf_counter()
samples = {samples}
acc = account(load_region(Path({path!r})), 2019, uncertainty=UncertaintySpec(samples=samples) if samples else None)
t2 = time.perf_counter()
hwm = next(int(l.split()[1]) for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:'))
out = {{"work_s": t2 - t1, "rss_mb": hwm / 1024, "gep": acc.gep()}}
if acc.uncertainty is not None:
    u = acc.uncertainty
    top = u[(u["level"] == u["level"].iloc[0]) & (u["indicator"] == "gep")].sum(numeric_only=True)
    info = acc.metadata["uncertainty"]
    out.update(p05=float(top["p05"]), p95=float(top["p95"]), scenarios=info["scenarios"],
               parameters=len(info["parameters"]), pass_s=acc.metadata["timings"]["zonal_pass_s"],
               scenario_s=acc.metadata["timings"]["uncertainty_s"])
else:
    out["pass_s"] = acc.metadata["timings"]["zonal_pass_s"]
print(json.dumps(out))
"""


def run(path: Path, samples: int) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD.format(path=str(path), samples=samples)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "gep-bench-uncertainty")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from synthetic_region import make_synthetic_region

    path = args.workdir / f"region-{args.size}"
    if not (path / "region.toml").exists():
        make_synthetic_region(path, args.size, args.size)
    plain = run(path, 0)
    unc = run(path, args.samples)
    print(f"region: {args.size}×{args.size} px ({args.size ** 2 / 1e6:.1f} M), {unc['parameters']} ranged parameters, "
          f"{unc['scenarios']} scenarios ({args.samples} samples + 2 ends each)")
    print(f"{'run':<14}{'work s':>9}{'pass s':>9}{'peak MB':>9}")
    print(f"{'plain':<14}{plain['work_s']:>9.1f}{plain['pass_s']:>9.1f}{plain['rss_mb']:>9.0f}")
    print(f"{'uncertainty':<14}{unc['work_s']:>9.1f}{unc['pass_s']:>9.1f}{unc['rss_mb']:>9.0f}")
    print(f"ratio uncertainty/plain: time ×{unc['work_s'] / plain['work_s']:.2f}, "
          f"pass ×{unc['pass_s'] / plain['pass_s']:.2f}, memory ×{unc['rss_mb'] / plain['rss_mb']:.2f}; "
          f"scenarios' zone stage {unc['scenario_s']:.1f} s")
    print(f"GEP {plain['gep'] / 1e8:,.2f} 亿元, 5–95 %: {unc['p05'] / 1e8:,.2f} – {unc['p95'] / 1e8:,.2f}")


if __name__ == "__main__":
    main()
