"""JSON API of users and access. Thin: build the command, call the service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from gep.auth import rules, service
from gep.auth.models import AuditEntry, Organisation, User
from gep.web.deps import SESSION_COOKIE, Caller, Db

router = APIRouter(prefix="/api", tags=["auth"])


class Login(BaseModel):
    username: str
    password: str


class TokenRequest(Login):
    name: str = ""


class NewUser(BaseModel):
    username: str
    password: str = Field(min_length=1)
    role: str
    display_name: str = ""
    organisation_id: int | None = None


class NewOrganisation(BaseModel):
    name: str
    kind: str


def user_dict(u: User) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
            "role_name": rules.ROLES.get(u.role, (u.role, u.role)), "organisation_id": u.organisation_id,
            "is_active": u.is_active, "permissions": sorted(rules.GRANTS.get(u.role, ()))}


def set_session_cookie(request: Request, response: Response, sid: str) -> None:
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", max_age=service.SESSION_HOURS * 3600,
                        secure=request.app.state.settings.secure_cookies)


@router.post("/auth/login")
def login(body: Login, request: Request, response: Response, db: Db) -> dict[str, Any]:
    """Start a browser session (cookie); the answer carries the CSRF token to send with every change."""
    user = service.authenticate(db, body.username, body.password)
    sid, csrf = service.open_session(db, user)
    set_session_cookie(request, response, sid)
    return {"user": user_dict(user), "csrf_token": csrf}


@router.post("/auth/logout")
def logout(request: Request, response: Response, caller: Caller, db: Db) -> dict[str, str]:
    service.close_session(db, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE)
    return {"status": "logged out"}


@router.post("/auth/tokens")
def issue_token(body: TokenRequest, db: Db) -> dict[str, str]:
    """A bearer token for API clients, in exchange for the user's password (shown once)."""
    user = service.authenticate(db, body.username, body.password)
    return {"token": service.issue_token(db, user, body.name), "token_type": "bearer"}


@router.get("/auth/me")
def me(caller: Caller, db: Db) -> dict[str, Any]:
    user = db.get(User, caller.user_id)
    assert user is not None
    return {**user_dict(user), "csrf_token": caller.csrf_token}


@router.get("/users")
def list_users(caller: Caller, db: Db) -> list[dict[str, Any]]:
    caller.require("user.manage")
    return [user_dict(u) for u in db.scalars(select(User).order_by(User.id))]


@router.post("/users", status_code=201)
def create_user(body: NewUser, caller: Caller, db: Db) -> dict[str, Any]:
    caller.require("user.manage")
    user = service.create_user(db, body.username, body.password, body.role, body.display_name, body.organisation_id,
                               by=caller.user_id)
    return user_dict(user)


@router.get("/organisations")
def list_organisations(caller: Caller, db: Db) -> list[dict[str, Any]]:
    caller.require("accounts.read")
    return [{"id": o.id, "name": o.name, "kind": o.kind} for o in db.scalars(select(Organisation))]


@router.post("/organisations", status_code=201)
def create_organisation(body: NewOrganisation, caller: Caller, db: Db) -> dict[str, Any]:
    caller.require("user.manage")
    org = service.create_organisation(db, body.name, body.kind, by=caller.user_id)
    return {"id": org.id, "name": org.name, "kind": org.kind}


@router.get("/audit")
def audit_log(caller: Caller, db: Db, limit: int = 100) -> list[dict[str, Any]]:
    caller.require("audit.read")
    rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(min(limit, 1000)))
    return [{"id": a.id, "at": a.at.isoformat(), "user_id": a.user_id, "action": a.action, "entity": a.entity,
             "entity_id": a.entity_id, "detail": a.detail} for a in rows]
