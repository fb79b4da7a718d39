"""Request dependencies: the unit of work, the caller (session cookie or bearer token), permission checks, and
the parameter types every router uses so that no value the database cannot hold gets that far."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Callable
from typing import Annotated
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from fastapi import Depends, Header, Path, Query, Request
from pydantic import AfterValidator, Field, StringConstraints
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from gep.db import MAX_ID, attach_caller, unit_of_work
from gep.errors import N_, NotAuthenticated, PermissionDenied
from gep.kit.i18n import DEFAULT_LANGUAGE, language_from_header, normalise_language
from gep.kit.principal import Principal

SESSION_COOKIE = "gep_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


# -- values ---------------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Refuse what no column should hold: NUL and other control characters, lone surrogates."""
    if _CONTROL.search(value):
        raise ValueError("control characters (such as NUL) are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text is not valid Unicode (a lone surrogate)") from None
    return unicodedata.normalize("NFC", value)


_clean = AfterValidator(clean_text)

# strings sized for their columns; each refuses control characters and lone surrogates
Code = Annotated[str, StringConstraints(min_length=1, max_length=40), _clean]  # role, kind, zone code, method
ShortName = Annotated[str, StringConstraints(min_length=1, max_length=80), _clean]  # usernames
Label = Annotated[str, StringConstraints(max_length=100), _clean]  # may be empty
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), _clean]
OptName = Annotated[str, StringConstraints(max_length=200), _clean]
LongText = Annotated[str, StringConstraints(max_length=4000), _clean]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=256), _clean]  # passwords
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
DbInt = Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)]
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="an id (1 … 2⁶³−1)")]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many rows (1 … 1000)")]
Year = Annotated[int, Query(ge=1900, le=2200)]
PathCode = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")]
# a client's name for one request: sent again (a retry after a timeout), the request changes nothing more
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=64,
                                              pattern=r"^[A-Za-z0-9_.:\-]+$",
                                              description="any unique string (a UUID): a retry with the same key "
                                                          "is recognised and does not act twice")]


# -- the unit of work and the caller ---------------------------------------------------------------------------

# Two rules keep a busy server from stopping for good (seen with 200 clients bidding at once, before them):
# - a request holds a database connection from its first query to its commit, across several hops between the
#   event loop and the thread pool. If more requests were at work than the pool has connections, the pool's
#   connections could all belong to requests waiting for a thread while every thread is a request waiting for a
#   connection. So at most `_slots` requests are at work at once; the others wait in the event loop, holding
#   nothing. A few connections stay spare for the second, short sessions some requests open (login attempts,
#   error records).
# - the commit runs on threads of its own, never queued behind handlers.
_FINISHERS = anyio.CapacityLimiter(64)
_SPARE_CONNECTIONS = 4


def _slots(request: Request) -> anyio.CapacityLimiter:
    slots: anyio.CapacityLimiter | None = getattr(request.app.state, "db_slots", None)
    if slots is None:
        pool = request.app.state.engine.pool
        capacity = pool.size() + max(0, pool._max_overflow) if isinstance(pool, QueuePool) else 32
        slots = request.app.state.db_slots = anyio.CapacityLimiter(max(1, capacity - _SPARE_CONNECTIONS))
    return slots


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back if it raises. Rows of
    organisation-scoped models are visible only to the caller attached to it."""
    async with _slots(request):
        work = unit_of_work(request.app.state.factory, scoped=True)
        session = work.__enter__()  # no I/O: the session takes a connection at its first query
        try:
            yield session
        except BaseException as exc:
            await anyio.to_thread.run_sync(work.__exit__, type(exc), exc, exc.__traceback__, limiter=_FINISHERS)
            raise
        await anyio.to_thread.run_sync(work.__exit__, None, None, None, limiter=_FINISHERS)


# scope="function": the transaction commits before the response is sent (not after), so a client that gets
# "201 Created" or a session cookie can rely on the change being stored.
Db = Annotated[Session, Depends(get_db, scope="function")]


def optional_principal(request: Request, db: Db) -> Principal | None:
    platform = request.app.state.platform
    auth = request.headers.get("authorization", "")
    found: Principal | None
    if auth.lower().startswith("bearer "):
        found = platform.authenticator.from_token(db, auth[7:].strip())
        if found is None:
            raise NotAuthenticated(N_("the bearer token is invalid, expired or revoked"))
    else:
        sid = request.cookies.get(SESSION_COOKIE)
        found = platform.authenticator.from_session(db, sid) if sid else None
    if found is None:
        return None
    caller: Principal = platform.with_permissions(found)
    attach_caller(db, caller)
    request.state.user = caller.username
    request.state.caller = caller
    return caller


def same_origin(request: Request) -> bool:
    """A browser's Origin (or Referer) names this site, or is absent (API clients, old browsers)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc == host


async def principal(request: Request, caller: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    """The authenticated caller; a cookie session must also present its CSRF token on every change."""
    if caller is None:
        raise NotAuthenticated(N_("log in, or send a bearer token"))
    if caller.via == "session" and request.method in UNSAFE:
        if not same_origin(request):
            raise PermissionDenied(N_("the request comes from another site"))
        sent = request.headers.get("x-csrf-token")
        if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = str((await request.form()).get("csrf_token", ""))
        if not sent or sent != caller.csrf_token:
            raise PermissionDenied(N_("missing or wrong CSRF token"))
    return caller


Caller = Annotated[Principal, Depends(principal)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]


def needs(permission: str) -> Callable[..., Principal]:
    """A dependency: the caller, who must hold `permission` (a router's first line of defence; the service
    checks again)."""

    def check(caller: Caller) -> Principal:
        caller.require(permission)
        return caller

    check.__name__ = f"needs_{permission.replace('.', '_')}"
    return check


def lang_of(request: Request) -> str:
    """An API answer's language: ?lang=, Accept-Language (the pages' scripts send their page's), the lang
    cookie, else Chinese."""
    return (normalise_language(request.query_params.get("lang"))
            or language_from_header(request.headers.get("accept-language", ""))
            or normalise_language(request.cookies.get("lang")) or DEFAULT_LANGUAGE)


def page_lang_of(request: Request) -> str:
    """A page's language: ?lang= or the choice the user made before (cookie); Chinese otherwise, whatever the
    browser's own language — the platform speaks Chinese first."""
    return (normalise_language(request.query_params.get("lang")) or normalise_language(request.cookies.get("lang"))
            or DEFAULT_LANGUAGE)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after logging in; anything that could leave the site becomes `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 or c.isspace() for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
