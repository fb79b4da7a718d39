"""The session secret: kept outside the database, made at first start, rotatable.

Browser sessions and API tokens are random strings the database knows only by digest. The digest is an HMAC
under this secret, not a plain hash, so someone who can write to the database (a stolen backup of it, an SQL
injection) still cannot forge a session or a token: they would need the file in the data folder's `keys/` too.

The file holds one secret a line, `v<n> <hex>`, oldest first; new sessions and tokens use the newest, and every
listed one is still accepted. Rotating adds a newest line (nobody is logged out); retiring the old ones, after a
leak, ends every session and token made under them. `GEP_SESSION_SECRETS` names another file (a mounted secret).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gep.errors import N_, InputError

log = logging.getLogger(__name__)
SESSION_FILE = "session-secrets"


@dataclass(frozen=True)
class SessionKeys:
    versions: tuple[tuple[int, bytes], ...]  # oldest first; the last one makes new digests

    @property
    def current(self) -> int:
        return self.versions[-1][0]

    def digest(self, token: str) -> str:
        return hmac.new(self.versions[-1][1], token.encode(), hashlib.sha256).hexdigest()

    def candidates(self, token: str) -> list[str]:
        """The digests `token` may be stored under (one per secret still accepted)."""
        return [hmac.new(key, token.encode(), hashlib.sha256).hexdigest() for _, key in reversed(self.versions)]


def session_keys_path(data_dir: Path) -> Path:
    return Path(os.environ.get("GEP_SESSION_SECRETS") or Path(data_dir) / "keys" / SESSION_FILE)


def write_private(path: Path, content: bytes, replace: bool) -> bool:
    """Write a secret file atomically, readable by its owner only; without `replace`, never over another process's
    file made at the same moment. Returns whether this call wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content)
        os.fsync(fd)
        os.close(fd)
        if replace:
            os.replace(tmp, path)
            return True
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
            return True
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _format(versions: tuple[tuple[int, bytes], ...]) -> bytes:
    return "".join(f"v{n} {key.hex()}\n" for n, key in versions).encode()


def _parse(raw: str, path: Path) -> SessionKeys:
    versions: list[tuple[int, bytes]] = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            tag, hexkey = line.split()
            key = bytes.fromhex(hexkey)
            if not tag.startswith("v") or len(key) < 32:
                raise ValueError
            versions.append((int(tag[1:]), key))
        except ValueError:
            raise InputError(N_("{file}, line {line}: expected 'v<number> <64 hex digits>'"), file=str(path),
                             line=number) from None
    if not versions:
        raise InputError(N_("{file} holds no session secret"), file=str(path))
    return SessionKeys(tuple(versions))


def session_keys(path: Path) -> SessionKeys:
    """The secrets in `path`, made (once, atomically) when there is none; re-read when the file changes."""
    if not path.exists() and write_private(path, _format(((1, secrets.token_bytes(32)),)), replace=False):
        log.info("made a new session secret in %s", path)
    stat = path.stat()
    return _cached(path, stat.st_mtime_ns, stat.st_ino)


@lru_cache(maxsize=16)
def _cached(path: Path, _mtime: int, _inode: int) -> SessionKeys:
    return _parse(path.read_text(encoding="ascii"), path)


@contextlib.contextmanager
def rotating(folder: Path) -> Iterator[None]:
    """One rotation at a time in a keys folder (two at once could bring back a secret the other retired)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (folder / ".rotate.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def rotate(path: Path, retire_old: bool = False) -> SessionKeys:
    """Add a newest secret; with `retire_old`, keep only it (every session and token made before ends)."""
    with rotating(path.parent):
        return _rotate(path, retire_old)


def _rotate(path: Path, retire_old: bool) -> SessionKeys:
    old = session_keys(path)
    new = (old.current + 1, secrets.token_bytes(32))
    keys = SessionKeys((new,) if retire_old else (*old.versions, new))
    write_private(path, _format(keys.versions), replace=True)
    log.info("session secret rotated to v%d in %s%s", new[0], path, " (older ones retired)" if retire_old else "")
    return keys


@lru_cache(maxsize=1)
def process_local() -> SessionKeys:
    """For sessions made outside the web app (tests of the services, the demo's seeding): a secret that lives as
    long as the process. The app always installs the data folder's."""
    return SessionKeys(((1, secrets.token_bytes(32)),))
