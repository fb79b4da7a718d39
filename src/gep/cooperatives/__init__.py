"""Two-mountain cooperatives (两山合作社): rights taken in from holders by lease, transfer, trusteeship, shares,
buy-out or acquisition; asset packages with their ecological value; revenue shared back to the holders."""

from __future__ import annotations

from pathlib import Path

from gep.cooperatives import api, handlers, models, pages, seed, service
from gep.errors import N_
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="cooperatives",
    title=N_("Two-mountain cooperatives"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    permissions={
        service.MANAGE: N_("act for one's own cooperative: intake, packages, revenue"),
        service.READ_ALL: N_("see every cooperative's contracts, packages and payments"),
        service.ADMIN: N_("register cooperatives"),
    },
    grants={"cooperative_manager": {service.MANAGE}, "analyst": {service.READ_ALL}},
    nav=(NavEntry("/cooperative", N_("Cooperative"), service.MANAGE, order=40),
         NavEntry("/my", N_("My rights and income"), None, order=60)),
    handlers=handlers.HANDLERS,
    seed=seed.seed,
    depends_on=("regions", "registry"),
)
