"""The kit as the platform's first domain: notifications, background tasks, the audit log, words and fonts."""

from __future__ import annotations

from pathlib import Path

from gep.errors import N_
from gep.kit import audit, audit_chain, events, notify, tasks
from gep.kit.domain import Domain, NavEntry, TaskKind
from gep.kit.web import routes

domain = Domain(
    name="kit",
    title=N_("Platform"),
    root=Path(__file__).resolve().parents[1],
    models=None,
    routers=(routes.api, routes.pages, routes.assets),
    permissions={routes.TASKS: N_("see and retry background tasks"), routes.AUDIT: N_("read the audit log")},
    nav=(NavEntry("/admin/tasks", N_("Tasks"), routes.TASKS, order=900),),
    tasks=(TaskKind(notify.DELIVER, notify.deliver),),
)

MODELS = (audit, audit_chain, tasks, events, notify)  # the kit's own tables
