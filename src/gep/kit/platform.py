"""The platform assembled from a list of domains: roles, permissions and grants, navigation, task kinds,
event subscriptions and translations, each checked once when the platform is built."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gep.kit import events, notify
from gep.kit.domain import Authenticator, Domain, NavEntry, TaskKind
from gep.kit.i18n import Catalogues
from gep.kit.principal import ALL, Principal

ENGINE_ROOT = Path(__file__).resolve().parents[1] / "accounting"


class PlatformError(Exception):
    """The domain list does not fit together (a programming error, found at start-up)."""


@dataclass
class Platform:
    domains: tuple[Domain, ...]
    roles: dict[str, str] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    grants: dict[str, frozenset[str]] = field(default_factory=dict)
    task_kinds: dict[str, TaskKind] = field(default_factory=dict)
    subscribers: dict[str, list[str]] = field(default_factory=dict)
    catalogues: Catalogues = field(default_factory=lambda: Catalogues(()))
    authenticator: Authenticator | None = None

    @classmethod
    def build(cls, domains: Sequence[Domain]) -> Platform:
        names = [d.name for d in domains]
        if len(set(names)) != len(names):
            raise PlatformError(f"domain names repeat: {names}")
        p = cls(tuple(domains))
        granted: dict[str, set[str]] = {}
        for d in domains:
            for dep in d.depends_on:
                if dep not in names[: names.index(d.name)]:
                    raise PlatformError(f"domain {d.name} depends on {dep}, which must come before it in the list")
            for role, label in d.roles.items():
                if role in p.roles:
                    raise PlatformError(f"role {role} is declared by two domains")
                p.roles[role] = label
            for perm, text in d.permissions.items():
                if perm in p.permissions:
                    raise PlatformError(f"permission {perm} is declared by two domains")
                if not perm.startswith(f"{d.name}.") and d.name != "kit":
                    raise PlatformError(f"permission {perm} of domain {d.name} must start with '{d.name}.'")
                p.permissions[perm] = text
            for role, perms in d.grants.items():
                granted.setdefault(role, set()).update(perms)
            for kind in d.tasks:
                if kind.name in p.task_kinds:
                    raise PlatformError(f"task kind {kind.name} is declared twice")
                p.task_kinds[kind.name] = kind
            for handler in d.handlers:
                kind_name = events.delivery_kind(handler.id)
                if kind_name in p.task_kinds:
                    raise PlatformError(f"event handler {handler.id} is declared twice")
                p.task_kinds[kind_name] = TaskKind(kind_name, events.deliver(handler))
                p.subscribers.setdefault(handler.event, []).append(handler.id)
            if d.authenticator is not None:
                if p.authenticator is not None:
                    raise PlatformError("two domains provide the authenticator")
                p.authenticator = d.authenticator
        for role, perms in granted.items():
            if role not in p.roles:
                raise PlatformError(f"grants name the role {role}, which no domain declares")
            unknown = perms - set(p.permissions)
            if unknown:
                raise PlatformError(f"role {role} is granted unknown permission(s) {sorted(unknown)}")
        p.grants = {role: frozenset(granted.get(role, ())) for role in p.roles}
        p.grants["admin"] = frozenset({ALL})
        if notify.DELIVER not in p.task_kinds:
            p.task_kinds[notify.DELIVER] = TaskKind(notify.DELIVER, notify.deliver)
        p.catalogues = Catalogues((ENGINE_ROOT, *(d.root for d in domains)))
        return p

    def permissions_of(self, role: str) -> frozenset[str]:
        return self.grants.get(role, frozenset())

    def with_permissions(self, principal: Principal) -> Principal:
        return principal.with_permissions(self.permissions_of(principal.role))

    def nav_for(self, caller: Principal | None) -> list[NavEntry]:
        if caller is None:
            return []
        entries = [e for d in self.domains for e in d.nav if e.permission is None or caller.can(e.permission)]
        seen: set[str] = set()
        shown = []
        for e in entries:  # a page offered under two permissions (readers' and producers' words) is listed once
            if e.path not in seen:
                seen.add(e.path)
                shown.append(e)
        return sorted(shown, key=lambda e: e.order)
