"""The regional public brand (丽水山耕) and traceability: the brand's standards as data, producers, applications
inspected and certified for a period (then suspended, reinstated or revoked), batches of certified products with
printable label codes, and every step of a batch — harvest, processing, inspection, sale, settlement — appended
to a hash chain signed by the platform's key, which `gep trace verify` and the public trace page check. Settlements
on the chain are the trade flow the finance domain's trade-flow credit (茶商E贷) is sized from."""

from __future__ import annotations

from pathlib import Path

from gep.brands import api, models, pages, seed, service
from gep.errors import N_
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="brands",
    title=N_("Regional brand"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, api.public, pages.router),
    roles={"brand_officer": N_("Brand office officer"), "producer": N_("Producer (grower, processor, trader)")},
    permissions={
        service.MANAGE: N_("review, inspect, certify, suspend and revoke the brand's use; add producers"),
        service.APPLY: N_("apply for the brand on one's own products and open their batches"),
        service.TRACE: N_("record the steps of batches one takes part in"),
        service.READ: N_("see every producer, application and batch of the brand"),
    },
    grants={"brand_officer": {service.MANAGE, service.READ, service.TRACE, service.APPLY},
            "producer": {service.APPLY, service.TRACE},
            "analyst": {service.READ}, "bank_officer": {service.READ}},
    nav=(NavEntry("/brands", N_("Regional brand"), service.READ, order=59),
         NavEntry("/brands", N_("My brand products"), service.APPLY, order=59)),
    seed=seed.seed,
    depends_on=("registry",),
)
