"""Public pages: a certificate's record (where its QR code leads) and checking a certificate file."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gep.certificates import rules, service
from gep.kit.web.deps import MaybeCaller, PathCode
from gep.kit.web.pages import render

router = APIRouter(include_in_schema=False)


def _config(caller: MaybeCaller, serial: str = "") -> dict[str, object]:
    return {"serial": serial, "verdicts": rules.VERDICTS, "revoker": bool(caller and caller.can(service.REVOKE))}


@router.get("/certificates/verify", response_class=HTMLResponse)
def verify_page(request: Request, caller: MaybeCaller) -> Response:
    return render(request, "certificates/certificate.html.j2", caller, serial="", config=_config(caller))


@router.get("/certificates/{serial}", response_class=HTMLResponse)
def certificate_page(serial: PathCode, request: Request, caller: MaybeCaller) -> Response:
    return render(request, "certificates/certificate.html.j2", caller, serial=serial, config=_config(caller, serial))
