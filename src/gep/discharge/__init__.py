"""Discharge rights (排污权, 一企一证一卡): each enterprise's one permit for COD, NH₃-N, SO₂ and NOₓ with its
paid-use fee bills in the ledger; city and county reserves fed by caps; allocations that refuse to empty a
reserve (no new project without reserve); buy-backs; reserve auctions and secondary sales through the exchange
(by events); pledges that lock quota; and the card, drawn down by monitored emissions, with alerts."""

from __future__ import annotations

from pathlib import Path

from gep.discharge import api, handlers, models, pages, seed, service
from gep.errors import N_
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="discharge",
    title=N_("Discharge rights"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    roles={"env_officer": N_("Environment bureau officer")},
    permissions={
        service.MANAGE: N_("set caps, issue permits, buy back, auction reserve quota, register pledges, check "
                           "projects"),
        service.HOLD: N_("see the own enterprise's card, pay its fees, offer its quota, post its emission records"),
        service.READ_ALL: N_("see every enterprise's card and the bureau's overview"),
    },
    grants={"env_officer": {service.MANAGE, service.READ_ALL}, "enterprise_user": {service.HOLD},
            "analyst": {service.READ_ALL}},
    nav=(NavEntry("/discharge/card", N_("Discharge card"), service.HOLD, order=55),
         NavEntry("/discharge", N_("Discharge rights"), service.READ_ALL, order=56)),
    handlers=handlers.HANDLERS,
    seed=seed.seed,
    depends_on=("auth", "regions"),
)
