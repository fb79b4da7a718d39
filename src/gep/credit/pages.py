"""The ecological-credit pages: my credit (grade, why, history, objections), a subject's credit for the office,
and the credit office (review queue, recording and import, the grade distribution by county)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gep.credit import catalogue, rules, service
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Id, needs
from gep.kit.web.pages import render

router = APIRouter(include_in_schema=False)


def _config(caller: Principal, **more: Any) -> dict[str, Any]:
    return {"can_record": caller.can(service.RECORD), "can_review": caller.can(service.REVIEW),
            "states": rules.EVENT_STATES, "sources": rules.SOURCES, "kinds": catalogue.SUBJECT_KINDS, **more}


@router.get("/credit/my", response_class=HTMLResponse)
def my_page(request: Request, caller: Caller) -> Response:
    return render(request, "credit/subject.html.j2", caller, config=_config(caller, subject_id=None))


@router.get("/credit/subjects/{subject_id}", response_class=HTMLResponse)
def subject_page(subject_id: Id, request: Request, caller: Caller) -> Response:
    return render(request, "credit/subject.html.j2", caller, config=_config(caller, subject_id=subject_id))


@router.get("/credit", response_class=HTMLResponse)
def office_page(request: Request, caller: Annotated[Principal, Depends(needs(service.READ_ALL))]) -> Response:
    return render(request, "credit/office.html.j2", caller, config=_config(caller))
