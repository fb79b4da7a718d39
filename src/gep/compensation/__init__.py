"""Watershed compensation (瓯江流域横向生态保护补偿) and ecological damage valued by GEP (生态环境损害赔偿): scheme
rounds as versioned configuration (the Oujiang rounds and the Xin'an formula), sections between an upstream and
a downstream county with their agreements, monitoring observations checked by row, monthly provisional indices
and the year-end settlement through the counties' compensation accounts in the ledger; damage cases valued from
the stored accounts' value-density raster, with a claim report in Chinese and English."""

from __future__ import annotations

from pathlib import Path

from gep.compensation import api, handlers, models, pages, seed, service
from gep.errors import N_
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="compensation",
    title=N_("Compensation"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    permissions={
        service.MANAGE: N_("set up sections and agreements, import observations, close settlements, open damage "
                           "cases"),
        service.READ: N_("see the basin's settlements, the fund ledger and damage cases"),
    },
    grants={"env_officer": {service.MANAGE, service.READ}, "analyst": {service.READ}},
    nav=(NavEntry("/compensation", N_("Watershed compensation"), service.READ, order=57),
         NavEntry("/compensation/damage", N_("Damage cases"), service.READ, order=58)),
    handlers=handlers.HANDLERS,
    seed=seed.seed,
    depends_on=("regions",),
)
