"""The domain contract: a mechanism of the platform is a package that brings everything it needs.

A domain's ``__init__.py`` builds one `Domain`: its models module (tables), its routers (JSON API and pages),
its folder (``templates/``, ``static/``, ``locale/`` are found there), the roles and permissions it adds and
which roles get them, its navigation entries, its tasks (timers, jobs), the events it handles, and its demo
seeding. The composition root lists the domains once (gep.app.DOMAINS); nothing else names them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from fastapi import APIRouter
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session, sessionmaker

    from gep.kit.events import Event
    from gep.kit.principal import Principal
    from gep.kit.tasks import TaskContext


@dataclass(frozen=True)
class NavEntry:
    """A link in the header, shown to callers holding `permission` (None: every logged-in caller)."""

    path: str
    label: str  # msgid
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class TaskKind:
    """Work a domain schedules: a timer (run at a time), a job (long, on the 'jobs' lane) or an event delivery.

    Short tasks run inside one unit of work that also marks them done, so their database effects happen once.
    Jobs run outside it (they commit progress as they go), renew their lease while they run, and should call
    `TaskContext.check()` often, so a cancel or a stopping worker takes effect."""

    name: str
    run: Callable[[TaskContext], None]
    lane: str = "default"
    max_attempts: int = 5
    on_dead: Callable[[Session, int, dict[str, Any], str], None] | None = None  # (session, task id, payload, error)


@dataclass(frozen=True)
class EventHandler:
    """What another (or the same) domain does after an event: run by the worker, at least once, idempotently."""

    event: str
    run: Callable[[Session, Event], None]
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or f"{self.run.__module__}.{self.run.__qualname__}"


@dataclass
class SeedContext:
    """What `gep demo` hands each domain's seeding, in the order of the domain list."""

    factory: sessionmaker[Session]
    workdir: Path
    region_dir: Path | None = None
    accounts_dirs: list[Path] = field(default_factory=list)
    seed: int = 2019
    data_dir: Path | None = None  # the platform's data folder (signing keys, imports)
    roles: frozenset[str] = frozenset()  # every role of the platform (domains add their own)
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)  # username -> (password, what it shows)
    shared: dict[str, Any] = field(default_factory=dict)  # what one domain's seeding leaves for the next ones
    say: Callable[[str], None] = print
    # run what is due now (event deliveries, timers), as the worker would: a domain's seeding that plays a flow
    # through other domains' events waits for them with it
    drain: Callable[[], int] = lambda: 0


class Authenticator(Protocol):
    """Turns a session cookie or a bearer token into a caller (provided by the auth domain)."""

    def from_session(self, session: Session, sid: str) -> Principal | None: ...

    def from_token(self, session: Session, token: str) -> Principal | None: ...


@dataclass(frozen=True)
class Domain:
    name: str
    title: str  # msgid
    root: Path
    models: ModuleType | None = None
    routers: tuple[APIRouter, ...] = ()
    roles: Mapping[str, str] = field(default_factory=dict)  # role -> label msgid
    permissions: Mapping[str, str] = field(default_factory=dict)  # permission -> description msgid
    grants: Mapping[str, Iterable[str]] = field(default_factory=dict)  # role -> permissions of this domain
    nav: tuple[NavEntry, ...] = ()
    tasks: tuple[TaskKind, ...] = ()
    handlers: tuple[EventHandler, ...] = ()
    seed: Callable[[SeedContext], None] | None = None
    authenticator: Authenticator | None = None
    depends_on: tuple[str, ...] = ()  # domains this one calls (listed in docs/architecture.md, checked in CI)
    shared: bool = False  # a shared service (the ledger, certificates): below the mechanisms, any may use it
    # folders of the data folder whose subfolders belong to this domain's rows; a backup keeps a subfolder only if
    # one of the paths `data_refs` reads (from the backup's own copy of the database) points into it
    on_start: Callable[[Session], None] | None = None  # run by each worker as it starts (schedule a timer)
    data_folders: tuple[str, ...] = ()
    data_refs: Callable[[Connection], Iterable[str]] | None = None

    @property
    def templates(self) -> Path | None:
        folder = self.root / "templates"
        return folder if folder.is_dir() else None

    @property
    def static(self) -> Path | None:
        folder = self.root / "static"
        return folder if folder.is_dir() else None
