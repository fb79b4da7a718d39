"""What makes a certificate verifiable: a canonical form of its content, an Ed25519 signature over it, and the
checks a verifier makes (offline, with the platform's public key; revocation needs the platform's register).

A certificate document is JSON: ``{"format": "gep-certificate/1", "payload": {...}, "key_id": "…",
"signature": "…"}``. The signature covers the payload's canonical bytes: keys sorted, no spaces, UTF-8 — any
change to any field, even a space in a name, makes it fail.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gep.errors import N_, InputError

FORMAT = "gep-certificate/1"
VALID, TAMPERED, REVOKED, UNKNOWN_KEY, NOT_ISSUED = "valid", "tampered", "revoked", "unknown_key", "not_issued"
VERDICTS = {
    VALID: N_("genuine: signed by the platform, and not revoked"),
    TAMPERED: N_("NOT genuine: the content was changed after signing, or the signature is false"),
    REVOKED: N_("genuine but REVOKED: the platform withdrew this certificate"),
    UNKNOWN_KEY: N_("cannot be checked: it names a signing key the platform does not know"),
    NOT_ISSUED: N_("NOT genuine: the signature holds, but the platform's register has no such certificate"),
}


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def key_id(public: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_bytes(public)).hexdigest()[:16]


def public_bytes(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(private: Ed25519PrivateKey, payload: dict[str, Any]) -> dict[str, Any]:
    """The signed document of a payload."""
    signature = private.sign(canonical(payload))
    return {"format": FORMAT, "payload": payload, "key_id": key_id(private.public_key()),
            "signature": base64.b64encode(signature).decode("ascii")}


def digest(document: dict[str, Any]) -> str:
    """The SHA-256 of the payload's canonical bytes: what the certificate's page and PDF print as its
    fingerprint."""
    return hashlib.sha256(canonical(document.get("payload") or {})).hexdigest()


@dataclass(frozen=True)
class Check:
    signature_ok: bool
    key_known: bool


def check_signature(document: dict[str, Any], keys: dict[str, bytes]) -> Check:
    """Whether the document's signature holds under the named key (raw public key bytes by key id)."""
    parse(document)
    raw = keys.get(str(document["key_id"]))
    if raw is None:
        return Check(False, False)
    try:
        signature = base64.b64decode(str(document["signature"]), validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, canonical(document["payload"]))
    except (InvalidSignature, ValueError):
        return Check(False, True)
    return Check(True, True)


def parse(document: Any) -> dict[str, Any]:
    """A certificate document's shape, or InputError saying what is wrong with it."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(N_("this is not a gep certificate (expected a JSON document of format {format})"),
                         format=FORMAT)
    for field, kind in (("payload", dict), ("key_id", str), ("signature", str)):
        if not isinstance(document.get(field), kind):
            raise InputError(N_("the certificate has no valid field {field}"), field=field)
    if not isinstance(document["payload"].get("serial"), str):
        raise InputError(N_("the certificate has no valid field {field}"), field="payload.serial")
    return document


def load(data: bytes) -> dict[str, Any]:
    """A certificate document from a file's bytes: the JSON itself, or a certificate PDF that carries it."""
    if data[:5] == b"%PDF-":
        return parse(json.loads(_from_pdf(data)))
    try:
        return parse(json.loads(data.decode("utf-8-sig")))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(N_("the file is neither a certificate PDF nor a certificate JSON document")) from None


ATTACHMENT = "certificate.json"


def _from_pdf(data: bytes) -> bytes:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        attached = PdfReader(io.BytesIO(data)).attachments.get(ATTACHMENT)
    except (PdfReadError, ValueError, KeyError, TypeError):
        raise InputError(N_("the PDF cannot be read")) from None
    if not attached:
        raise InputError(N_("the PDF carries no certificate (no attached {name})"), name=ATTACHMENT)
    return attached[0]
