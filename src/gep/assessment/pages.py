"""The assessment pages: the office's and departments' page (the year's score sheet with ranks and colours, a
county's indicators, computing and publishing, a department's values by form or workbook), and the public pages
that need no login and no JavaScript: the published colour codes (一码清) and a county's score card, which its
QR code opens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from gep.assessment import publication, rules, service
from gep.assessment.api import PathYear, Reader
from gep.assessment.public_api import Publisher
from gep.errors import N_
from gep.kit.principal import Principal
from gep.kit.web.deps import Db, Id, MaybeCaller, PathCode
from gep.kit.web.pages import render
from gep.regions import service as regions

router = APIRouter(include_in_schema=False)
LEVELS = {"city": N_("city level"), "county": N_("county level"), "township": N_("township level"),
          "village": N_("village level")}


def _config(db: Session, caller: Principal) -> dict[str, Any]:
    region_ids = [r.id for r in regions.list_regions(db)]
    dep = service.department_of(db, caller)
    return {"can_manage": caller.can(service.MANAGE),
            "can_submit": caller.can(service.SUBMIT) or caller.can(service.MANAGE),
            "department": dep.code if dep else None,
            "region_id": region_ids[0] if region_ids else None,
            "colours": rules.COLOURS, "algorithms": rules.ALGORITHMS}


@router.get("/assessment", response_class=HTMLResponse)
def assessment_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "assessment/assessment.html.j2", caller, config=_config(db, caller))


@router.get("/assessment/rewards", response_class=HTMLResponse)
def rewards_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "assessment/rewards.html.j2", caller, config=_config(db, caller))


@router.get("/assessment/projects", response_class=HTMLResponse)
def projects_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "assessment/projects.html.j2", caller, config=_config(db, caller))


def _published(db: Session) -> list[dict[str, Any]]:
    out = []
    for sheet in service.sheets(db, published_only=True):
        s = service.indicator_set(db, sheet.set_version)
        out.append({"sheet": sheet, "set": s, "units": sheet.body["units"],
                    "rules": [(r.colour, rules.rule_text(r)) for r in s.colour_rules]})
    return out


@router.get("/public/assessment", response_class=HTMLResponse)
def public_codes(request: Request, db: Db, caller: MaybeCaller) -> Response:
    return render(request, "assessment/public_codes.html.j2", caller, published=_published(db),
                  colours=rules.COLOURS, config={})


@router.get("/public/assessment/{version}/{year}/{code}", response_class=HTMLResponse)
def public_card(version: PathCode, year: PathYear, code: PathCode, request: Request, db: Db,
                caller: MaybeCaller) -> Response:
    sheet, row = service.published_card(db, version, year, code)
    s = service.indicator_set(db, version)
    return render(request, "assessment/card.html.j2", caller, sheet=sheet, row=row, set=s, colours=rules.COLOURS,
                  algorithms=rules.ALGORITHMS, count=len(sheet.body["units"]), departments=service.departments(db),
                  config={})


@router.get("/public", response_class=HTMLResponse)
def portal(request: Request, db: Db, caller: MaybeCaller) -> Response:
    """The public release (常态化发布): published accounts, the published assessment, links to public trades."""
    names = {r.id: r for r in regions.list_regions(db)}
    runs = [(p, run, names[run.region_id]) for p, run in publication.published(db) if run.region_id in names]
    sheets = [(sh, service.indicator_set(db, sh.set_version)) for sh in service.sheets(db, published_only=True)]
    return render(request, "assessment/portal.html.j2", caller, runs=runs, sheets=sheets, colours=rules.COLOURS,
                  config={})


@router.get("/public/gep/{run_id}", response_class=HTMLResponse)
def public_run(run_id: Id, request: Request, db: Db, caller: MaybeCaller, level: str | None = None,
               parent: str | None = None) -> Response:
    run = publication.public_run(db, run_id)
    view = publication.levels_view(db, run, level, parent)
    return render(request, "assessment/public_run.html.j2", caller, run=run, view=view, levels=LEVELS, config={})


@router.get("/public/gep/{run_id}/method", response_class=HTMLResponse)
def public_method(run_id: Id, request: Request, db: Db, caller: MaybeCaller) -> Response:
    run = publication.public_run(db, run_id)
    return render(request, "assessment/public_method.html.j2", caller, run=run,
                  method=(run.run_metadata or {}).get("method", {"id": run.method, "name_zh": run.method,
                                                                   "name_en": run.method}),
                  parameters=publication.parameters(run), config={})


@router.get("/assessment/audits", response_class=HTMLResponse)
def audits_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "assessment/audits.html.j2", caller, config=_config(db, caller))


@router.get("/assessment/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, db: Db, caller: Reader) -> Response:
    return render(request, "assessment/tasks.html.j2", caller, config=_config(db, caller))


@router.get("/assessment/release", response_class=HTMLResponse)
def release_page(request: Request, db: Db, caller: Publisher) -> Response:
    return render(request, "assessment/release.html.j2", caller, config={})
