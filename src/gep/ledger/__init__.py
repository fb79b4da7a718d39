"""The ledger: one double-entry book for all money on the platform — deposits, prices, fees, payouts,
compensation funds, loans, rewards. A shared service: every domain that moves money posts here."""

from __future__ import annotations

from pathlib import Path

from gep.errors import N_
from gep.kit.domain import Domain, NavEntry
from gep.ledger import api, models, pages, service

domain = Domain(
    name="ledger",
    title=N_("Ledger"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    roles={"finance_clerk": N_("finance clerk")},
    permissions={
        service.READ_ALL: N_("see every account and the balance sheet"),
        service.PAYMENTS: N_("record payments into and out of the platform, and reverse mistaken transfers"),
    },
    grants={"finance_clerk": {service.READ_ALL, service.PAYMENTS}, "analyst": {service.READ_ALL}},
    nav=(NavEntry("/ledger", N_("Accounts"), None, order=70),),
    shared=True,
)
