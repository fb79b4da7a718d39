"""Files a person sends from the browser, brought safely into the platform's data folder.

A region package arrives as a zip or as files one by one; a statistics template as an .xlsx. Everything is
streamed to a private staging folder under the data folder with a size limit; a zip is opened member by member,
refusing paths that leave the folder (`../`, absolute, drive letters), links and special files, too many
members, and members whose size or compression ratio betrays a zip bomb; every file's first bytes must match its
extension (a renamed file is refused). Nothing the person names decides where a file lands.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from gep.errors import N_, Conflict, InputError

MB = 1 << 20


def _mb(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise InputError(N_("{name} must be a whole number of MB, not {value}"), name=name, value=raw) from None
    return value * MB


@dataclass(frozen=True)
class Limits:
    """How much one upload may hold: `GEP_UPLOAD_MB` (2048 by default, a county's package) and
    `GEP_UPLOAD_UNPACKED_MB` (four times as much) per deployment; nginx in front must take as much."""

    upload_bytes: int = field(default_factory=lambda: _mb("GEP_UPLOAD_MB", 2048))  # the bytes sent
    unpacked_bytes: int = field(default_factory=lambda: _mb("GEP_UPLOAD_UNPACKED_MB",
                                                            4 * _mb("GEP_UPLOAD_MB", 2048) // MB))  # a zip, unpacked
    members: int = 5000
    ratio: int = 200  # unpacked / packed size of one member (text compresses ~10×, a bomb ~1000×)


LIMITS = Limits()
# what a region package holds, by extension, and the first bytes each must start with (None: text, checked UTF-8)
SIGNATURES: dict[str, tuple[bytes, ...] | None] = {
    ".tif": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), ".tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".gpkg": (b"SQLite format 3\x00",), ".xlsx": (b"PK\x03\x04",), ".shp": (b"\x00\x00\x27\x0a",),
    ".shx": (b"\x00\x00\x27\x0a",), ".dbf": None, ".prj": None, ".cpg": None, ".toml": None, ".csv": None,
    ".geojson": None, ".json": None, ".md": None, ".txt": None, ".xml": None,
}
BINARY_OK = (".dbf",)  # checked by extension only: its first byte is a version number


def extension(name: str) -> str:
    lower = name.lower()
    return ".aux.xml" if lower.endswith(".aux.xml") else Path(lower).suffix


def safe_relative(name: str) -> PurePosixPath:
    """A member name as a path inside the package, or InputError: no absolute path, drive, `..` or empty part."""
    norm = name.replace("\\", "/")
    path = PurePosixPath(norm)
    if (not norm or norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or any(p in ("..", "") for p in
                                                                                      path.parts)
            or any(ord(c) < 32 for c in norm)):
        raise InputError(N_("{name}: a path that leaves the package (absolute, a drive, or '..') is refused"),
                         name=name[:200])
    return path


def check_type(path: Path, name: str) -> None:
    """The file's first bytes must be what its extension says (a renamed file is refused)."""
    ext = extension(name)
    if ext not in SIGNATURES and ext != ".aux.xml":
        raise InputError(N_("{name}: files of type {ext} do not belong in a region package (expected GeoTIFF, "
                            "GeoPackage, Shapefile parts, CSV, XLSX, TOML or GeoJSON)"), name=name, ext=ext or "''")
    signature = SIGNATURES.get(ext)
    with path.open("rb") as fh:
        head = fh.read(4096)
    renamed = (not any(head.startswith(s) for s in signature)) if signature is not None else \
        (ext not in BINARY_OK and b"\x00" in head)  # a text file holds no NUL byte
    if renamed:
        raise InputError(N_("{name}: the content is not a {ext} file (renamed?)"), name=name, ext=ext)


def receive(stream: BinaryIO, folder: Path, name: str, limit: int) -> tuple[Path, str]:
    """Stream an upload into a new file in `folder` (size-limited); returns its path and SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(MB):
                size += len(chunk)
                if size > limit:
                    raise InputError(N_("{name} is larger than {limit} MB"), name=name, limit=limit // MB)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp), digest.hexdigest()


def unpack(archive: Path, dest: Path, name: str, limits: Limits | None = None) -> None:
    """Extract a zip into `dest` member by member, refusing what could escape or explode (see the module)."""
    limits = limits or LIMITS
    if not zipfile.is_zipfile(archive):
        raise InputError(N_("{name} is not a zip archive"), name=name)
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > limits.members:
            raise InputError(N_("{name} holds {count} members; at most {limit}"), name=name, count=len(infos),
                             limit=limits.members)
        total = 0
        for info in infos:
            rel = safe_relative(info.filename)
            if rel.parts[0] == "__MACOSX" or rel.name in (".DS_Store", "Thumbs.db"):
                continue  # what archivers add beside the files
            kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver wrote no Unix mode
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise InputError(N_("{name}: {member} is a link or a special file; only plain files are accepted"),
                                 name=name, member=info.filename[:200])
            if info.is_dir():
                continue
            total += info.file_size
            if total > limits.unpacked_bytes:
                raise InputError(N_("{name} unpacks to more than {limit} MB"), name=name,
                                 limit=limits.unpacked_bytes // MB)
            if info.compress_size and info.file_size / info.compress_size > limits.ratio and info.file_size > MB:
                raise InputError(N_("{name}: {member} expands {ratio}× (a zip bomb?); at most {limit}×"), name=name,
                                 member=info.filename[:200], ratio=int(info.file_size / info.compress_size),
                                 limit=limits.ratio)
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with zf.open(info) as src, target.open("xb") as out:
                while chunk := src.read(MB):
                    written += len(chunk)
                    if written > info.file_size:  # the header lied about the size
                        raise InputError(N_("{name}: {member} is larger than its header says"), name=name,
                                         member=info.filename[:200])
                    out.write(chunk)
            check_type(target, str(rel))


def package_root(folder: Path, required: bool = True) -> Path:
    """The folder holding region.toml: the staging folder itself or the one folder a zip wrapped it in. When
    none holds it and it is not `required` (files added to a region), the staging folder itself."""
    if (folder / "region.toml").exists():
        return folder
    found = [p.parent for p in folder.rglob("region.toml") if "__MACOSX" not in p.parts]
    if len(found) == 1 and len(found[0].relative_to(folder).parts) <= 2:
        return found[0]
    if not required and not found:
        return folder
    raise InputError(N_("the upload holds no region.toml at its top (or in one folder): not a region package"))


@contextmanager
def region_lock(data_dir: Path, key: str) -> Iterator[None]:
    """One change at a time to a region's package: a second upload or override meanwhile is a 409."""
    folder = data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"region-{key}.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict(N_("another upload or change to this region is in progress; try again when it is "
                              "done")) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def staging(data_dir: Path) -> Path:
    """A new private folder for one upload, under the data folder."""
    base = data_dir / "uploads"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base, prefix="stage-"))


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
