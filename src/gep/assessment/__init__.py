"""GEP in governance, part one: the comprehensive assessment (GEP综合考评, 考核一码清). Indicator sets for counties
and municipal departments as editable data (5/18 structure, 1,000 points), values submitted by the providing
departments (a form or a workbook, with who and when), indicators the platform computes itself (growth at constant
prices from the stored accounts, trades settled on the exchange, how departments provided their data), score
sheets with ranks, a colour per county and a public score card its QR code opens; and rewards (奖补一策达):
policies as data, rounds computed from the stored accounts within a budget, paid through the ledger, with a
notice; and GEP in projects: the industry negative list over imported areas, and a project's check before
approval (verdict with its rule, and its GEP change valued as a damage is); and the public release (常态化发布)
of published accounting runs on a portal that needs no login; and the leaders' tenure audit of natural-resource
assets and GEP; and the tracking of the pilot's tasks (推进机制)."""

from __future__ import annotations

from pathlib import Path

from gep.assessment import (
    api,
    handlers,
    models,
    pages,
    pilot_tasks_api,
    project_api,
    public_api,
    publication,
    reward_api,
    seed,
    service,
    tenure_api,
)
from gep.errors import N_
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="assessment",
    title=N_("Assessment"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(
        api.router,
        reward_api.router,
        project_api.router,
        public_api.router,
        tenure_api.router,
        pilot_tasks_api.router,
        pages.router,
    ),
    permissions={
        service.MANAGE: N_("keep the indicator sets and departments, compute and publish score sheets"),
        service.SUBMIT: N_("submit a department's values for its own indicators"),
        service.READ: N_("see draft score sheets and the submitted values"),
        publication.PUBLISH: N_("publish accounting runs on the public portal, and withdraw them"),
    },
    roles={"assessor": N_("Assessment office officer"), "department_reporter": N_("Department data reporter")},
    grants={
        "assessor": {service.MANAGE, service.READ, publication.PUBLISH},
        "department_reporter": {service.SUBMIT, service.READ},
        "analyst": {service.READ, publication.PUBLISH},
    },
    nav=(
        NavEntry("/assessment", N_("GEP assessment"), service.READ, order=60),
        NavEntry("/assessment/rewards", N_("Rewards"), service.READ, order=61),
        NavEntry("/assessment/projects", N_("Project checks"), service.READ, order=62),
        NavEntry("/assessment/audits", N_("Tenure audits"), service.READ, order=63),
        NavEntry("/assessment/release", N_("Public release"), publication.PUBLISH, order=64),
    ),
    handlers=handlers.HANDLERS,
    seed=seed.seed,
    depends_on=("regions", "compensation", "registry", "finance"),
)
