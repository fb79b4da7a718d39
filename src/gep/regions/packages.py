"""Region packages changed from the browser: a new region uploaded, a year's files added, the statistics template,
and parameter overrides. One path for every change: the files land in the package on the server, the engine's own
`load_region` validates the whole package, and nothing stays changed unless it is valid.

Every change takes the region's lock (a second change meanwhile is a 409), needs the import permission and the
region's organisation (administrators see every organisation), and is audited with the SHA-256 of what was sent.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gep.errors import N_, InputError, NotFound, PermissionDenied, RegionError
from gep.kit.audit import audit
from gep.kit.principal import Principal
from gep.regions import service, uploads
from gep.regions.models import Region

OVERRIDE_KEYS = ("value", "unit", "year", "source", "note")


def may_change(region: Region, by: Principal) -> None:
    """The import permission, and the region's own organisation (or an administrator's reach)."""
    by.require(service.IMPORT)
    if region.organisation_id is not None and by.organisation_id != region.organisation_id \
            and not by.can(service.READ_ALL):
        raise PermissionDenied(N_("region {code} is kept by another organisation"), code=region.code)


def stage(data_dir: Path, received: list[tuple[Path, str]]) -> Path:
    """A staging folder holding what was sent: one zip unpacked, or files placed by their relative names."""
    folder = uploads.staging(data_dir)
    try:
        if len(received) == 1 and uploads.extension(received[0][1]) == ".zip":
            uploads.unpack(received[0][0], folder, received[0][1])
        else:
            for tmp, name in received:
                rel = uploads.safe_relative(name)
                uploads.check_type(tmp, str(rel))
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    raise InputError(N_("{name} was sent twice"), name=str(rel))
                shutil.move(tmp, target)
    except BaseException:
        uploads.discard(folder)
        raise
    return folder


def create_region(session: Session, data_dir: Path, folder: Path, by: Principal, label: str, digest: str) -> Region:
    """A new region from an uploaded package: moved into the data folder's regions and imported there (the import
    validates it whole); on any problem nothing is kept."""
    by.require(service.IMPORT)
    try:
        root = uploads.package_root(folder)
        dest = data_dir / "regions" / f"{_package_id(root)}-{uuid.uuid4().hex[:8]}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(root), dest)
    finally:
        uploads.discard(folder)
    try:
        row = service.import_region(session, dest, by, label=label)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    audit(session, by, "upload", "region", row.id, file=label, sha256=digest)
    return row


def _package_id(root: Path) -> str:
    """The package's region id for its folder's name (an operator reads it), or "region" when it has none yet."""
    import re
    import tomllib

    try:
        raw = str(tomllib.loads((root / "region.toml").read_text(encoding="utf-8"))["region"]["id"])
    except (OSError, ValueError, KeyError, TypeError):
        return "region"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)[:60] or "region"


def add_files(session: Session, data_dir: Path, region_id: int, folder: Path, by: Principal, label: str,
              digest: str) -> Region:
    """New or replaced files of an existing region (a new year's rasters and statistics, a region.toml that lists
    them): laid over the package, the whole package validated, the replaced files put back on any problem."""
    from gep.accounting.region import load_region

    row = service.get_region(session, region_id)
    may_change(row, by)
    package = Path(row.package_path)
    try:
        with uploads.region_lock(data_dir, str(row.id)):
            root = uploads.package_root(folder, required=False)
            files = [p for p in root.rglob("*") if p.is_file()]
            if not files:
                raise InputError(N_("{name} holds no file"), name=label)
            backup = folder.parent / f"{folder.name}-backup"
            moved: list[tuple[Path, Path | None]] = []
            try:
                for src in files:
                    rel = src.relative_to(root)
                    target = package / rel
                    kept = None
                    if target.exists():
                        kept = backup / rel
                        kept.parent.mkdir(parents=True, exist_ok=True)
                        shutil.move(target, kept)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(src, target)
                    moved.append((target, kept))
                try:
                    region = load_region(package)
                except RegionError as exc:
                    raise RegionError(label, exc.problems) from None
                if region.id != row.code:
                    raise InputError(N_("{name} changes the region's id from {old} to {new}; upload it as a new "
                                        "region"), name=label, old=row.code, new=region.id)
            except BaseException:
                for target, kept in reversed(moved):
                    target.unlink(missing_ok=True)
                    if kept is not None:
                        shutil.move(kept, target)
                raise
            finally:
                uploads.discard(backup)
            row.years = list(region.years)
            row.method = region.method
            audit(session, by, "upload", "region", row.id, file=label, sha256=digest,
                  files=[str(t.relative_to(package)) for t, _ in moved][:200], years=list(region.years))
    finally:
        uploads.discard(folder)
    return row


def template(session: Session, data_dir: Path, region_id: int, year: int, method: str | None) -> Path:
    """The statistics template of a region for a year, written into the data folder's exports."""
    from gep.accounting.region import load_region
    from gep.accounting.template import write_template

    row = service.get_region(session, region_id)
    region = load_region(row.package_path)
    out = data_dir / "exports" / f"statistics_{row.code}_{year}_{uuid.uuid4().hex[:8]}.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_template(region, year, out, method)


def import_template(session: Session, data_dir: Path, region_id: int, year: int, path: Path, by: Principal,
                    label: str, digest: str) -> dict[str, Any]:
    """A filled template checked and merged into the region's package; what is still missing is listed."""
    from gep.accounting.region import load_region
    from gep.accounting.template import merge_template, read_template

    row = service.get_region(session, region_id)
    may_change(row, by)
    uploads.check_type(path, label if label.lower().endswith(".xlsx") else f"{label}.xlsx")
    with uploads.region_lock(data_dir, str(row.id)):
        package = Path(row.package_path)
        region = load_region(package)
        result = merge_template(package, read_template(path, region, year, label), year, label, region)
        row.years = list(result.region.years)
        audit(session, by, "statistics", "region", row.id, file=label, sha256=digest, year=year,
              added=result.added, unchanged=result.unchanged)
    return {"added": result.added, "unchanged": result.unchanged, "file": result.file, "missing": result.missing}


def parameters(session: Session, region_id: int, method: str | None = None) -> dict[str, Any]:
    """The method's parameters beside the region's overrides: each default with its source, status and range."""
    from gep.accounting.methods import load_profile
    from gep.accounting.region import load_region

    row = service.get_region(session, region_id)
    region = load_region(row.package_path)
    profile = region.profile(method)
    base = load_profile(method or region.method)  # the defaults, without the region's overrides
    out = []
    for pid, p in base.parameters.items():
        o = region.overrides.get(pid)
        out.append({"id": pid, "value": p.value, "unit": p.unit, "year": p.year, "source": p.source,
                    "status": p.status, "range": list(p.range) if p.range else None,
                    "range_relative": p.relative_range,
                    "override": None if o is None else {"value": o.value, "unit": o.unit, "year": o.year,
                                                        "source": o.source, "note": o.note}})
    return {"region_id": row.id, "method": profile.id, "parameters": out}


def set_override(session: Session, data_dir: Path, region_id: int, pid: str, fields: dict[str, Any] | None,
                 by: Principal) -> dict[str, Any]:
    """Write (or, with `fields` None, remove) a region's override of a parameter in its region.toml, validated with
    the whole package; the run and the report then show it like an override written by hand."""
    import tomlkit

    from gep.accounting.region import load_region
    from gep.accounting.template import write_text_atomic

    row = service.get_region(session, region_id)
    may_change(row, by)
    manifest = Path(row.package_path) / "region.toml"
    with uploads.region_lock(data_dir, str(row.id)):
        before = manifest.read_text(encoding="utf-8")
        doc = tomlkit.parse(before)
        params = doc.setdefault("parameters", tomlkit.table(is_super_table=True))
        if fields is None:
            if pid not in params:
                raise NotFound(N_("region {code} has no override of {parameter}"), code=row.code, parameter=pid)
            del params[pid]
        else:
            if not str(fields.get("source", "")).strip():
                raise InputError(N_("an override needs its source (where the value comes from)"))
            table = tomlkit.table()
            for key in OVERRIDE_KEYS:
                if fields.get(key) not in (None, ""):
                    table[key] = fields[key]
            params[pid] = table
        text = tomlkit.dumps(doc)
        write_text_atomic(manifest, text)
        try:
            load_region(row.package_path).profile()
        except BaseException:
            write_text_atomic(manifest, before)
            raise
        audit(session, by, "override" if fields is not None else "override_removed", "region", row.id,
              parameter=pid, sha256=hashlib.sha256(text.encode()).hexdigest(),
              **({k: fields.get(k) for k in OVERRIDE_KEYS} if fields else {}))
    return parameters(session, region_id)
