"""The exchange's pages: public listings with a map, a listing with its countdown and live bid ladder, a new
listing, my trades, the review queue, the demand board, and the categories."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from gep.exchange import categories, perms, rules
from gep.kit.principal import Principal
from gep.kit.web.deps import Caller, Db, Id, MaybeCaller, needs
from gep.kit.web.pages import render

router = APIRouter(include_in_schema=False)


def _config(db: Session, caller: Principal | None, **more: Any) -> dict[str, Any]:
    return {"states": rules.STATES, "modes": rules.MODES, "verbs": rules.VERBS, "sourcing": categories.SOURCING,
            "categories": [{"code": c.code, "zh": c.name_zh, "en": c.name_en, "modes": c.modes, "unit": c.unit,
                            "right_type": c.right_type, "active": c.active,
                            "units_from": c.units_from} for c in categories.all_categories(db)],
            "can_trade": bool(caller and caller.can(perms.TRADE)),
            "can_review": bool(caller and caller.can(perms.REVIEW)),
            "can_edit_categories": bool(caller and caller.can(perms.CATEGORIES)),
            "logged_in": caller is not None, **more}


@router.get("/exchange", response_class=HTMLResponse)
def listings_page(request: Request, db: Db, caller: MaybeCaller) -> Response:
    return render(request, "exchange/listings.html.j2", caller, config=_config(db, caller))


@router.get("/exchange/listings/{listing_id}", response_class=HTMLResponse)
def listing_page(listing_id: Id, request: Request, db: Db, caller: MaybeCaller) -> Response:
    return render(request, "exchange/listing.html.j2", caller, config=_config(db, caller, listing_id=listing_id))


@router.get("/exchange/new", response_class=HTMLResponse)
def new_listing_page(request: Request, db: Db, caller: Annotated[Principal, Depends(needs(perms.TRADE))]) -> Response:
    return render(request, "exchange/new.html.j2", caller, config=_config(db, caller))


@router.get("/exchange/my", response_class=HTMLResponse)
def my_page(request: Request, db: Db, caller: Caller) -> Response:
    return render(request, "exchange/my.html.j2", caller, config=_config(db, caller))


@router.get("/exchange/review", response_class=HTMLResponse)
def review_page(request: Request, db: Db, caller: Annotated[Principal, Depends(needs(perms.REVIEW))]) -> Response:
    return render(request, "exchange/review.html.j2", caller, config=_config(db, caller))


@router.get("/exchange/demands", response_class=HTMLResponse)
def demands_page(request: Request, db: Db, caller: Caller) -> Response:
    return render(request, "exchange/demands.html.j2", caller, config=_config(db, caller))


@router.get("/exchange/categories", response_class=HTMLResponse)
def categories_page(request: Request, db: Db, caller: MaybeCaller) -> Response:
    return render(request, "exchange/categories.html.j2", caller, config=_config(db, caller))
