"""One table maps gep's errors to HTTP statuses; routes never raise HTTP errors for business rules."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from gep.errors import Conflict, GepError, InputError, MethodError, NotAuthenticated, NotFound, PermissionDenied

STATUS: list[tuple[type[Exception], int]] = [
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (MethodError, 422),
    (InputError, 422),
    (GepError, 400),
]


def status_of(exc: Exception) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        status = status_of(exc)
        wants_page = "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")
        if status == 401 and wants_page:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=status)

    app.add_exception_handler(GepError, handle)
