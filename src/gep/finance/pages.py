"""The green-finance pages: a borrower's loans with the application form (terms shown with their reasons before
applying), a loan's page (schedule, collateral, steps, the actions of the borrower or the bank), and a bank's
workbench (applications, portfolio, pledged rights on a map)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gep.finance import rules, service
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Id, needs
from gep.kit.web.pages import render

router = APIRouter(include_in_schema=False)


def _config(caller: Principal, **more: Any) -> dict[str, Any]:
    return {"states": rules.STATES, "verbs": rules.VERBS, "limit_kinds": rules.LIMIT_KINDS,
            "repayments": rules.REPAYMENTS, "can_lend": caller.can(service.LEND),
            "can_borrow": caller.can(service.BORROW), "org_id": caller.organisation_id, **more}


@router.get("/finance/loans", response_class=HTMLResponse)
def loans_page(request: Request, caller: Caller) -> Response:
    return render(request, "finance/loans.html.j2", caller, config=_config(caller))


@router.get("/finance/loans/{loan_id}", response_class=HTMLResponse)
def loan_page(loan_id: Id, request: Request, caller: Caller) -> Response:
    return render(request, "finance/loan.html.j2", caller, config=_config(caller, loan_id=loan_id))


@router.get("/finance", response_class=HTMLResponse)
def workbench_page(request: Request, caller: Annotated[Principal, Depends(needs(service.LEND))]) -> Response:
    return render(request, "finance/workbench.html.j2", caller, config=_config(caller))
