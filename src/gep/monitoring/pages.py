"""The monitoring pages: the map of stations with their latest values and the alerts (import for the monitoring
centre), a station's chart against its limit, the patrol map with a report form made for a phone, and the change
map between two years' land cover."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from gep.accounting.catalogue import ECOSYSTEM_GROUPS
from gep.kit.principal import Principal
from gep.kit.web.deps import Db, Id, needs
from gep.kit.web.pages import render
from gep.monitoring import rules, service
from gep.regions import service as regions

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(needs(service.READ))]
Ranger = Annotated[Principal, Depends(needs(service.PATROL))]


def _config(db: Session, caller: Principal, **more: Any) -> dict[str, Any]:
    cfg = rules.config()
    region_list = regions.list_regions(db)
    return {"can_import": caller.can(service.IMPORT), "can_handle": caller.can(service.HANDLE),
            "can_read": caller.can(service.READ), "can_patrol": caller.can(service.PATROL),
            "kinds": {k: {"zh": v.name_zh, "en": v.name_en,
                          "parameters": {p: {"zh": x.name_zh, "en": x.name_en, "unit": x.unit}
                                         for p, x in v.parameters.items()}} for k, v in cfg.kinds.items()},
            "departments": {k: {"zh": v["name_zh"], "en": v["name_en"]} for k, v in cfg.departments.items()},
            "patrols": {k: {"zh": v["name_zh"], "en": v["name_en"]} for k, v in cfg.patrols.items()},
            "groups": {g: {"zh": zh, "en": en} for g, (zh, en) in ECOSYSTEM_GROUPS.items()},
            "alert_states": service.ALERT_STATES,
            "regions": [{"id": r.id, "name": r.name} for r in region_list],
            "counties": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": json.loads(z.geometry), "properties": {"code": z.code, "name": z.name}}
                for r in region_list for z in regions.zones(db, r.id, "county") if z.geometry]}, **more}


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "monitoring/map.html.j2", caller, config=_config(db, caller))


@router.get("/monitoring/stations/{station_id}", response_class=HTMLResponse)
def station_page(station_id: Id, request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "monitoring/station.html.j2", caller, config=_config(db, caller, station_id=station_id))


@router.get("/monitoring/patrols", response_class=HTMLResponse)
def patrol_page(request: Request, db: Db, caller: Ranger) -> Response:
    return render(request, "monitoring/patrols.html.j2", caller, config=_config(db, caller))


@router.get("/monitoring/changes", response_class=HTMLResponse)
def change_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "monitoring/changes.html.j2", caller, config=_config(db, caller))
