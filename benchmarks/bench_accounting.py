"""Benchmark the full accounting path against the minimum any zonal accounting must do.

    python benchmarks/bench_accounting.py [--size 4400] [--workdir DIR] [--chunk-size 1024] [--memory-sweep]

A synthetic region (benchmarks/synthetic_region.py; default 4400×4400 px at 30 m ≈ 19.4 million pixels,
the size of Lishui) is generated once into the work dir and reused. Then, each in its own subprocess so
that its peak memory is its own (os.wait4 returns the child's ru_maxrss):

- baseline: rasterize the village polygons once into a zone-index raster (rasterio.features.rasterize,
  pixel-centre rule), then read every input raster once, window by window (chunk_size² windows), and sum
  it per zone with numpy.bincount (ecosystem: pixel count per zone and class). Single-threaded, no
  reprojection (the rasters are already on the grid). Time includes reading the manifest and rasterizing.
- full: `account(load_region(path), year=2019)`. Time includes loading and validating the package.

"work s" is timed inside the child (after imports); "process s" is the whole child, interpreter start and
imports included. "RSS after imports" shows the fixed cost of the libraries in the peak.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
YEAR = 2019


def _rss_mb() -> float:
    """Peak RSS of this process so far, in MB.

    VmHWM (Linux) is the high-water mark of this process's own address space, which starts afresh at
    exec; ru_maxrss would also include the parent's RSS at fork time.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --------------------------------------------------------------------------------------------------
# Children: each prints one JSON line with its own timings
# --------------------------------------------------------------------------------------------------


def child_baseline(path: Path, chunk_size: int) -> dict[str, Any]:
    """Rasterize zones once, then read each raster window by window and bincount it per zone."""
    import geopandas as gpd
    import numpy as np
    import rasterio
    from rasterio.features import rasterize
    from rasterio.windows import Window

    rss_imports = _rss_mb()
    t0 = time.perf_counter()
    manifest = tomllib.loads((path / "region.toml").read_text(encoding="utf-8"))
    layers = {name: path / spec["file"].format(year=YEAR) for name, spec in manifest["layers"].items()}
    with rasterio.open(layers["ecosystem"]) as ref:
        transform, height, width = ref.transform, ref.height, ref.width
    zones = gpd.read_file(path / manifest["zones"]["file"], layer=manifest["zones"].get("layer"))
    n = len(zones)
    dtype = "uint16" if n < 2**16 - 1 else "uint32"
    zone_index = rasterize(zip(zones.geometry, range(1, n + 1), strict=True), out_shape=(height, width),
                           transform=transform, fill=0, all_touched=False, dtype=dtype)
    t_rasterize = time.perf_counter() - t0

    windows = [Window(c, r, min(chunk_size, width - c), min(chunk_size, height - r))
               for r in range(0, height, chunk_size) for c in range(0, width, chunk_size)]
    totals: dict[str, float] = {}
    for name, file in layers.items():
        with rasterio.open(file) as src:
            if (src.transform, src.height, src.width) != (transform, height, width):
                raise SystemExit(f"{file} is not on the grid; the baseline does not reproject")
            nodata = src.nodata
            if name == "ecosystem":
                counts = np.zeros((n + 1) * 256, dtype=np.int64)
            else:
                sums = np.zeros(n + 1)
                valid_counts = np.zeros(n + 1, dtype=np.int64)
            for win in windows:
                data = src.read(1, window=win)
                z = zone_index[win.row_off:win.row_off + win.height, win.col_off:win.col_off + win.width]
                if name == "ecosystem":
                    counts += np.bincount((z.astype(np.int64) * 256 + data).ravel(), minlength=counts.size)
                else:
                    ok = data != nodata
                    sums += np.bincount(z[ok], weights=data[ok], minlength=n + 1)
                    valid_counts += np.bincount(z[ok], minlength=n + 1)
        totals[name] = (float(counts.reshape(n + 1, 256)[1:].sum()) if name == "ecosystem"
                        else float(sums[1:].sum()))
    return {"work_s": time.perf_counter() - t0, "rasterize_s": t_rasterize, "rss_imports_mb": rss_imports,
            "vmhwm_mb": _rss_mb(),
            "zones": n, "pixels": height * width, "totals": totals}


def child_full(path: Path) -> dict[str, Any]:
    """The real thing: load and validate the package, then compute the accounts."""
    sys.path.insert(0, str(SRC))
    # importlib: the engine's modules may not exist yet while this script is written and linted.
    load_region = importlib.import_module("gep.accounting.region").load_region
    account = importlib.import_module("gep.accounting.run").account

    rss_imports = _rss_mb()
    t0 = time.perf_counter()
    region = load_region(path)
    t_load = time.perf_counter() - t0
    accounts = account(region, year=YEAR)
    return {"work_s": time.perf_counter() - t0, "load_s": t_load, "rss_imports_mb": rss_imports,
            "vmhwm_mb": _rss_mb(), "rows": len(accounts.table)}


# --------------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------------


def run_child(kind: str, path: Path, chunk_size: int) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; peak RSS comes from that child's own rusage."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", kind, "--_path", str(path),
           "--chunk-size", str(chunk_size)]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        # Reap the child ourselves (not proc.wait()) to get its own rusage, hence its own peak RSS.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code != 0:
        last = (stderr.strip().splitlines() or [f"exit {code}"])[-1]
        return {"error": last, "stderr": stderr, "process_s": wall}
    result = json.loads(stdout.strip().splitlines()[-1])
    # wait4's ru_maxrss covers the child and any processes it waited for (e.g. worker processes) but is
    # floored at the parent's RSS at fork time (kept small here); the child's VmHWM is its own.
    result.update(process_s=wall, peak_rss_mb=usage.ru_maxrss / 1024, parent_rss_mb=_rss_mb())
    return result


def ensure_region(workdir: Path, size: int, seed: int, chunk_size: int) -> Path:
    """The package for this size and seed, generated once and reused (generation is atomic).

    Generated in a subprocess: the parent must stay small, because Linux carries the parent's RSS
    high-water mark over fork+exec into the child's ru_maxrss.
    """
    dest = workdir / f"synthetic-{size}-seed{seed}"
    if (dest / "region.toml").exists():
        print(f"reusing {dest}")
    else:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(HERE / "synthetic_region.py"), "--size", str(size), "--seed",
                        str(seed), "--chunk-size", str(chunk_size), "--out", str(dest)], check=True)
        print(f"generated {dest} in {time.perf_counter() - t0:.1f} s")
    return dest


def with_chunk_size(package: Path, chunk_size: int) -> Path:
    """The package as is if its manifest has this chunk_size, else a sibling that links to its files."""
    text = (package / "region.toml").read_text(encoding="utf-8")
    if tomllib.loads(text)["region"].get("chunk_size") == chunk_size:
        return package
    variant = package.with_name(f"{package.name}-chunk{chunk_size}")
    variant.mkdir(exist_ok=True)
    for item in package.iterdir():
        link = variant / item.name
        if item.name != "region.toml" and not link.exists():
            link.symlink_to(item.resolve())
    (variant / "region.toml").write_text(
        re.sub(r"(?m)^chunk_size = \d+$", f"chunk_size = {chunk_size}", text), encoding="utf-8")
    return variant


def warm_page_cache(package: Path) -> None:
    """Read every file once so neither run pays for a cold disk (the first would otherwise)."""
    buf = bytearray(2**20)  # small, reused: the parent's RSS must stay low (see ensure_region)
    for file in package.rglob("*"):
        if file.is_file():
            with open(file, "rb", buffering=0) as fh:
                while fh.readinto(buf):
                    pass


def _fmt(result: dict[str, Any], key: str, spec: str = ".1f") -> str:
    return format(result[key], spec) if key in result else "-"


def print_table(rows: list[tuple[str, dict[str, Any]]], pixels: int, size: int, chunk_size: int) -> None:
    print()
    print(f"pixels {pixels:,} ({size}×{size} at 30 m); chunk size {chunk_size}; cpus {os.cpu_count()}; "
          f"parent RSS {_rss_mb():.0f} MB (floor of 'peak RSS')")
    print(f"{'run':28s} {'work s':>9s} {'setup s':>8s} {'process s':>10s} {'peak RSS MB':>12s} "
          f"{'VmHWM MB':>9s} {'RSS after imports MB':>21s}")
    for label, r in rows:
        if "error" in r:
            print(f"{label:28s} failed: {r['error']}")
            continue
        setup = {"setup_s": r.get("load_s", r.get("rasterize_s"))} if "work_s" in r else {}
        print(f"{label:28s} {_fmt(r, 'work_s', '.2f'):>9s} {_fmt(setup, 'setup_s', '.2f'):>8s} "
              f"{_fmt(r, 'process_s', '.2f'):>10s} "
              f"{_fmt(r, 'peak_rss_mb', '.0f'):>12s} {_fmt(r, 'vmhwm_mb', '.0f'):>9s} "
              f"{_fmt(r, 'rss_imports_mb', '.0f'):>21s}")
    base = dict(rows).get(f"baseline (chunk {chunk_size})", {})
    full = dict(rows).get(f"full (chunk {chunk_size})", {})
    if "work_s" in base and "work_s" in full:
        ratio = {k: full[k] / base[k] for k in ("work_s", "process_s", "peak_rss_mb")}
        print(f"{'ratio full/baseline':28s} {ratio['work_s']:>8.1f}× {'':>8s} {ratio['process_s']:>9.1f}× "
              f"{ratio['peak_rss_mb']:>11.1f}×")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4400, help="region width = height in pixels")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gep-bench"))
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-sweep", action="store_true",
                        help="also run the full path at chunk sizes 512 and 2048")
    parser.add_argument("--skip-full", action="store_true", help="baseline only (e.g. no engine yet)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--_child", choices=["baseline", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--_path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._child:
        result = (child_baseline(args._path, args.chunk_size) if args._child == "baseline"
                  else child_full(args._path))
        print(json.dumps(result))
        return

    sys.path.insert(0, str(HERE))
    args.workdir.mkdir(parents=True, exist_ok=True)
    package = ensure_region(args.workdir, args.size, args.seed, args.chunk_size)
    warm_page_cache(package)
    rows: list[tuple[str, dict[str, Any]]] = []
    plan = [("baseline", args.chunk_size)]
    if not args.skip_full:
        plan.append(("full", args.chunk_size))
        if args.memory_sweep:
            plan += [("full", c) for c in (512, 2048) if c != args.chunk_size]
    for kind, chunk in plan:
        label = f"{kind} (chunk {chunk})"
        print(f"running {label} ...", flush=True)
        result = run_child(kind, with_chunk_size(package, chunk) if kind == "full" else package, chunk)
        if "error" in result:
            print(result.get("stderr", ""), file=sys.stderr)
        rows.append((label, result))
    pixels = args.size * args.size
    print_table(rows, pixels, args.size, args.chunk_size)
    if args.json:
        args.json.write_text(json.dumps({"size": args.size, "pixels": pixels, "chunk_size": args.chunk_size,
                                         "runs": dict(rows)}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
