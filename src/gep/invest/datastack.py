"""Load an InVEST datastack (parameter set JSON) and check its args against the model's spec.

InVEST's format: {"args": {...}, "model_id": "carbon"} (3.16+) or {"args": {...}, "model_name":
"natcap.invest.carbon"} (older); relative paths are relative to the JSON file's folder and "true"/"false"
strings are booleans. Every problem found is reported at once, each naming the arg.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gep.invest.errors import InvestCompatError
from gep.invest.spec import ModelSpec, is_set

# InVEST model ids and the python module names older datastacks use, for the models InVEST ships that we
# know of; only those in the registry can run.
PYNAME_TO_ID = {
    "natcap.invest.carbon": "carbon",
    "natcap.invest.annual_water_yield": "annual_water_yield",
    "natcap.invest.hydropower.hydropower_water_yield": "annual_water_yield",
    "natcap.invest.sdr.sdr": "sdr",
    "natcap.invest.sdr": "sdr",
    "natcap.invest.ndr.ndr": "ndr",
    "natcap.invest.seasonal_water_yield.seasonal_water_yield": "seasonal_water_yield",
    "natcap.invest.habitat_quality": "habitat_quality",
}
ALIASES = {"awy": "annual_water_yield", "hwy": "annual_water_yield"}


@dataclass(frozen=True)
class Datastack:
    """A parsed datastack: the model id, the args with paths made absolute, and the file it came from."""

    model_id: str
    args: dict[str, Any]
    path: Path


def normalize_model_id(raw: str) -> str:
    """'natcap.invest.sdr.sdr' / 'sdr' / 'awy' -> InVEST's model id ('sdr', 'annual_water_yield')."""
    key = raw.strip()
    if key in PYNAME_TO_ID:
        return PYNAME_TO_ID[key]
    key = key.lower()
    return ALIASES.get(key, key)


def _convert(value: Any) -> Any:
    """InVEST turns 'true'/'false' strings into booleans anywhere in args."""
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v) for v in value]
    return value


def _resolve(value: Any, folder: Path) -> Any:
    """A path arg: relative paths are relative to the datastack's folder; ~ and $VARS are expanded."""
    if not is_set(value) or not isinstance(value, str):
        return value
    expanded = Path(os.path.expandvars(os.path.expanduser(value.replace("\\", "/"))))
    return str(expanded if expanded.is_absolute() else (folder / expanded).resolve())


def read_datastack(path: Path | str) -> tuple[str, dict[str, Any]]:
    """Read the JSON and return (normalized model id, raw args); path resolution needs the model's spec."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvestCompatError(f"cannot read datastack {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InvestCompatError(f"datastack {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("args"), dict):
        raise InvestCompatError(f"datastack {path}: expected a JSON object with an 'args' object")
    raw_id = data.get("model_id") or data.get("model_name")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise InvestCompatError(f"datastack {path}: neither 'model_id' nor 'model_name' names the model")
    return normalize_model_id(raw_id), dict(data["args"])


def check_args(spec: ModelSpec, args: Mapping[str, Any], where: str) -> None:
    """Refuse unknown, unsupported or missing args, naming every one of them in one error."""
    problems: list[str] = []
    unknown = sorted(set(args) - spec.known)
    if unknown:
        problems.append(f"unknown arg(s) for {spec.model_id} (InVEST 3.20 has no such input): {', '.join(unknown)}")
    refused = sorted(k for k in spec.unsupported if is_set(args.get(k)))
    for key in refused:
        problems.append(f"unsupported arg {key}: {spec.unsupported[key]}")
    missing = sorted(k for k in spec.required if not is_set(args.get(k)))
    if missing:
        problems.append(f"missing required arg(s): {', '.join(missing)}")
    for key in sorted(spec.paths):
        value = args.get(key)
        if is_set(value) and not Path(str(value)).exists():
            problems.append(f"{key}: file not found: {value}")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise InvestCompatError(f"datastack {where} ({spec.model_id}) cannot run:\n{lines}")


def load_datastack(path: Path | str, registry: Mapping[str, ModelSpec]) -> Datastack:
    """Parse, normalize and check a datastack against the registry; paths come back absolute."""
    path = Path(path).resolve()
    model_id, raw = read_datastack(path)
    spec = registry.get(model_id)
    if spec is None:
        known = ", ".join(sorted(registry))
        hint = " (recognised InVEST model, not implemented here yet)" if model_id in PYNAME_TO_ID.values() else ""
        raise InvestCompatError(f"datastack {path}: model {model_id!r} is not supported{hint}; supported: {known}")
    args = _convert(raw)
    for key in spec.paths:
        if key in args:
            args[key] = _resolve(args[key], path.parent)
    check_args(spec, args, str(path))
    return Datastack(model_id, args, path)
