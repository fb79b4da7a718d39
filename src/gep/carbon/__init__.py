"""The forest carbon registry (林业碳汇): projects on registry parcels, removals estimated stand by stand by a
versioned methodology, verified by a third party, issued as serial-numbered units (one tonne of CO₂ each), held,
transferred, sold on the exchange (through events) and retired for a named purpose with a public certificate;
issuance cross-checked against the GEP accounts' carbon sequestration over the same parcels."""

from __future__ import annotations

from pathlib import Path

from gep.carbon import api, handlers, models, pages, seed, service
from gep.errors import N_
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="carbon",
    title=N_("Forest carbon registry"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    roles={"carbon_officer": N_("Forest carbon officer"), "verifier": N_("Carbon verifier")},
    permissions={
        service.DEVELOP: N_("develop carbon projects; hold, transfer, offer and retire carbon units"),
        service.VERIFY: N_("verify monitoring reports of carbon projects"),
        service.ISSUE: N_("issue carbon units for verified monitoring reports"),
        service.READ_ALL: N_("see every holder's carbon units"),
    },
    grants={"cooperative_manager": {service.DEVELOP}, "enterprise_user": {service.DEVELOP},
            "carbon_officer": {service.ISSUE, service.READ_ALL}, "verifier": {service.VERIFY},
            "analyst": {service.READ_ALL}},
    nav=(NavEntry("/carbon", N_("Forest carbon"), None, order=50),),
    handlers=handlers.HANDLERS,
    seed=seed.seed,
    depends_on=("regions", "registry"),
)
