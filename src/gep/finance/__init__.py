"""Green finance (两山贷, 生态贷/GEP贷, 公益林补偿收益权质押, 林权抵押, 河权贷, 取水贷, 茶商E贷): loan products as data,
terms computed from the borrower's ecological credit grade, the accounts' GEP, the registry's rights and settled
turnover (shown with their reasons), a bank's decision with the pledge locked in the registry, money through the
ledger, and enforcement of a defaulted loan's pledge on the exchange. A bank sees only its own loans."""

from __future__ import annotations

from pathlib import Path

from gep.errors import N_
from gep.finance import api, handlers, models, pages, seed, service
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="finance",
    title=N_("Green finance"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    permissions={
        service.LEND: N_("decide on the own bank's loan applications, pay out, declare defaults, enforce pledges, "
                         "import settlement records"),
        service.BORROW: N_("apply for a loan and repay it"),
        service.READ_ALL: N_("see every bank's loans (supervision)"),
    },
    grants={"bank_officer": {service.LEND}, "villager": {service.BORROW}, "enterprise_user": {service.BORROW},
            "cooperative_manager": {service.BORROW}},
    nav=(NavEntry("/finance/loans", N_("My loans"), service.BORROW, order=62),
         NavEntry("/finance", N_("Bank workbench"), service.LEND, order=63)),
    handlers=handlers.HANDLERS,
    seed=seed.seed,
    depends_on=("auth", "credit", "registry", "regions"),
)
