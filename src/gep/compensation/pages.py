"""The compensation pages: the basin (map of sections coloured by this year's direction and amount, the
settlement table per county pair, import and closing, the counties' fund ledger), a section's monthly series
with its thresholds, the damage cases with a form to open one, and a case with its map and claim report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from gep.accounting.catalogue import ECOSYSTEM_GROUPS, ECOSYSTEMS
from gep.compensation import damage, damage_service, rules, service
from gep.kit.principal import Principal
from gep.kit.web.deps import Db, Id, needs
from gep.kit.web.pages import render
from gep.regions import service as regions

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(needs(service.READ))]


def _config(db: Session, caller: Principal, **more: Any) -> dict[str, Any]:
    basins = service.basins(db)
    region_ids = [r.id for r in regions.list_regions(db)]
    return {"can_manage": caller.can(service.MANAGE), "directions": rules.DIRECTIONS,
            "orientations": rules.ORIENTATIONS,
            "parameters": {p.code: {"zh": p.name_zh, "en": p.name_en, "unit": p.unit,
                                    "unit_zh": p.unit_zh or p.unit.replace("m3", "m³"), "period": p.period}
                           for p in rules.PARAMETERS.values()},
            "parameter_order": list(rules.PARAMETERS),
            "basin_id": basins[0].id if basins else None,
            "region_id": (basins[0].region_id if basins and basins[0].region_id else
                          region_ids[0] if region_ids else None),
            "ecosystems": {**{g: {"zh": zh, "en": en, "group": True} for g, (zh, en) in ECOSYSTEM_GROUPS.items()},
                           **{e.id: {"zh": e.name_zh, "en": e.name_en, "group": False} for e in ECOSYSTEMS.values()}},
            "paths": damage.PATHS, "default_rate": str(damage_service.DEFAULT_RATE),
            "default_carbon_price": damage_service.DEFAULT_CARBON_PRICE_FEN / 100, **more}


@router.get("/compensation", response_class=HTMLResponse)
def basin_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "compensation/basin.html.j2", caller, config=_config(db, caller))


@router.get("/compensation/sections/{section_id}", response_class=HTMLResponse)
def section_page(section_id: Id, request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "compensation/section.html.j2", caller, config=_config(db, caller, section_id=section_id))


@router.get("/compensation/damage", response_class=HTMLResponse)
def damage_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "compensation/damage.html.j2", caller, config=_config(db, caller))


@router.get("/compensation/damage/{case_id}", response_class=HTMLResponse)
def case_page(case_id: Id, request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "compensation/case.html.j2", caller, config=_config(db, caller, case_id=case_id))
