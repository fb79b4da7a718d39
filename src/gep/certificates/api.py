"""JSON API of certificates: a certificate's public record, its PDF and document for the parties, verification
of a file anyone holds, revocation by staff, and the platform's public keys."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from gep.certificates import keys, pdf, rules, service
from gep.certificates.models import Certificate
from gep.errors import N_, InputError, PermissionDenied
from gep.kit.principal import Principal
from gep.kit.web.deps import Db, MaybeCaller, Name, PathCode, lang_of, needs
from gep.kit.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/certificates", tags=["certificates"], responses=ERROR_RESPONSES)
Revoker = Annotated[Principal, Depends(needs(service.REVOKE))]
MAX_FILE = 4 * 1024 * 1024


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Name


def signer_of(request: Request) -> keys.Signer:
    """The platform's signing key (made in the data folder on first use)."""
    return keys.signer(keys.key_path(request.app.state.settings.data_dir))


def verify_url(request: Request, serial: str) -> str:
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/certificates/{serial}"


def record(row: Certificate, status: str, gettext: Any) -> dict[str, Any]:
    document = service.document_of(row)
    return {"serial": row.serial, "kind": row.kind, "title": row.title, "issued_at": row.issued_at,
            "revoked_at": row.revoked_at, "revoked_reason": row.revoked_reason, "status": status,
            "verdict": gettext(rules.VERDICTS[status]), "digest": row.digest, "key_id": document.get("key_id"),
            "lines": document["payload"].get("lines", [])}


@router.get("/keys", summary="The platform's public signing keys (Ed25519, raw, base64)")
def public_keys(db: Db) -> list[dict[str, Any]]:
    return [{"key_id": k, "public_key": base64.b64encode(raw).decode()} for k, raw in service.known_keys(db).items()]


@router.get("/{serial}", summary="A certificate's public record and status")
def certificate(serial: PathCode, request: Request, db: Db, caller: MaybeCaller) -> dict[str, Any]:
    row = service.get(db, serial)
    verdict = service.verify(db, service.document_of(row))
    out = record(row, verdict.status, request.app.state.platform.catalogues.gettext(lang_of(request)))
    out["downloadable"] = service.may_download(row, caller)
    return out


def _downloadable(db: Db, serial: str, caller: Principal | None) -> Certificate:
    row = service.get(db, serial)
    if not service.may_download(row, caller):
        raise PermissionDenied(N_("only the parties and the exchange's staff may download certificate {id}"),
                               id=serial)
    return row


@router.get("/{serial}/pdf", response_class=Response, summary="The certificate as a PDF (parties and staff)",
            responses={200: {"content": {"application/pdf": {}}, "description": "the certificate"}})
def certificate_pdf(serial: PathCode, request: Request, db: Db, caller: MaybeCaller) -> Response:
    row = _downloadable(db, serial, caller)
    body = pdf.render(service.document_of(row), verify_url(request, row.serial), revoked=row.revoked_at is not None)
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{row.serial}.pdf"'})


@router.get("/{serial}/document", summary="The signed document (JSON; parties and staff)")
def certificate_document(serial: PathCode, db: Db, caller: MaybeCaller) -> dict[str, Any]:
    return service.document_of(_downloadable(db, serial, caller))


@router.post("/verify", summary="Check a certificate file (PDF or JSON) anyone holds",
             description="Answers whether it is genuine, tampered with, revoked or unknown; stores nothing.")
def verify(request: Request, db: Db,
           file: Annotated[UploadFile, File(description="a certificate PDF, or its JSON document")]) -> dict[str, Any]:
    data = file.file.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise InputError(N_("{file} is larger than {limit} MB"), file=file.filename or "?", limit=MAX_FILE >> 20)
    document = rules.load(data)
    verdict = service.verify(db, document)
    gettext = request.app.state.platform.catalogues.gettext(lang_of(request))
    payload = document["payload"]
    return {"serial": payload.get("serial"), "status": verdict.status,
            "verdict": gettext(rules.VERDICTS[verdict.status]),
            "digest": verdict.digest, "key_id": document.get("key_id"), "title": payload.get("title"),
            "issued_at": payload.get("issued_at"), "lines": payload.get("lines", []),
            "revoked_reason": verdict.certificate.revoked_reason if verdict.certificate else "",
            "register_digest": verdict.certificate.digest if verdict.certificate else None}


@router.post("/{serial}/revoke", summary="Revoke a certificate (it stays on record, shown as revoked)")
def revoke(serial: PathCode, body: RevokeRequest, request: Request, db: Db, caller: Revoker) -> dict[str, Any]:
    row = service.revoke(db, serial, body.reason, caller)
    return record(row, rules.REVOKED, request.app.state.platform.catalogues.gettext(lang_of(request)))
