"""GEP accounting on the platform (GEP 一键算): regions and zones from region packages, accounting runs on the
worker, stored accounts, the dashboard and the runs page."""

from __future__ import annotations

from pathlib import Path

from gep.errors import N_
from gep.kit.domain import Domain, EventHandler, NavEntry, TaskKind
from gep.regions import api, jobs, models, pages, seed, service

domain = Domain(
    name="regions",
    title=N_("GEP accounting"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    permissions={
        service.READ: N_("read regions, zones, published accounts and reports"),
        service.RUN: N_("start, cancel and retry accounting runs"),
        service.IMPORT: N_("import a region package"),
        service.READ_ALL: N_("see every organisation's runs, with their error details"),
    },
    grants={role: {service.READ} for role in ("analyst", "cooperative_manager", "enterprise_user", "bank_officer",
                                               "villager", "viewer")} | {
        "analyst": {service.READ, service.RUN, service.IMPORT}},
    nav=(NavEntry("/", N_("GEP dashboard"), service.READ, order=10),
         NavEntry("/runs", N_("Accounting runs"), service.READ, order=20),
         NavEntry("/regions/data", N_("Region data"), service.IMPORT, order=21)),
    tasks=(TaskKind(service.JOB, jobs.run_accounting, lane="jobs", max_attempts=service.MAX_ATTEMPTS,
                    on_dead=jobs.on_dead),),
    handlers=(EventHandler(service.RUN_FINISHED, jobs.tell_requester),),
    seed=seed.seed,
    data_folders=("regions", "runs"),
    data_refs=service.data_refs,
)
