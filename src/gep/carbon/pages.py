"""The carbon registry's pages: the public registry (projects on the map, issuances, retirements and their
search), a project's page (stands, monitoring reports, verification, issuance, unit moves) and a holder's units
(transfer, offer on the exchange, retire)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from gep.carbon import methodology, rules, service
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Db, Id, MaybeCaller, needs
from gep.kit.web.pages import render
from gep.regions.models import Region

router = APIRouter(include_in_schema=False)


def _config(caller: Principal | None, **more: Any) -> dict[str, Any]:
    return {"types": rules.PROJECT_TYPES, "purposes": rules.PURPOSES, "period_states": rules.PERIOD_STATES,
            "can_develop": bool(caller and caller.can(service.DEVELOP)), "logged_in": caller is not None, **more}


@router.get("/carbon", response_class=HTMLResponse)
def registry_page(request: Request, caller: MaybeCaller) -> Response:
    return render(request, "carbon/registry.html.j2", caller, config=_config(caller))


@router.get("/carbon/projects/{project_id}", response_class=HTMLResponse)
def project_page(project_id: Id, request: Request, caller: MaybeCaller) -> Response:
    return render(request, "carbon/project.html.j2", caller, config=_config(caller, project_id=project_id))


@router.get("/carbon/new", response_class=HTMLResponse)
def new_project_page(request: Request, db: Db, caller: Annotated[Principal, Depends(needs(service.DEVELOP))]
                     ) -> Response:
    regions = [{"id": r.id, "name": r.name} for r in db.scalars(select(Region).order_by(Region.id))]
    methods = [{"id": m, **{k: v for k, v in methodology.load(m).as_dict().items() if k in ("name_zh", "name_en")},
                "species": {s: {"zh": p["name_zh"], "en": p["name_en"]}
                            for s, p in methodology.load(m).as_dict()["species"].items()}}
               for m in methodology.available()]
    return render(request, "carbon/new.html.j2", caller, config=_config(caller, regions=regions, methods=methods))


@router.get("/carbon/my", response_class=HTMLResponse)
def my_page(request: Request, caller: Caller) -> Response:
    return render(request, "carbon/my.html.j2", caller, config=_config(caller, organisation_id=caller.organisation_id))
