"""One table maps gep's errors to HTTP statuses; every error answer has one shape, in the caller's language.

Routes never raise HTTP errors for business rules: services raise gep's errors and this table answers. Bad
request values (FastAPI's validation), unknown routes, values the database refuses and unexpected failures all
answer in the same shape, so a client (and the OpenAPI document) has one error schema to know.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gep.db import unit_of_work
from gep.errors import (
    N_,
    Conflict,
    GepError,
    InputError,
    MethodError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ProblemsError,
    TooManyRequests,
)
from gep.kit.logs import current_context
from gep.kit.principal import Principal
from gep.kit.web.deps import SESSION_COOKIE, lang_of, page_lang_of

log = logging.getLogger(__name__)

STATUS: list[tuple[type[Exception], int]] = [
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (TooManyRequests, 429),
    (MethodError, 422),
    (InputError, 422),
    (GepError, 400),
]


class ProblemBody(BaseModel):
    where: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer: the error's name, a sentence in the caller's language, the problems one by one
    (bad values, a region package's problems), and the request id to quote to an administrator."""

    error: str
    detail: str
    problems: list[ProblemBody] = []
    request_id: str = ""


def _doc(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("The request cannot be carried out as asked"),
    401: _doc("Not logged in, or the token is invalid"),
    403: _doc("The caller's role may not do this, or the CSRF token is missing"),
    404: _doc("Not found (or not visible to the caller)"),
    409: _doc("Conflicts with the current state"),
    422: _doc("A value is missing, malformed or out of range"),
    429: _doc("Too many attempts: try again later"),
}

# pydantic's error types, as sentences a person can act on (translated through the catalogues)
VALIDATION = {
    "missing": N_("a value is required"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "float_type": N_("must be a number"),
    "decimal_parsing": N_("must be a number"),
    "bool_parsing": N_("must be true or false"),
    "string_type": N_("must be text"),
    "string_too_long": N_("is too long (at most {max_length} characters)"),
    "string_too_short": N_("is too short (at least {min_length} characters)"),
    "string_pattern_mismatch": N_("has characters that are not allowed here"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than_equal": N_("must be at most {le}"),
    "greater_than": N_("must be more than {gt}"),
    "less_than": N_("must be less than {lt}"),
    "value_error": N_("is not valid: {reason}"),
    "json_invalid": N_("the request body is not valid JSON"),
    "model_attributes_type": N_("must be an object"),
    "dict_type": N_("must be an object"),
    "list_type": N_("must be a list"),
    "enum": N_("must be one of {expected}"),
    "literal_error": N_("must be one of {expected}"),
    "extra_forbidden": N_("is not a known field"),
    "date_parsing": N_("must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": N_("must be a date (YYYY-MM-DD)"),
    "datetime_parsing": N_("must be a date and time (ISO 8601)"),
    "datetime_from_date_parsing": N_("must be a date and time (ISO 8601)"),
    "decimal_max_places": N_("has more than {decimal_places} decimal places"),
    "finite_number": N_("must be a finite number"),
}


def status_of(exc: Exception) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _gettext(request: Request) -> Any:
    return request.app.state.platform.catalogues.gettext(lang_of(request))


def _body(request: Request, error: str, detail: str, problems: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": error, "detail": detail, "problems": problems or [], "request_id": current_context()}


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")


PAGE_TITLES = {403: N_("Not allowed"), 404: N_("Not found"), 409: N_("Conflict"), 422: N_("Cannot do this"),
               429: N_("Too many attempts"), 500: N_("Something went wrong")}


def _page_caller(request: Request) -> Principal | None:
    """Who is looking at an error page (for its header); routes that failed early never asked."""
    caller = getattr(request.state, "caller", None)
    sid = request.cookies.get(SESSION_COOKIE)
    if caller is None and sid:
        platform = request.app.state.platform
        with unit_of_work(request.app.state.factory) as session:
            found = platform.authenticator.from_session(session, sid)
        caller = platform.with_permissions(found) if found else None
    return caller


def _error_page(request: Request, status: int, template: str, params: dict[str, Any]) -> Response:
    """A person who followed a link gets a page in the page's language, not JSON."""
    from gep.kit.web.pages import render

    gettext = request.app.state.platform.catalogues.gettext(page_lang_of(request))
    detail = GepError(template, **params).localized(gettext)
    return render(request, "error.html.j2", _page_caller(request), status_code=status,
                  title=gettext(PAGE_TITLES.get(status, N_("Cannot do this"))), detail=detail,
                  request_id=current_context())


def _validation_problem(err: dict[str, Any], gettext: Any) -> dict[str, str]:
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
    template = VALIDATION.get(err.get("type", ""))
    ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
    if "error" in ctx:
        ctx["reason"] = str(ctx["error"])
    if template is None:
        return {"where": where, "message": str(err.get("msg", ""))}
    try:
        message = gettext(template).format(**ctx)
    except (KeyError, IndexError):
        message = str(err.get("msg", ""))
    return {"where": where, "message": message}


def install(app: FastAPI) -> None:
    async def gep_error(request: Request, exc: Exception) -> Response:
        exc = cast(GepError, exc)
        status = status_of(exc)
        if status == 401 and _wants_page(request):
            from urllib.parse import quote

            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        gettext = _gettext(request)
        problems = [p.as_dict(gettext) for p in exc.problems] if isinstance(exc, ProblemsError) else []
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        if status >= 500:
            log.error("%s: %s", type(exc).__name__, exc)
        if _wants_page(request):
            return _error_page(request, status, exc.template, exc.params)
        return JSONResponse(_body(request, type(exc).__name__, exc.localized(gettext), problems), status_code=status,
                            headers=headers)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        exc = cast(RequestValidationError, exc)
        gettext = _gettext(request)
        problems = [_validation_problem(e, gettext) for e in exc.errors()]
        detail = "; ".join(f"{p['where']}: {p['message']}" for p in problems)
        return JSONResponse(_body(request, "InvalidRequest", detail, problems), status_code=422)

    async def http_error(request: Request, exc: Exception) -> Response:
        exc = cast(StarletteHTTPException, exc)
        gettext = _gettext(request)
        names = {404: ("NotFound", N_("there is no such page or API route")),
                 405: ("MethodNotAllowed", N_("this HTTP method is not allowed here"))}
        error, text = names.get(exc.status_code, ("HTTPError", str(exc.detail)))
        if _wants_page(request):
            return _error_page(request, exc.status_code, text, {})
        return JSONResponse(_body(request, error, gettext(text)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    async def database_error(request: Request, exc: Exception) -> Response:
        """A value the database refused: the request is at fault, not the server (the validations above the
        database should have caught it; the log says which one did not)."""
        gettext = _gettext(request)
        log.warning("database refused a request value: %s", str(exc).splitlines()[0][:300])
        if isinstance(exc, IntegrityError):
            return JSONResponse(_body(request, "Conflict", gettext(N_(
                "the change conflicts with stored data or refers to something that does not exist"))), 409)
        if isinstance(exc, DataError):
            return JSONResponse(_body(request, "InvalidValue", gettext(N_(
                "a value is out of range or malformed for the database"))), 422)
        return await unexpected(request, exc)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        gettext = _gettext(request)
        return JSONResponse(_body(request, "InternalError", gettext(N_(
            "an internal error occurred; an administrator can find it in the log under the request id "
            "{request_id}")).format(request_id=current_context())), status_code=500)

    app.add_exception_handler(GepError, gep_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(Exception, unexpected)
