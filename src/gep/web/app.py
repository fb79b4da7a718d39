"""The app factory: settings, database, job runner, error table, routers, static files and templates."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

import gep
from gep.db import default_url, make_engine, session_factory
from gep.jobs import JobRunner
from gep.web import errors

HERE = Path(__file__).parent


@dataclass
class Settings:
    database_url: str = field(default_factory=default_url)
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("GEP_DATA_DIR", "gep-data")))
    job_mode: str = field(default_factory=lambda: os.environ.get("GEP_JOB_MODE", "dask"))
    dask_scheduler: str | None = field(default_factory=lambda: os.environ.get("GEP_DASK_SCHEDULER") or None)
    secure_cookies: bool = False


def _static_dirs() -> dict[str, Path]:
    """Front-end libraries come from Python packages: Leaflet (xstatic-leaflet), plotly.js (plotly)."""
    import plotly
    import xstatic.pkg.leaflet as leaflet

    return {"leaflet": Path(leaflet.BASE_DIR), "plotly": Path(plotly.__file__).parent / "package_data"}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    jobs = JobRunner(settings.database_url, settings.data_dir, settings.job_mode, settings.dask_scheduler)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close()
        engine.dispose()

    app = FastAPI(title="gep platform", version=gep.__version__, lifespan=lifespan,
                  description="GEP accounting and ecological product value realization (Lishui model).")
    app.state.settings = settings
    app.state.engine = engine
    app.state.factory = session_factory(engine)
    app.state.jobs = jobs
    app.state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    errors.install(app)

    from gep.auth.api import router as auth_router
    from gep.regions.api import router as regions_router
    from gep.web.pages import router as pages_router

    for router in (auth_router, regions_router, pages_router):
        app.include_router(router)
    app.mount("/static/app", StaticFiles(directory=str(HERE / "static")), name="static")
    for name, folder in _static_dirs().items():
        app.mount(f"/static/{name}", StaticFiles(directory=str(folder)), name=name)
    return app
