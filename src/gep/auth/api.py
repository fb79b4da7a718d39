"""JSON API of users and access. Thin: build the command, call the service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from gep.auth import service
from gep.auth.models import ApiToken, Organisation, User
from gep.errors import N_, PermissionDenied
from gep.kit.principal import Principal
from gep.kit.web.deps import (
    SESSION_COOKIE,
    Caller,
    Code,
    Db,
    Id,
    Label,
    Name,
    OptName,
    RowId,
    Secret,
    ShortName,
    needs,
    same_origin,
)
from gep.kit.web.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api", tags=["auth"], responses=ERROR_RESPONSES)
Manager = Annotated[Principal, Depends(needs(service.MANAGE))]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Body):
    username: ShortName
    password: Secret


class TokenRequest(Login):
    name: Label = ""


class NewUser(Body):
    username: ShortName
    password: Secret
    role: Code
    display_name: OptName = ""
    organisation_id: RowId | None = None


class UserChange(Body):
    role: Code | None = None
    is_active: bool | None = None
    display_name: OptName | None = None
    organisation_id: RowId | None = None


class PasswordChange(Body):
    current_password: Secret
    new_password: Secret


class PasswordReset(Body):
    new_password: Secret


class NewOrganisation(Body):
    name: Name
    kind: Code


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    organisation_id: int | None
    is_active: bool
    permissions: list[str]


class Me(UserOut):
    csrf_token: str


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class TokenOut(BaseModel):
    token: str
    token_type: str


class TokenInfo(BaseModel):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime
    revoked: bool


class OrganisationOut(BaseModel):
    id: int
    name: str
    kind: str


class Status(BaseModel):
    status: str


def user_out(request: Request, u: User) -> UserOut:
    perms = request.app.state.platform.permissions_of(u.role)
    return UserOut(id=u.id, username=u.username, display_name=u.display_name, role=u.role,
                   organisation_id=u.organisation_id, is_active=u.is_active, permissions=sorted(perms))


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def set_session_cookie(request: Request, response: Response, sid: str) -> None:
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", max_age=service.SESSION_HOURS * 3600,
                        secure=request.app.state.settings.secure_cookies, path="/")


@router.post("/auth/login")
def login(body: Login, request: Request, response: Response, db: Db) -> LoginOut:
    """Start a browser session (cookie); the answer carries the CSRF token to send with every change."""
    if not same_origin(request):
        raise PermissionDenied(N_("the request comes from another site"))
    user = service.authenticate(db, request.app.state.factory, body.username, body.password, _client_ip(request))
    sid, csrf = service.open_session(db, user)
    set_session_cookie(request, response, sid)
    return LoginOut(user=user_out(request, user), csrf_token=csrf)


@router.post("/auth/logout")
def logout(request: Request, response: Response, caller: Caller, db: Db) -> Status:
    """End the session (cookie), or revoke the bearer token the request came with."""
    if caller.via == "token" and caller.token_id is not None:
        service.revoke_token(db, caller.token_id, caller)
    else:
        service.close_session(db, request.cookies.get(SESSION_COOKIE, ""))
        response.delete_cookie(SESSION_COOKIE, path="/")
    return Status(status="logged out")


@router.post("/auth/tokens")
def issue_token(body: TokenRequest, request: Request, db: Db) -> TokenOut:
    """A bearer token for API clients, in exchange for the user's password (shown once; valid 90 days)."""
    user = service.authenticate(db, request.app.state.factory, body.username, body.password, _client_ip(request))
    return TokenOut(token=service.issue_token(db, user, body.name), token_type="bearer")


@router.get("/auth/tokens")
def my_tokens(caller: Caller, db: Db) -> list[TokenInfo]:
    return [_token_info(t) for t in service.list_tokens(db, caller)]


@router.delete("/auth/tokens/{token_id}")
def revoke_token(token_id: Id, caller: Caller, db: Db) -> TokenInfo:
    return _token_info(service.revoke_token(db, token_id, caller))


def _token_info(t: ApiToken) -> TokenInfo:
    return TokenInfo(id=t.id, name=t.name, created_at=t.created_at, expires_at=t.expires_at, revoked=t.revoked)


@router.post("/auth/password")
def change_password(body: PasswordChange, request: Request, caller: Caller, db: Db) -> Status:
    """Change one's own password; every other session ends and every token is revoked."""
    service.change_own_password(db, caller, body.current_password, body.new_password,
                                request.cookies.get(SESSION_COOKIE))
    return Status(status="password changed")


@router.get("/auth/me")
def me(request: Request, caller: Caller, db: Db) -> Me:
    if caller.user_id is None:
        raise PermissionDenied(N_("the system has no user account"))
    return Me(**user_out(request, service.get_user(db, caller.user_id)).model_dump(), csrf_token=caller.csrf_token)


@router.get("/users")
def list_users(request: Request, caller: Manager, db: Db) -> list[UserOut]:
    return [user_out(request, u) for u in service.list_users(db, caller)]


@router.post("/users", status_code=201)
def create_user(body: NewUser, request: Request, caller: Manager, db: Db) -> UserOut:
    user = service.create_user(db, body.username, body.password, body.role, caller, body.display_name,
                               body.organisation_id, roles=request.app.state.platform.roles)
    return user_out(request, user)


@router.get("/users/{user_id}")
def get_user(user_id: Id, request: Request, caller: Manager, db: Db) -> UserOut:
    return user_out(request, service.get_user(db, user_id))


@router.patch("/users/{user_id}")
def update_user(user_id: Id, body: UserChange, request: Request, caller: Manager, db: Db) -> UserOut:
    """Change role, organisation or name, or deactivate (ends the user's sessions and tokens at once)."""
    user = service.update_user(db, user_id, caller, role=body.role, is_active=body.is_active,
                               display_name=body.display_name, organisation_id=body.organisation_id,
                               roles=request.app.state.platform.roles)
    return user_out(request, user)


@router.post("/users/{user_id}/password")
def reset_password(user_id: Id, body: PasswordReset, caller: Manager, db: Db) -> Status:
    service.reset_password(db, user_id, body.new_password, caller)
    return Status(status="password set")


@router.get("/organisations")
def list_organisations(caller: Caller, db: Db) -> list[OrganisationOut]:
    return [OrganisationOut(id=o.id, name=o.name, kind=o.kind)
            for o in db.scalars(select(Organisation).order_by(Organisation.id))]


@router.post("/organisations", status_code=201)
def create_organisation(body: NewOrganisation, caller: Manager, db: Db) -> OrganisationOut:
    org = service.create_organisation(db, body.name, body.kind, caller)
    return OrganisationOut(id=org.id, name=org.name, kind=org.kind)


def roles_out(request: Request) -> dict[str, Any]:
    return dict(request.app.state.platform.roles)
