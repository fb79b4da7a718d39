"""The cooperative's workspace (intake, packages, revenue) and a holder's own page (rights, contracts, income)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gep.cooperatives import rules, service
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, needs
from gep.kit.web.pages import render
from gep.registry import rules as registry_rules

router = APIRouter(include_in_schema=False)


def _words() -> dict[str, object]:
    return {"kinds": {k: v.label for k, v in registry_rules.KINDS.items()}, "rights": registry_rules.RIGHT_TYPES,
            "locks": registry_rules.LOCK_KINDS, "modes": rules.INTAKE_MODES, "states": rules.PACKAGE_STATES,
            "payments": rules.PAYMENTS}


@router.get("/cooperative", response_class=HTMLResponse)
def workspace(request: Request, caller: Annotated[Principal, Depends(needs(service.MANAGE))]) -> Response:
    return render(request, "cooperatives/workspace.html.j2", caller, modes=rules.INTAKE_MODES, config=_words())


@router.get("/my", response_class=HTMLResponse)
def my_page(request: Request, caller: Caller) -> Response:
    return render(request, "cooperatives/my.html.j2", caller, config=_words())
