"""Natural-resource rights registry (自然资源统一确权登记): parcels and the rights on them, their history as events,
locks (pledges, leases, freezes, pending trades), and the ecological value (VEP) of any parcel or polygon."""

from __future__ import annotations

from pathlib import Path

from gep.errors import N_
from gep.kit.domain import Domain, NavEntry
from gep.registry import api, models, pages, seed, service

READERS = ("analyst", "cooperative_manager", "enterprise_user", "bank_officer", "villager", "viewer",
           "registry_clerk")

domain = Domain(
    name="registry",
    title=N_("Rights registry"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    roles={"registry_clerk": N_("Registry clerk")},
    permissions={
        service.READ: N_("see parcels, their rights and history (holders' names only where allowed)"),
        service.RECORD: N_("import parcels, record rights, transfer, split and merge"),
        service.HOLDERS: N_("see every holder's name (identity numbers are always masked)"),
        service.LOCK: N_("pledge, lease, freeze and release rights"),
    },
    grants={**{role: {service.READ} for role in READERS},
            "analyst": {service.READ, service.RECORD, service.HOLDERS, service.LOCK},
            "registry_clerk": {service.READ, service.RECORD, service.HOLDERS, service.LOCK},
            "cooperative_manager": {service.READ, service.HOLDERS}},
    nav=(NavEntry("/registry", N_("Rights registry"), service.READ, order=30),),
    seed=seed.seed,
    depends_on=("regions",),
)
