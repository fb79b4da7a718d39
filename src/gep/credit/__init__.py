"""Ecological credit (生态信用): people, enterprises and villages rated AAA to D on what they do for (and against)
the environment — a catalogue of behaviours as data, events recorded by hand, from files or from other domains
and reviewed before they count, scores that move by exactly an event's points and expire on the right day,
an explanation with every grade, objections and corrections to repair it, and the distribution by county."""

from __future__ import annotations

from pathlib import Path

from gep.credit import api, handlers, models, pages, seed, service, timers
from gep.errors import N_
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="credit",
    title=N_("Ecological credit"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    roles={"credit_officer": N_("Credit office officer")},
    permissions={
        service.RECORD: N_("record credit events by hand or from a file"),
        service.REVIEW: N_("accept or reject credit events, decide objections, correct events, recount"),
        service.READ_ALL: N_("see every subject's credit and the distribution by county"),
    },
    grants={"credit_officer": {service.RECORD, service.REVIEW, service.READ_ALL},
            "analyst": {service.READ_ALL}},
    nav=(NavEntry("/credit/my", N_("My credit"), None, order=60),
         NavEntry("/credit", N_("Credit office"), service.READ_ALL, order=61)),
    tasks=timers.TASKS,
    handlers=handlers.HANDLERS,
    seed=seed.seed,
    depends_on=("auth", "registry", "regions"),
)
