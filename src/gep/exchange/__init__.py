"""The ecological product exchange (交易一点通): categories as data; listings reviewed, announced and sold by
negotiation or auction; deposits and prices through escrow in the ledger; rights locked and transferred in the
registry; a signed certificate for every completed trade; trade demands matched; GEP regulating-service
purchases priced from the accounts."""

from __future__ import annotations

from pathlib import Path

from gep.errors import N_
from gep.exchange import api, handlers, models, pages, perms, seed, timers
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="exchange",
    title=N_("Ecological product exchange"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    roles={"exchange_officer": N_("Exchange officer")},
    permissions={
        perms.TRADE: N_("sell and buy on the exchange: listings, deposits, bids, contracts, payments, demands"),
        perms.REVIEW: N_("review, approve or reject and announce listings"),
        perms.READ_ALL: N_("see every listing and every bidder"),
        perms.CATEGORIES: N_("edit the product categories"),
    },
    grants={"cooperative_manager": {perms.TRADE}, "enterprise_user": {perms.TRADE}, "villager": {perms.TRADE},
            "exchange_officer": {perms.REVIEW, perms.READ_ALL}, "analyst": {perms.READ_ALL}},
    nav=(NavEntry("/exchange", N_("Exchange"), None, order=45),
         NavEntry("/exchange/review", N_("Review queue"), perms.REVIEW, order=46)),
    tasks=timers.TASKS,
    handlers=handlers.HANDLERS,
    seed=seed.seed,
    depends_on=("regions", "registry"),
)
