"""Users and access: organisations, users and roles, sessions, tokens, passwords, login throttling."""

from __future__ import annotations

from pathlib import Path

from gep.auth import api, models, pages, rules, seed, service
from gep.errors import N_
from gep.kit.domain import Domain, NavEntry

domain = Domain(
    name="auth",
    title=N_("Users and access"),
    root=Path(__file__).resolve().parent,
    models=models,
    routers=(api.router, pages.router),
    roles=rules.ROLES,
    permissions={service.MANAGE: N_("create and change users and organisations")},
    nav=(NavEntry("/admin/users", N_("Users"), service.MANAGE, order=910),),
    seed=seed.seed,
    authenticator=service.Authenticator(),
)
