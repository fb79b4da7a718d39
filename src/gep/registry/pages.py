"""The registry map: parcels coloured by kind or by whether a right on them is locked; a parcel's rights,
locks, history and value; a polygon drawn for its value; a parcel file imported (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gep.kit.principal import Principal
from gep.kit.web.deps import Db, needs
from gep.kit.web.pages import render
from gep.regions import service as regions
from gep.registry import rules, service

router = APIRouter(include_in_schema=False)


@router.get("/registry", response_class=HTMLResponse)
def registry_page(request: Request, caller: Annotated[Principal, Depends(needs(service.READ))], db: Db) -> Response:
    return render(request, "registry/registry.html.j2", caller, kinds=rules.KINDS, config={
        "kinds": {k: v.label for k, v in rules.KINDS.items()}, "rights": rules.RIGHT_TYPES,
        "locks": rules.LOCK_KINDS, "can_record": caller.can(service.RECORD),
        "regions": [{"id": r.id, "name": r.name, "name_en": r.name_en} for r in regions.list_regions(db)]})
