"""The brand's pages: the brand office (applications, inspection and certification, producers, the map of
certified products, batches), a batch (its steps on the chain, recording the next one, label sheets), and the
public trace page a label's QR code opens, with no login."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from gep.brands import rules, service
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Id, MaybeCaller, needs
from gep.kit.web.pages import render

router = APIRouter(include_in_schema=False)
Tracer = Annotated[Principal, Depends(needs(service.TRACE))]


def _config(caller: Principal | None, **more: Any) -> dict[str, Any]:
    b = rules.brand()
    return {"can_manage": bool(caller and caller.can(service.MANAGE)),
            "can_apply": bool(caller and (caller.can(service.APPLY) or caller.can(service.MANAGE))),
            "can_trace": bool(caller and (caller.can(service.TRACE) or caller.can(service.MANAGE))),
            "states": rules.STATES, "steps": rules.STEPS, "roles": service.ROLES,
            "brand": {"name_zh": b.name_zh, "name_en": b.name_en, "founded": b.founded},
            "categories": {c.code: {"zh": c.name_zh, "en": c.name_en, "unit": c.unit,
                                    "items": [{"code": i.code, "zh": i.name_zh, "en": i.name_en, "unit": i.unit,
                                               "limit": i.limit_text(), "standard": i.standard}
                                              for i in c.inspection]}
                           for c in b.categories.values()}, **more}


@router.get("/brands", response_class=HTMLResponse)
def office_page(request: Request, caller: Caller) -> Response:
    return render(request, "brands/office.html.j2", caller, config=_config(caller))


@router.get("/brands/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(batch_id: Id, request: Request, caller: Caller) -> Response:
    return render(request, "brands/batch.html.j2", caller, config=_config(caller, batch_id=batch_id))


@router.get("/trace", response_class=HTMLResponse)
def trace_form(request: Request, caller: MaybeCaller) -> Response:
    return render(request, "brands/trace.html.j2", caller, config=_config(caller, code="", batch_no=""))


@router.get("/trace/{code}", response_class=HTMLResponse)
def trace_page(code: str, request: Request, caller: MaybeCaller,
               b: Annotated[str, Query(max_length=40)] = "") -> Response:
    return render(request, "brands/trace.html.j2", caller, config=_config(caller, code=code[:40], batch_no=b))
