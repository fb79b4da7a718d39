"""Structured logs: stdlib logging with a request id (or task id) on every line, JSON lines when asked.

`configure()` is called once by the composition root (`gep serve`, `gep worker`); `GEP_LOG_FORMAT=json`
writes one JSON object a line for a log shipper, `GEP_LOG_LEVEL` sets the level. The request middleware and
the worker set `context` so that every line written while serving a request or running a task names it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_context: ContextVar[str] = ContextVar("gep_log_context", default="-")


def current_context() -> str:
    return _context.get()


@contextmanager
def context(value: str) -> Iterator[None]:
    """Name every log line written inside the block (a request id, ``task:42``)."""
    token = _context.set(value)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.ctx = _context.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "ctx": getattr(record, "ctx", "-"),
               "message": record.getMessage()}
        for key in ("method", "path", "status", "ms", "user"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s [%(ctx)s] %(name)s: %(message)s"


def configure(level: str | None = None, fmt: str | None = None) -> None:
    """Log to stderr, as text or JSON lines, each line carrying the request or task it belongs to."""
    level = (level or os.environ.get("GEP_LOG_LEVEL") or "INFO").upper()
    fmt = (fmt or os.environ.get("GEP_LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_gep", False)]:
        root.removeHandler(old)
    handler._gep = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("distributed", "numba", "fontTools", "rasterio", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger(noisy).level))
