"""Certificates: documents the platform signs (Ed25519) for completed trades and other acts, a public register
that says whether each is genuine and not revoked, and offline verification. A shared service."""

from __future__ import annotations

from pathlib import Path

from gep.certificates import api, audit_seal, models, pages, service
from gep.errors import N_
from gep.kit.domain import Domain

domain = Domain(
    name="certificates",
    title=N_("Certificates"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    permissions={
        service.REVOKE: N_("revoke certificates"),
        service.READ_ALL: N_("download any certificate"),
    },
    grants={"exchange_officer": {service.REVOKE, service.READ_ALL}},
    shared=True,
    tasks=audit_seal.TASKS,
    on_start=audit_seal.ensure,
)
