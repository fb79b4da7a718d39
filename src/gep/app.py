"""The composition root: the list of domains, settings, and the app factory that mounts them.

Adding a mechanism to the platform is one package under src/gep/ with a `domain` in its ``__init__.py``,
and one line in `DOMAINS`. Everything else — routes, pages, templates, static files, words, permissions,
navigation, tasks, event handlers, migrations' model discovery, demo seeding — comes from the `Domain`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import gep
from gep import (
    assessment,
    auth,
    brands,
    carbon,
    certificates,
    compensation,
    cooperatives,
    credit,
    discharge,
    exchange,
    finance,
    ledger,
    monitoring,
    regions,
    registry,
)
from gep.db import default_url, make_engine, session_factory
from gep.kit.domain import Domain
from gep.kit.platform import Platform
from gep.kit.web import errors, fonts
from gep.kit.web.kit_domain import domain as kit
from gep.kit.web.pages import make_environment
from gep.kit.web.security import SecurityMiddleware
from gep.kit.worker import Worker

DOMAINS: tuple[Domain, ...] = (
    kit,
    auth.domain,
    ledger.domain,
    certificates.domain,
    regions.domain,
    registry.domain,
    cooperatives.domain,
    exchange.domain,
    discharge.domain,
    carbon.domain,
    credit.domain,
    finance.domain,
    compensation.domain,
    assessment.domain,
    brands.domain,
    monitoring.domain,
)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def _default_cache() -> Path:
    return Path(os.environ.get("GEP_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or
                                                       Path.home() / ".cache") / "gep")


@dataclass
class Settings:
    database_url: str = field(default_factory=default_url)
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("GEP_DATA_DIR", "gep-data")))
    import_dir: Path = field(default_factory=lambda: Path(os.environ.get("GEP_IMPORT_DIR", "")))
    cache_dir: Path = field(default_factory=_default_cache)
    # "inline": a worker runs inside the web process (the embedded default); "queue": `gep worker` processes
    job_mode: str = field(default_factory=lambda: os.environ.get("GEP_JOB_MODE", "inline"))
    dask_scheduler: str | None = field(default_factory=lambda: os.environ.get("GEP_DASK_SCHEDULER") or None)
    secure_cookies: bool = field(default_factory=lambda: _env_flag("GEP_SECURE_COOKIES"))
    # the address people reach the platform at (certificates' QR codes); by default the request's own
    public_url: str = field(default_factory=lambda: os.environ.get("GEP_PUBLIC_URL", ""))

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).absolute()  # rows name paths in it: never relative to a working folder
        self.import_dir = Path(self.import_dir) if str(self.import_dir) not in ("", ".") else self.data_dir / "imports"


def build_platform(domains: Sequence[Domain] = DOMAINS) -> Platform:
    return Platform.build(domains)


def services(settings: Settings) -> dict[str, Any]:
    """What tasks may use: the data folder, the notifier, the Dask scheduler's address."""
    from gep.kit.notify import LoggingNotifier

    return {"data_dir": settings.data_dir, "notifier": LoggingNotifier(), "dask_scheduler": settings.dask_scheduler}


def _static_dirs() -> dict[str, Path]:
    """Front-end libraries come from Python packages: Leaflet (xstatic-leaflet), plotly.js (plotly), Swagger UI."""
    import plotly
    import swagger_ui_bundle
    import xstatic.pkg.leaflet as leaflet

    return {"leaflet": Path(leaflet.BASE_DIR), "plotly": Path(plotly.__file__).parent / "package_data",
            "swagger": Path(swagger_ui_bundle.swagger_ui_path)}


DOCS_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>gep API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/swagger/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/kit/docs.js"></script></body></html>"""


def make_keys(data_dir: Path) -> Path:
    """The secrets kept outside the database, made at first start: the certificate signing key and the session
    secret (docs/deploy.md). Returns the session secret's file."""
    from gep.certificates import keys
    from gep.kit import keyring

    keys.signer(keys.key_path(data_dir))
    path = keyring.session_keys_path(data_dir)
    keyring.session_keys(path)
    return path


def create_app(settings: Settings | None = None, domains: Sequence[Domain] = DOMAINS) -> FastAPI:
    settings = settings or Settings()
    platform = build_platform(domains)
    engine = make_engine(settings.database_url)
    factory = session_factory(engine, info={"session_keys": make_keys(settings.data_dir)})
    worker = Worker(platform, factory, services(settings)) if settings.job_mode == "inline" else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=fonts.warm, args=(settings.cache_dir,), name="font-warm", daemon=True).start()
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()
        engine.dispose()

    app = FastAPI(title="gep platform", version=gep.__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="GEP accounting and ecological product value realization (Lishui model). Every "
                              "error answers with the same JSON shape (ErrorBody), in the caller's language.")
    app.state.settings = settings
    app.state.platform = platform
    app.state.engine = engine
    app.state.factory = factory
    app.state.worker = worker
    app.state.wake_worker = worker.wake if worker is not None else (lambda: None)
    app.state.templates = make_environment(platform)
    errors.install(app)
    for domain in platform.domains:
        for router in domain.routers:
            app.include_router(router)
        if domain.static is not None:
            app.mount(f"/static/{domain.name}", StaticFiles(directory=str(domain.static)), name=f"static-{domain.name}")
    for name, folder in _static_dirs().items():
        app.mount(f"/static/{name}", StaticFiles(directory=str(folder)), name=name)

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    app.add_middleware(SecurityMiddleware, hsts=settings.secure_cookies)
    return app
