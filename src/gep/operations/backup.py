"""`gep backup`: one archive of the database and the data folder, consistent with each other.

The database is copied first (`snapshot`); the data folder's files are then chosen by what that copy's rows
name: in the folders a domain owns (region packages, accounting runs), a subfolder goes into the archive only if
a row of the copy points into it. An upload that lands while the backup runs is therefore either wholly in the
archive (its folder and its row) or wholly absent, never a folder without its row; a run still being written is
left out and is run again after a restore, as a run whose worker stopped. Staging areas and locks are never kept.
Folders the rows name outside the data folder (a region imported in place with `gep region import`, the demo's
accounts) are kept too, and put back where they were if they are missing there at restore.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import gep
from gep.errors import N_, InputError
from gep.kit.domain import Domain
from gep.operations import snapshot
from gep.operations.archive import MANIFEST, HashingReader, Manifest

log = logging.getLogger(__name__)
PATTERN = "gep-backup-*.tar.gz"
TRANSIENT = ("locks", "uploads", "exports", "monitoring/incoming")  # staging and locks: never restored


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    files: int
    external: list[str]
    missing: list[str]  # paths the database names that do not exist (deleted by hand?): not in the archive
    pruned: list[Path]
    seconds: float


def archive_name(moment: datetime | None = None) -> str:
    return f"gep-backup-{(moment or datetime.now(UTC)):%Y%m%dT%H%M%S%fZ}.tar.gz"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def data_files(data_dir: Path, refs: Sequence[str], domains: Sequence[Domain],
               skip: Sequence[Path] = ()) -> Iterator[Path]:
    """The data folder's files a backup keeps (see the module's docstring)."""
    named = [Path(os.path.realpath(r)) for r in refs if r]
    skip = [Path(os.path.realpath(p)) for p in skip]
    data_dir = Path(os.path.realpath(data_dir))
    owned = {data_dir / folder for d in domains for folder in d.data_folders}
    transient = {data_dir / t for t in TRANSIENT}
    for top, dirs, files in os.walk(data_dir):
        here = Path(top)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and here / d not in transient
                         and not (here in owned and not any(_inside(r, here / d) for r in named)))
        for name in sorted(files):
            path = here / name
            if name.startswith(".") or here in owned or Path(os.path.realpath(path)) in skip:
                continue  # temp files of atomic writers; loose files beside owned subfolders; the SQLite file
            yield path


def outermost(paths: Iterable[str]) -> list[str]:
    """The distinct absolute paths, without those inside another of them."""
    found = sorted({os.path.abspath(p) for p in paths})
    return [p for p in found if not any(_inside(Path(p), Path(q)) and p != q for q in found)]


def _files(root: Path) -> Iterator[Path]:
    """A folder's files (or the file itself), temp files of atomic writers left out; nothing if it is gone."""
    if root.is_file():
        yield root
        return
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (Path(top) / name for name in sorted(files) if not name.startswith("."))


def take(url: str, data_dir: Path, out: Path, domains: Sequence[Domain], keep: int | None = None) -> BackupResult:
    """Write one archive (into the folder `out`, or to the file `out`) and prune all but the newest `keep`."""
    started = time.perf_counter()
    data_dir = Path(os.path.abspath(data_dir))
    target = out / archive_name() if out.is_dir() or not out.name.endswith((".tar.gz", ".tgz")) else out
    target = Path(os.path.abspath(target))
    if _inside(target, data_dir):
        raise InputError(N_("the backup {file} would be inside the data folder {folder}: write it elsewhere"),
                         file=str(target), folder=str(data_dir))
    if target.exists():
        raise InputError(N_("{file} exists already; backups never overwrite one another"), file=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    database = Path(os.path.abspath(snapshot.sqlite_path(url))) if url.startswith("sqlite") else None
    skip = [database.with_name(database.name + end) for end in ("", "-wal", "-shm", "-journal")] if database else []
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".gep-backup-") as tmp, held_locks(data_dir):
        snap = snapshot.take(url, Path(tmp), domains)
        missing = sorted({r for r in snap.refs if r and not os.path.exists(r)})
        for gone in missing:
            log.warning("backup: the database names %s, which does not exist", gone)
        member = f"database/{snap.dump.name}"
        manifest = Manifest(created_at=datetime.now(UTC).isoformat(timespec="seconds"), gep_version=gep.__version__,
                            dialect=snap.dialect, schema_heads=snap.heads, data_dir=str(data_dir), database=member,
                            pg_schema=snap.pg_schema,
                            external=outermost(r for r in snap.refs
                                               if r and not _inside(Path(os.path.abspath(r)), data_dir)))
        partial = Path(tmp) / "archive.partial"
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            _add(tar, snap.dump, member, manifest)
            if data_dir.is_dir():
                real = Path(os.path.realpath(data_dir))  # data_files walks the real folder
                for path in data_files(data_dir, snap.refs, domains, skip):
                    _add(tar, path, f"data/{path.relative_to(real).as_posix()}", manifest)
            for n, outside in enumerate(manifest.external):
                for path in _files(Path(outside)):
                    rel = path.name if path == Path(outside) else path.relative_to(outside).as_posix()
                    _add(tar, path, f"external/{n}/{rel}", manifest)
            info = tarfile.TarInfo(MANIFEST)
            raw = manifest.to_json()
            info.size, info.mtime, info.mode = len(raw), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(raw))
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(partial, 0o600)  # it holds the keys
        os.replace(partial, target)
    size = target.stat().st_size
    log.info("backup %s written: %d files, %d bytes", target, len(manifest.files), size)
    return BackupResult(target, size, len(manifest.files) - 1, manifest.external, missing,
                        prune(target.parent, keep) if keep else [], time.perf_counter() - started)


@contextmanager
def held_locks(data_dir: Path) -> Iterator[None]:
    """Every lock a domain keeps in the data folder's locks/ (a region's package being changed), held while the
    database is copied and the files are read: a package is archived before or after a change, never halfway.
    A change attempted meanwhile is told to try again (409)."""
    folder = data_dir / "locks"
    with ExitStack() as stack:
        for path in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
            fh = stack.enter_context(path.open("a"))
            fcntl.flock(fh, fcntl.LOCK_EX)  # waits for a change in progress to end
            stack.callback(fcntl.flock, fh, fcntl.LOCK_UN)
        yield


def _add(tar: tarfile.TarFile, path: Path, member: str, manifest: Manifest) -> None:
    """One file into the archive, hashed as it is read. A file removed since the folder was listed is skipped
    (nothing in the database copy can need it: it was removed after the copy was taken)."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        log.info("backup: %s vanished while the backup ran; left out", path)
        return
    with fh:
        stat = os.fstat(fh.fileno())
        info = tarfile.TarInfo(member)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = HashingReader(fh)
        tar.addfile(info, reader)
    manifest.files[member] = {"sha256": reader.hash.hexdigest(), "size": reader.size}


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives of the folder (their names sort by time)."""
    archives = sorted(folder.glob(PATTERN))
    doomed = archives[:-keep] if keep > 0 else []
    for path in doomed:
        path.unlink()
        log.info("backup: pruned %s", path)
    return doomed
