"""Use cases of certificates: issue (signed, once per subject), look up, verify a document, revoke."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.certificates import rules
from gep.certificates.keys import Signer
from gep.certificates.models import Certificate, SigningKey
from gep.errors import N_, Conflict, NotFound
from gep.kit.audit import audit, now
from gep.kit.principal import Principal

REVOKE = "certificates.revoke"
READ_ALL = "certificates.read_all"


def register_key(session: Session, signer: Signer) -> None:
    """Put the signer's public key in the register (once)."""
    if session.get(SigningKey, signer.key_id) is None:
        session.add(SigningKey(key_id=signer.key_id, public_key=signer.public_raw, created_at=now()))
        session.flush()


def known_keys(session: Session) -> dict[str, bytes]:
    return {k.key_id: k.public_key for k in session.scalars(select(SigningKey))}


def issue(session: Session, signer: Signer, kind: str, subject_ref: str, title: str, payload: dict[str, Any],
          party_user_ids: list[int], party_org_ids: list[int], by: Principal | None = None) -> Certificate:
    """Sign and register a certificate for a subject; a subject gets one certificate (issuing again returns it)."""
    done = session.scalar(select(Certificate).where(Certificate.subject_ref == subject_ref))
    if done is not None:
        return done
    register_key(session, signer)
    at = now()
    row = Certificate(serial=f"pending:{subject_ref}"[:40], kind=kind, subject_ref=subject_ref, title=title,
                      document="{}", digest="", party_user_ids=sorted(set(party_user_ids)),
                      party_org_ids=sorted(set(party_org_ids)), issued_at=at, revoked_reason="")
    session.add(row)
    session.flush()
    row.serial = f"GEP-{at.year}-{row.id:06d}"
    document = rules.sign(signer.private, {**payload, "serial": row.serial, "kind": kind, "title": title,
                                           "issued_at": at.isoformat(timespec="seconds")})
    row.document = json.dumps(document, ensure_ascii=False, sort_keys=True)
    row.digest = rules.digest(document)
    audit(session, by, "issue", "certificate", row.id, serial=row.serial, subject=subject_ref)
    return row


def get(session: Session, serial: str) -> Certificate:
    row = session.scalar(select(Certificate).where(Certificate.serial == serial))
    if row is None:
        raise NotFound(N_("certificate {id} does not exist"), id=serial)
    return row


def for_subject(session: Session, subject_ref: str) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.subject_ref == subject_ref))


def document_of(row: Certificate) -> dict[str, Any]:
    return dict(json.loads(row.document))


def may_download(row: Certificate, by: Principal | None) -> bool:
    """The parties to what it certifies, and staff, may download the certificate itself."""
    if by is None:
        return False
    return (by.can(READ_ALL) or (by.user_id is not None and by.user_id in row.party_user_ids)
            or (by.organisation_id is not None and by.organisation_id in row.party_org_ids))


def revoke(session: Session, serial: str, reason: str, by: Principal) -> Certificate:
    by.require(REVOKE)
    row = get(session, serial)
    if row.revoked_at is not None:
        raise Conflict(N_("certificate {id} was revoked already"), id=serial)
    row.revoked_at, row.revoked_reason, row.revoked_by = now(), reason, by.user_id
    audit(session, by, "revoke", "certificate", row.id, serial=serial, reason=reason)
    return row


@dataclass(frozen=True)
class Verdict:
    status: str  # rules.VALID, TAMPERED, REVOKED, UNKNOWN_KEY, NOT_ISSUED
    document: dict[str, Any]
    certificate: Certificate | None
    digest: str


def verify(session: Session, document: dict[str, Any]) -> Verdict:
    """Check a document against the platform's keys and register: the signature, that the platform issued
    exactly this content, and whether it was revoked since."""
    check = rules.check_signature(document, known_keys(session))
    digest = rules.digest(document)
    row = session.scalar(select(Certificate).where(Certificate.serial == str(document["payload"]["serial"])))
    if not check.key_known:
        status = rules.UNKNOWN_KEY
    elif not check.signature_ok:
        status = rules.TAMPERED
    elif row is None or row.digest != digest:
        status = rules.NOT_ISSUED
    elif row.revoked_at is not None:
        status = rules.REVOKED
    else:
        status = rules.VALID
    return Verdict(status, document, row, digest)
