"""The platform's signing key: an Ed25519 private key in a file of the data folder, made on first use.

Only the file holds the private key (mode 0600, written atomically); the database keeps the public keys, so
certificates signed by an older key stay verifiable after the key is replaced. `GEP_SIGNING_KEY` names another
file (a mounted secret).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
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


@lru_cache(maxsize=8)
def signer(path: Path) -> Signer:
    """The key in `path`, made (once, atomically) when there is none."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.close(fd)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # never replaces a key another process made at the same moment
        finally:
            os.unlink(tmp)
        log.info("made a new certificate signing key in %s", path)
    try:
        loaded = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise InputError(N_("{file} is not an unencrypted PEM private key"), file=str(path)) from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise InputError(N_("{file} holds a key that is not Ed25519"), file=str(path))
    return Signer(loaded, path)


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
