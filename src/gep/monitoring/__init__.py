"""Ecological monitoring (进监测): stations (water sections, air quality, negative air ions, hydrology) and their
readings from files or loggers, checked by row and stored all or nothing, with gaps reported and episodes beyond a
standard's limit raised as alerts to the zone's department; yearly rasters ingested for a region after the engine's
own checks; land-cover change between two years per zone, with its map and alerts; and rangers' patrol reports
with photos, filed from a phone."""

from __future__ import annotations

from pathlib import Path

from gep.errors import N_
from gep.kit.domain import Domain, NavEntry
from gep.monitoring import api, models, pages, seed, service

domain = Domain(
    name="monitoring",
    title=N_("Monitoring"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    roles={"monitoring_officer": N_("Monitoring centre officer"), "ranger": N_("Ranger (forest or river)")},
    permissions={
        service.READ: N_("see stations, readings, alerts, land-cover change and patrol reports"),
        service.IMPORT: N_("add stations, import readings, ingest rasters, compare land cover"),
        service.HANDLE: N_("acknowledge and close alerts"),
        service.PATROL: N_("file patrol reports"),
    },
    grants={"monitoring_officer": {service.READ, service.IMPORT, service.HANDLE, service.PATROL},
            "ranger": {service.PATROL},
            "env_officer": {service.READ, service.HANDLE}, "carbon_officer": {service.READ, service.HANDLE},
            "registry_clerk": {service.READ, service.HANDLE}, "analyst": {service.READ}},
    nav=(NavEntry("/monitoring", N_("Monitoring"), service.READ, order=66),
         NavEntry("/monitoring/patrols", N_("Patrols"), service.PATROL, order=67)),
    seed=seed.seed,
    depends_on=("regions", "auth"),
)
