"""The backup archive: one tar file holding the database dump, the data folder and a manifest of SHA-256 hashes.

Layout (members in this order):

    database/gep.sqlite3 | database/gep.pgdump    the database, consistent in itself
    data/<path>                                    the data folder's files (accounts, reports, packages, keys)
    external/<n>/<path>                            the n-th folder the database names outside the data folder
                                                   (a region imported in place, accounts registered from disk)
    manifest.json                                  format, gep version, schema heads, every member's hash and size

The manifest comes last because it is written once everything it describes has been read; `read_verified`
checks every member against it before anything is restored, so a damaged or incomplete archive is refused whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from gep.errors import N_, InputError

FORMAT = 1
MANIFEST = "manifest.json"
PREFIXES = ("database/", "data/", "external/")


class ArchiveError(InputError):
    """A backup archive that cannot be restored as it is (damaged, incomplete, from a newer gep)."""


@dataclass
class Manifest:
    created_at: str
    gep_version: str
    dialect: str  # "sqlite" | "postgresql"
    schema_heads: list[str]  # the Alembic revisions the database was at
    data_dir: str  # the data folder's absolute path when the backup was taken (the database's paths point there)
    database: str  # the member holding the database
    pg_schema: str = ""  # PostgreSQL: the schema that was dumped
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # member -> {"sha256", "size"}
    external: list[str] = field(default_factory=list)  # paths the database names outside the data folder: the
    # n-th is kept under external/<n>/
    format: int = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes, name: str) -> Manifest:
        try:
            data = json.loads(raw)
            fmt = int(data.get("format", 0))
        except (ValueError, TypeError, AttributeError):
            raise ArchiveError(N_("{file}: the manifest is not readable JSON"), file=name) from None
        if fmt > FORMAT:
            raise ArchiveError(N_("{file} was written by a newer gep (archive format {found}; this gep reads up to "
                                  "{known}): restore it with that version"), file=name, found=fmt, known=FORMAT)
        try:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except TypeError:
            raise ArchiveError(N_("{file}: the manifest lacks some of its fields"), file=name) from None


class HashingReader:
    """A file object that hashes what tarfile reads from it, so each file is read once."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.hash, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(n)
        self.hash.update(chunk)
        self.size += len(chunk)
        return chunk


def safe_member(name: str) -> bool:
    """A member name restore may write: relative, without '..', under one of the archive's own prefixes."""
    path = PurePosixPath(name)
    return (not path.is_absolute() and ".." not in path.parts and "\\" not in name
            and (name == MANIFEST or name.startswith(PREFIXES)))


def read_manifest(archive: Path) -> Manifest:
    """The manifest alone (for `gep backup --list`-like uses and early refusals); nothing verified yet."""
    try:
        with tarfile.open(archive) as tar:
            member = tar.getmember(MANIFEST)
            fh = tar.extractfile(member)
            assert fh is not None
            return Manifest.from_json(fh.read(), archive.name)
    except KeyError:
        raise ArchiveError(N_("{file} has no manifest.json: it is not a gep backup, or it was cut short"),
                           file=archive.name) from None
    except (tarfile.TarError, OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise ArchiveError(N_("{file} is not a readable backup archive ({error})"), file=archive.name,
                           error=str(exc) or type(exc).__name__) from None


def extract_verified(archive: Path, into: Path) -> Manifest:
    """Unpack `archive` into the empty folder `into`, hashing every member, and return its manifest once every
    member has been found whole and nothing else is there; on any problem an ArchiveError (the caller removes
    `into`)."""
    manifest = read_manifest(archive)
    needed = sum(int(meta.get("size", 0)) for meta in manifest.files.values())
    free = shutil.disk_usage(into).free
    if needed > free:
        raise ArchiveError(N_("{file} unpacks to {needed} MB, and only {free} MB are free beside the data folder"),
                           file=archive.name, needed=needed >> 20, free=free >> 20)
    seen: dict[str, tuple[str, int]] = {}
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                # checked before a byte is written: nothing the manifest does not list, nothing at another size
                listed = manifest.files.get(member.name)
                if not safe_member(member.name) or not member.isfile() or member.name in seen or listed is None:
                    raise ArchiveError(N_("{file} holds {member}, which a gep backup never holds"),
                                       file=archive.name, member=member.name)
                if member.size != listed.get("size"):
                    raise ArchiveError(N_("{file} is damaged: {count} member(s) differ from the manifest or are "
                                          "missing (first: {first})"), file=archive.name, count=1,
                                       first=member.name)
                source = tar.extractfile(member)
                assert source is not None
                target = into / member.name
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                digest = hashlib.sha256()
                # private to the service's user, whatever its umask: the archive holds the keys
                with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                    while chunk := source.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                seen[member.name] = (digest.hexdigest(), member.size)
    except (tarfile.TarError, OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise ArchiveError(N_("{file} is damaged ({error})"), file=archive.name,
                           error=str(exc) or type(exc).__name__) from None
    problems = [name for name, meta in manifest.files.items()
                if seen.get(name) != (meta.get("sha256"), meta.get("size"))]
    extra = sorted(set(seen) - set(manifest.files))
    if problems or extra:
        raise ArchiveError(N_("{file} is damaged: {count} member(s) differ from the manifest or are missing "
                              "(first: {first})"), file=archive.name, count=len(problems) + len(extra),
                           first=(problems or extra)[0])
    if manifest.database not in seen:
        raise ArchiveError(N_("{file} holds no database"), file=archive.name)
    return manifest
