"""The caller of a request, a command or a task: who, in which organisation, allowed to do what."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gep.errors import N_, PermissionDenied

ALL = "*"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `permissions` come from the platform's grants for the role."""

    user_id: int | None  # None: the system (command line, worker)
    username: str
    role: str
    organisation_id: int | None = None
    permissions: frozenset[str] = frozenset()
    via: str = "session"  # "session", "token" or "system"
    csrf_token: str = ""
    token_id: int | None = None
    party: str = ""  # the name the caller acts under: their organisation's, or their own display name

    @property
    def party_name(self) -> str:
        return self.party or self.username

    def can(self, permission: str) -> bool:
        return ALL in self.permissions or permission in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(N_("your role ({role}) may not do this (it needs the permission {permission})"),
                                   role=self.role, permission=permission)

    def with_permissions(self, permissions: frozenset[str]) -> Principal:
        return replace(self, permissions=permissions)


SYSTEM = Principal(None, "system", "admin", None, frozenset({ALL}), "system")
