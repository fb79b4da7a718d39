"""The platform's signing key: an Ed25519 private key in a file of the data folder, made on first use.

Only the file holds the private key (mode 0600, written atomically, in `keys/` of mode 0700); the database keeps
the public keys, so certificates and trace chains signed by an older key stay verifiable after `gep keys rotate
signing` replaces it. `GEP_SIGNING_KEY` names another
file (a mounted secret).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from gep.certificates import rules
from gep.errors import N_, InputError

log = logging.getLogger(__name__)
KEY_FILE = "certificate-signing-ed25519.pem"


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey
    path: Path

    @property
    def key_id(self) -> str:
        return rules.key_id(self.private.public_key())

    @property
    def public_raw(self) -> bytes:
        return rules.public_bytes(self.private.public_key())

    @property
    def public_pem(self) -> str:
        return self.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def key_path(data_dir: Path) -> Path:
    return Path(os.environ.get("GEP_SIGNING_KEY") or Path(data_dir) / "keys" / KEY_FILE)


def signer(path: Path) -> Signer:
    """The key in `path`, made (once, atomically) when there is none; re-read when the file is replaced (a
    rotation takes effect in running processes without a restart)."""
    from gep.kit.keyring import write_private

    if not path.exists():
        key = Ed25519PrivateKey.generate()
        if write_private(path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()), replace=False):
            log.info("made a new certificate signing key in %s", path)
    stat = path.stat()
    return _load(path, stat.st_mtime_ns, stat.st_ino)


@lru_cache(maxsize=8)
def _load(path: Path, _mtime: int, _inode: int) -> Signer:
    try:
        loaded = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise InputError(N_("{file} is not an unencrypted PEM private key"), file=str(path)) from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise InputError(N_("{file} holds a key that is not Ed25519"), file=str(path))
    return Signer(loaded, path)


RETIRED_FILE = "retired-signing-keys.pub"


def retired_path(path: Path) -> Path:
    return path.with_name(RETIRED_FILE)


def public_keys(path: Path) -> dict[str, bytes]:
    """The platform's public keys as the data folder knows them: the signing key's and the retired ones' (one
    `key_id hex` a line). Unlike the database's register, nobody who can only write to the database can add to
    it: the audit chain's seals are checked against these."""
    current = signer(path)
    known = {current.key_id: current.public_raw}
    retired = retired_path(path)
    if retired.exists():
        for line in retired.read_text(encoding="ascii").splitlines():
            if line.strip():
                key_id, raw = line.split()
                known[key_id] = bytes.fromhex(raw)
    return known


def rotate(path: Path) -> tuple[Signer, Signer]:
    """Replace the signing key with a new one; returns (old, new). The caller registers both public keys first
    (`service.register_key`), so what the old key signed stays verifiable; the old public key is also kept in
    `keys/retired-signing-keys.pub`; the old private key is gone."""
    from gep.kit.keyring import rotating

    with rotating(path.parent):
        return _rotate(path)


def _rotate(path: Path) -> tuple[Signer, Signer]:
    from gep.kit.keyring import write_private

    old = signer(path)
    retired = retired_path(path)
    kept = retired.read_text(encoding="ascii") if retired.exists() else ""
    write_private(retired, f"{kept}{old.key_id} {old.public_raw.hex()}\n".encode(), replace=True)
    key = Ed25519PrivateKey.generate()
    write_private(path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()), replace=True)
    new = signer(path)
    log.info("certificate signing key rotated in %s: %s replaced by %s", path, old.key_id, new.key_id)
    return old, new


def public_key_from_pem(data: bytes, name: str) -> bytes:
    """The raw bytes of an Ed25519 public key in PEM (as `gep certificate public-key` prints it)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = load_pem_public_key(data)
    except ValueError:
        raise InputError(N_("{file} is not a PEM public key"), file=name) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(N_("{file} holds a key that is not Ed25519"), file=name)
    return rules.public_bytes(key)
