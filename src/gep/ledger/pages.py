"""The ledger's page: one's accounts and statements; for staff, payments and the balance sheet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gep.kit.web.deps import Caller
from gep.kit.web.pages import render
from gep.ledger import rules, service

router = APIRouter(include_in_schema=False)


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(request: Request, caller: Caller) -> Response:
    return render(request, "ledger/ledger.html.j2", caller, staff=caller.can(service.PAYMENTS),
                  auditor=caller.can(service.READ_ALL),
                  config={"kinds": rules.KINDS, "platform_names": {f"platform:{k}": v[0] for k, v in
                                                                    service.PLATFORM_ACCOUNTS.items()},
                          "codes": service.CODES, "staff": caller.can(service.PAYMENTS)})
