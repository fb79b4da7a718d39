"""The discharge-rights pages: an enterprise's card (一企一证一卡: balances, usage chart, alerts, fee bills,
pledges, emission import) and the environment bureau's overview (reserves, auctions, enterprises over their
quota, project checks)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gep.discharge import rules, service
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Id, needs
from gep.kit.web.pages import render

router = APIRouter(include_in_schema=False)


def _config(caller: Principal, **more: Any) -> dict[str, Any]:
    return {"pollutants": {k: {"zh": v["name_zh"], "en": v["name_en"]} for k, v in rules.pollutants().items()},
            "thresholds": rules.thresholds(), "can_manage": caller.can(service.MANAGE),
            "can_hold": caller.can(service.HOLD), **more}


@router.get("/discharge", response_class=HTMLResponse)
def overview_page(request: Request, caller: Annotated[Principal, Depends(needs(service.READ_ALL))]) -> Response:
    return render(request, "discharge/overview.html.j2", caller, config=_config(caller))


@router.get("/discharge/card", response_class=HTMLResponse)
def my_card_page(request: Request, caller: Caller) -> Response:
    return render(request, "discharge/card.html.j2", caller, config=_config(caller, enterprise_id=None))


@router.get("/discharge/enterprises/{enterprise_id}", response_class=HTMLResponse)
def card_page(enterprise_id: Id, request: Request, caller: Caller) -> Response:
    return render(request, "discharge/card.html.j2", caller, config=_config(caller, enterprise_id=enterprise_id))
