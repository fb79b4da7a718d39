"""Run one InVEST parameter set ("datastack" JSON) through natcap.invest in its own venv.

InVEST lives in a separate venv (scripts/install-invest.sh; ``$INVEST_VENV``, default
``.invest-venv`` at the repository root). This module only needs the standard library, so it
runs under the project venv:

    /tmp/venv/bin/python crosscheck/run_invest.py /tmp/cc/d200/sdr_mfd.invs.json [--workspace W]

What it does:
* starts ``$INVEST_VENV/bin/python -c <CHILD>``; the child loads the parameter set with
  ``natcap.invest.datastack.extract_parameter_set`` (relative paths resolved against the JSON's
  folder; falls back to plain json), imports the model module, sets ``workspace_dir`` and calls
  ``execute(args)``;
* measures the wall time of ``execute()`` (inside the child, after imports), the wall time of
  the whole child process, and the child's peak RSS (``os.wait4`` rusage, i.e. ru_maxrss of
  that child only, the same figure ``/usr/bin/time -v`` prints); the child's stdout/stderr go
  to ``workspace/crosscheck_std{out,err}.txt``;
* caches: a run is skipped if ``workspace/.crosscheck_run.json`` records the same key (sha256 of
  the JSON text + size/mtime of every file it references + the InVEST venv's python path) and the
  model's main outputs exist. The marker is written only after a successful run. The cached
  record (with the original timings) is returned, with ``"cached": true``.

Default workspace: ``<json folder>/invest_<json stem>``, e.g. ``d200/invest_sdr_mfd``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARKER = ".crosscheck_run.json"

# Main outputs per model id (relative to the workspace, no results_suffix); used by the cache
# check and by callers that want the paths.
MAIN_OUTPUTS = {
    "annual_water_yield": [
        "output/per_pixel/wyield.tif",
        "output/watershed_results_wyield.csv",
    ],
    "sdr": [
        "usle.tif",
        "sed_export.tif",
        "watershed_results_sdr.shp",
        "intermediate_outputs/flow_accumulation.tif",
    ],
    "carbon": [
        "c_storage_bas.tif",
    ],
}

# Older datastacks name the model by its Python module (``"model_name"``).
MODULE_TO_ID = {
    "natcap.invest.annual_water_yield": "annual_water_yield",
    "natcap.invest.annual_water_yield.annual_water_yield": "annual_water_yield",
    "natcap.invest.hydropower.hydropower_water_yield": "annual_water_yield",
    "natcap.invest.sdr": "sdr",
    "natcap.invest.sdr.sdr": "sdr",
    "natcap.invest.carbon": "carbon",
    "natcap.invest.carbon.carbon": "carbon",
}

CHILD = r"""
import json, os, sys, time, importlib, logging
ds_path, workspace = sys.argv[1], sys.argv[2]
quiet = sys.argv[3] == "1"
logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                    format="%(asctime)s %(name)s %(levelname)s %(message)s")
t_import = time.perf_counter()
import natcap.invest
model_key = None
try:
    from natcap.invest import datastack
    ps = datastack.extract_parameter_set(ds_path)
    args = dict(ps.args)
    model_key = getattr(ps, "model_id", None) or getattr(ps, "model_name", None)
except Exception as exc:  # plain JSON fallback
    print("datastack loader unavailable (%r); using json" % (exc,), file=sys.stderr)
    with open(ds_path) as f:
        raw = json.load(f)
    base = os.path.dirname(os.path.abspath(ds_path))
    args = {}
    for k, v in raw["args"].items():
        if isinstance(v, str) and v and not os.path.isabs(v) and os.path.exists(os.path.join(base, v)):
            v = os.path.join(base, v)
        args[k] = v
    model_key = raw.get("model_id") or raw.get("model_name")
if model_key is None:
    with open(ds_path) as f:
        raw = json.load(f)
    model_key = raw.get("model_id") or raw.get("model_name")
module = None
try:
    from natcap.invest import models
    for attr in ("model_id_to_pyname", "pyname_to_module"):
        m = getattr(models, attr, None)
        if isinstance(m, dict) and model_key in m:
            module = m[model_key]
            module = importlib.import_module(module) if isinstance(module, str) else module
            break
except Exception:
    pass
if module is None:
    candidates = {
        "annual_water_yield": "natcap.invest.annual_water_yield",
        "sdr": "natcap.invest.sdr.sdr",
        "carbon": "natcap.invest.carbon",
    }
    module = importlib.import_module(candidates.get(model_key, model_key))
args["workspace_dir"] = workspace
t0 = time.perf_counter()
module.execute(args)
t1 = time.perf_counter()
print("CROSSCHECK_RESULT " + json.dumps({
    "model": model_key, "module": module.__name__,
    "invest_version": natcap.invest.__version__,
    "execute_s": t1 - t0, "import_s": t0 - t_import}), flush=True)
"""


def invest_venv() -> Path:
    v = os.environ.get("INVEST_VENV")
    return Path(v) if v else REPO / ".invest-venv"


def invest_python() -> Path:
    return invest_venv() / "bin" / "python"


def invest_available() -> bool:
    py = invest_python()
    if not py.exists():
        return False
    r = subprocess.run([str(py), "-c", "import natcap.invest"], capture_output=True)
    return r.returncode == 0


def read_stack(ds_path: Path) -> tuple[str, dict]:
    raw = json.loads(Path(ds_path).read_text())
    key = raw.get("model_id") or raw.get("model_name")
    return MODULE_TO_ID.get(key, key), raw["args"]


def _referenced_files(ds_path: Path, args: dict) -> list[Path]:
    base = ds_path.parent
    out = []
    for v in args.values():
        if isinstance(v, str) and v:
            p = Path(v) if os.path.isabs(v) else base / v
            if p.is_file():
                out.append(p)
                if p.suffix.lower() == ".shp":  # sidecars
                    out += [q for q in p.parent.glob(p.stem + ".*") if q != p]
    return sorted(set(out))


def cache_key(ds_path: Path) -> str:
    ds_path = Path(ds_path).resolve()
    text = ds_path.read_bytes()
    _, args = read_stack(ds_path)
    h = hashlib.sha256(text)
    h.update(str(invest_python()).encode())
    for p in _referenced_files(ds_path, args):
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def main_outputs(model: str, workspace: Path, suffix: str = "") -> list[Path]:
    outs = []
    for rel in MAIN_OUTPUTS.get(model, []):
        if suffix:
            stem, ext = os.path.splitext(rel)
            rel = f"{stem}_{suffix}{ext}"
        outs.append(Path(workspace) / rel)
    return outs


def run_invest(ds_path, workspace=None, *, force: bool = False, quiet: bool = True) -> dict:
    """Run the parameter set; returns a record with ``workspace`` (str), ``model``,
    ``execute_s``, ``process_s``, ``peak_rss_mb``, ``cached``."""
    ds_path = Path(ds_path).resolve()
    model, args = read_stack(ds_path)
    if workspace is None:
        stem = ds_path.name.split(".")[0]
        workspace = ds_path.parent / f"invest_{stem}"
    workspace = Path(workspace).resolve()
    key = cache_key(ds_path)
    marker = workspace / MARKER
    suffix = str(args.get("results_suffix") or "")
    if not force and marker.exists():
        try:
            rec = json.loads(marker.read_text())
        except ValueError:
            rec = {}
        if rec.get("key") == key and all(p.exists() for p in main_outputs(model, workspace, suffix)):
            rec["cached"] = True
            return rec

    py = invest_python()
    if not py.exists():
        raise RuntimeError(f"{py} not found: run scripts/install-invest.sh (INVEST_VENV={invest_venv()})")
    if workspace.exists():
        shutil.rmtree(workspace)  # a stale taskgraph cache would make InVEST skip steps
    workspace.mkdir(parents=True)

    cmd = [str(py), "-c", CHILD, str(ds_path), str(workspace), "1" if quiet else "0"]
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    out_path, err_path = workspace / "crosscheck_stdout.txt", workspace / "crosscheck_stderr.txt"
    with open(out_path, "w") as fo, open(err_path, "w") as fe:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=env)
        # os.wait4 reaps this child and returns its own rusage (ru_maxrss: KiB on Linux).
        _, status, ru = os.wait4(proc.pid, 0)
        process_s = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    rss_kb = ru.ru_maxrss
    out, err = out_path.read_text(), err_path.read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"InVEST failed ({proc.returncode}) for {ds_path}:\n{err[-4000:]}")
    res = None
    for line in out.splitlines():
        if line.startswith("CROSSCHECK_RESULT "):
            res = json.loads(line[len("CROSSCHECK_RESULT ") :])
    if res is None:
        raise RuntimeError(f"no result line from InVEST child:\n{out[-2000:]}\n{err[-2000:]}")
    rec = {
        "datastack": str(ds_path),
        "workspace": str(workspace),
        "model": model,
        "module": res["module"],
        "invest_version": res["invest_version"],
        "execute_s": round(res["execute_s"], 3),
        "process_s": round(process_s, 3),
        "import_s": round(res["import_s"], 3),
        "peak_rss_mb": round(rss_kb / 1024.0, 1) if rss_kb else None,
        "key": key,
        "cached": False,
    }
    marker.write_text(json.dumps(rec, indent=2) + "\n")
    return rec


def _main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("datastack", nargs="+")
    ap.add_argument("--workspace", help="only with a single datastack")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="show InVEST's INFO log (stderr)")
    a = ap.parse_args(argv)
    for ds in a.datastack:
        rec = run_invest(ds, a.workspace if len(a.datastack) == 1 else None, force=a.force, quiet=not a.verbose)
        print(json.dumps({k: v for k, v in rec.items() if k != "key"}))


if __name__ == "__main__":
    _main()
