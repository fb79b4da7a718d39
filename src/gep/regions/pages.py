"""Pages of GEP accounting: the dashboard (map, totals, indicators, trend) and the accounting runs.
They hold no business logic: their scripts call the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gep.kit.principal import Principal
from gep.kit.web.deps import needs
from gep.kit.web.pages import render
from gep.regions import service

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(needs(service.READ))]


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, caller: Reader) -> Response:
    return render(request, "regions/dashboard.html.j2", caller)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, caller: Reader) -> Response:
    from gep.accounting.methods import available_profiles

    return render(request, "regions/runs.html.j2", caller, methods=available_profiles(),
                  config={"can_run": caller.can(service.RUN)})


@router.get("/regions/data", response_class=HTMLResponse)
def data_page(request: Request, caller: Reader) -> Response:
    """Upload a region package, the statistics template, and the region's parameter overrides."""
    return render(request, "regions/data.html.j2", caller, config={"can_import": caller.can(service.IMPORT)})
