"""Server-rendered pages (Jinja2). They hold no business logic: the JavaScript calls the JSON API."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from gep.auth import service
from gep.auth.api import set_session_cookie
from gep.errors import NotAuthenticated
from gep.web.deps import SESSION_COOKIE, Caller, Db, MaybeCaller
from gep.web.i18n import lang_of, words

router = APIRouter(include_in_schema=False)


def templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def _page(request: Request, name: str, caller: object, **context: object) -> Response:
    lang = lang_of(request)
    response = templates(request).TemplateResponse(request, name, {
        "lang": lang, "t": words(lang), "t_json": json.dumps(words(lang), ensure_ascii=False), "caller": caller,
        **context})
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, samesite="lax", max_age=365 * 86400)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, caller: MaybeCaller, error: str = "", next: str = "/") -> Response:
    return _page(request, "login.html.j2", caller, error=error, next=next if next.startswith("/") else "/")


@router.post("/login")
def login_form(request: Request, db: Db, username: Annotated[str, Form()], password: Annotated[str, Form()],
               next: Annotated[str, Form()] = "/") -> Response:
    try:
        user = service.authenticate(db, username, password)
    except NotAuthenticated:
        return RedirectResponse("/login?error=1", status_code=303)
    sid, _csrf = service.open_session(db, user)
    response = RedirectResponse(next if next.startswith("/") else "/", status_code=303)
    set_session_cookie(request, response, sid)
    return response


@router.post("/logout")
def logout_form(request: Request, caller: Caller, db: Db) -> Response:
    service.close_session(db, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, caller: Caller) -> Response:
    caller.require("accounts.read")
    return _page(request, "dashboard.html.j2", caller)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, caller: Caller) -> Response:
    caller.require("accounts.read")
    return _page(request, "runs.html.j2", caller)
