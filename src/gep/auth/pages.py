"""Pages of users and access: log in and out, one's own account, and the user administration.

The login form carries a one-time token that must match a cookie only this site can set (and a same-origin
Origin header), so another site cannot post a login form on a visitor's behalf; after logging in, `next`
is followed only if it is a path on this site.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gep.auth import service
from gep.auth.api import _client_ip, set_session_cookie
from gep.errors import NotAuthenticated, TooManyRequests
from gep.kit.principal import Principal
from gep.kit.web.deps import SESSION_COOKIE, Caller, Db, MaybeCaller, needs, safe_next, same_origin
from gep.kit.web.pages import render

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "gep_login"


def _login_form(request: Request, caller: Principal | None, next_path: str, error: str = "",
                status_code: int = 200, retry_after: int = 0) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "auth/login.html.j2", caller, status_code=status_code, error=error,
                      next=safe_next(next_path), login_token=token, retry_after=retry_after)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", max_age=3600, path="/login",
                        secure=request.app.state.settings.secure_cookies)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, caller: MaybeCaller, next: str = "/") -> Response:
    return _login_form(request, caller, next)


@router.post("/login")
def login_form(request: Request, db: Db, username: Annotated[str, Form(max_length=80)],
               password: Annotated[str, Form(max_length=256)], login_token: Annotated[str, Form(max_length=64)] = "",
               next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not same_origin(request) or not cookie or not secrets.compare_digest(cookie, login_token):
        return _login_form(request, None, next, error="stale", status_code=403)
    try:
        user = service.authenticate(db, request.app.state.factory, username, password, _client_ip(request))
    except TooManyRequests as exc:
        return _login_form(request, None, next, error="throttled", status_code=429, retry_after=exc.retry_after)
    except NotAuthenticated:
        return _login_form(request, None, next, error="wrong", status_code=401)
    sid, _csrf = service.open_session(db, user)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, sid)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout_form(request: Request, caller: Caller, db: Db) -> Response:
    service.close_session(db, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, caller: Caller) -> Response:
    return render(request, "auth/account.html.j2", caller, roles=request.app.state.platform.roles)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, caller: Annotated[Principal, Depends(needs(service.MANAGE))]) -> Response:
    platform = request.app.state.platform
    return render(request, "auth/users.html.j2", caller, config={"roles": dict(platform.roles)})
