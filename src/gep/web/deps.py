"""Request dependencies: the database session (a unit of work) and the caller (session cookie or bearer token)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gep.auth.service import Principal, principal_from_session, principal_from_token
from gep.db import unit_of_work
from gep.errors import NotAuthenticated, PermissionDenied

SESSION_COOKIE = "gep_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back if it raises."""
    with unit_of_work(request.app.state.factory) as session:
        yield session


# scope="function": the transaction commits before the response is sent (not after), so a client that gets
# "201 Created" or a session cookie can rely on the change being stored.
Db = Annotated[Session, Depends(get_db, scope="function")]


def optional_principal(request: Request, db: Db) -> Principal | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        principal = principal_from_token(db, auth[7:].strip())
        if principal is None:
            raise NotAuthenticated("the bearer token is invalid, expired or revoked")
        return principal
    sid = request.cookies.get(SESSION_COOKIE)
    return principal_from_session(db, sid) if sid else None


async def principal(request: Request, caller: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    """The authenticated caller; a cookie session must also present its CSRF token on every change."""
    if caller is None:
        raise NotAuthenticated("log in, or send a bearer token")
    if caller.via == "session" and request.method in UNSAFE:
        sent = request.headers.get("x-csrf-token")
        if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = str((await request.form()).get("csrf_token", ""))
        if not sent or sent != caller.csrf_token:
            raise PermissionDenied("missing or wrong CSRF token")
    return caller


Caller = Annotated[Principal, Depends(principal)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]


def reader(caller: Caller) -> Principal:
    caller.require("accounts.read")
    return caller


Reader = Annotated[Principal, Depends(reader)]
