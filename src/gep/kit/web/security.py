"""The middleware every response passes: a request id, security headers, and one access-log line.

The Content-Security-Policy allows scripts, styles, fonts and images from this site only (and inline styles,
which Leaflet and plotly.js set on the elements they draw), no framing by other sites (clickjacking), no
forms posting elsewhere. The API documentation page, whose Swagger UI starts with an inline script, gets the
same policy plus that one script's hash.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from gep.kit.logs import context

log = logging.getLogger("gep.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
       "object-src 'none'")


class SecurityMiddleware:
    """Pure ASGI (no buffering of bodies, so downloads stream as before)."""

    def __init__(self, app: Any, hsts: bool = False, docs_csp: str | None = None) -> None:
        self.app, self.hsts, self.docs_csp = app, hsts, docs_csp

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex[:16]
        path = scope.get("path", "")
        started = time.perf_counter()
        status_seen = [0]
        csp = self.docs_csp if (self.docs_csp and path in ("/docs", "/docs/oauth2-redirect")) else CSP

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_seen[0] = message["status"]
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                extra = [(b"x-request-id", request_id.encode()), (b"content-security-policy", csp.encode()),
                         (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                         (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin"),
                         (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)")]
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                if b"cache-control" not in names and not path.startswith(("/static/", "/fonts/", "/i18n/")):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers + [h for h in extra if h[0] not in names]}
            await send(message)

        with context(request_id):
            try:
                await self.app(scope, receive, send_with_headers)
            finally:
                state = scope.get("state") or {}
                ms = round((time.perf_counter() - started) * 1000, 1)
                log.info("%s %s %s %.1f ms", scope.get("method"), path, status_seen[0] or 500, ms,
                         extra={"method": scope.get("method"), "path": path, "status": status_seen[0] or 500,
                                "ms": ms, "user": state.get("user", "")})
