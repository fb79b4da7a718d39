"""Database engine, sessions, the unit of work and organisation scoping (migrations: gep.migrations).

An SQLite file is the embedded default (nothing to install); PostgreSQL through psycopg 3 in production.
The same migrations create both.

Organisation scoping is here because it is a property of the session, not of any one query: a model that
derives from `Scoped` says which of its rows a caller may see, and every SELECT made by a session opened with
``scoped=True`` (every web request) carries that criterion, whether or not the query remembered to ask. A
scoped session without a caller sees no scoped rows at all. Queries that must see everything (the worker, the
command line, published accounts) say so with ``execution_options(skip_scope=True)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    false,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker, with_loader_criteria

from gep.errors import NotFound

T = TypeVar("T")
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s",
          "pk": "pk_%(table_name)s"}
MAX_ID = 2**63 - 1  # the largest id PostgreSQL's bigint (and SQLite's integer) holds


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC, stored with its time zone where the database can (PostgreSQL) and read back with it
    everywhere (SQLite keeps no zone: what gep wrote there is UTC), so every API answer is a full RFC 3339."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def default_url() -> str:
    """GEP_DATABASE_URL, or an SQLite file in the current folder."""
    return os.environ.get("GEP_DATABASE_URL", "sqlite:///gep.db")


def is_postgresql(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets foreign keys on and a busy timeout so the worker thread and requests can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "savepoint")
        def _begin_first(conn: Any, _name: str) -> None:
            # Python's sqlite3 opens a transaction only before the first write, so a SAVEPOINT before any write
            # would itself be the outermost transaction, and releasing it would COMMIT: a rule refusing the
            # change afterwards could no longer roll it back. Open the transaction first.
            if not conn.connection.dbapi_connection.in_transaction:
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions of `engine`; `info` is copied onto each (the app names its session secret's file there)."""
    factory = sessionmaker(engine, expire_on_commit=False, info=info)
    event.listen(factory, "do_orm_execute", _apply_scope)
    return factory


@contextmanager
def unit_of_work(factory: sessionmaker[Session], scoped: bool = False) -> Iterator[Session]:
    """A session whose changes are committed only if the block ends normally; otherwise rolled back.

    ``scoped=True`` (web requests) hides the rows of `Scoped` models from everyone but the caller attached with
    `attach_caller`."""
    session = factory()
    session.info["scoped"] = scoped
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# -- organisation scoping -------------------------------------------------------------------------------------

class Caller(Protocol):
    """What scoping needs to know of a caller (gep.kit.principal.Principal)."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def organisation_id(self) -> int | None: ...

    def can(self, permission: str) -> bool: ...


class Scoped:
    """Mixin for models whose rows belong to someone: `scope` says which rows a caller may see.

    The default: rows of the caller's organisation, all rows for a caller holding `read_all`."""

    read_all: ClassVar[str]

    @classmethod
    def scope(cls, caller: Caller) -> ColumnElement[bool] | None:
        """None: no restriction; otherwise the criterion the caller's rows meet."""
        if caller.can(cls.read_all):
            return None
        if caller.organisation_id is None:
            return false()
        column: ColumnElement[Any] = getattr(cls, "organisation_id")  # noqa: B009 - declared by each model
        return column == caller.organisation_id

    @classmethod
    def scope_public(cls) -> ColumnElement[bool]:
        """The rows anyone may see without logging in (none by default)."""
        return false()


def own_rows(model: Any, caller: Caller) -> ColumnElement[bool]:
    """Rows of the caller themselves or of their organisation (a model with `user_id` and `organisation_id`)."""
    mine = []
    if caller.user_id is not None:
        mine.append(model.user_id == caller.user_id)
    if caller.organisation_id is not None:
        mine.append(model.organisation_id == caller.organisation_id)
    return or_(*mine) if mine else false()


def found(session: Session, model: type[T], key: object, template: str) -> T:
    """The row of `model` with this primary key, or NotFound (`template` names it: "region {id} does not exist").
    In a scoped session a row the caller may not see is not found either."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(template, id=key)
    return row


def attach_caller(session: Session, caller: Caller) -> None:
    session.info["caller"] = caller
    session.info.pop("scope_options", None)


def scoped_models() -> list[type[Scoped]]:
    return [m.class_ for m in Base.registry.mappers if issubclass(m.class_, Scoped)]


def _scope_options(session: Session) -> tuple[Any, ...]:
    """The loader criteria for the session's caller, built once per session (a request has one caller, and
    building them for every query cost a bid a fifth of its time)."""
    cached = session.info.get("scope_options")
    if cached is None:
        caller = session.info.get("caller")
        options = []
        for model in scoped_models():
            criterion = model.scope_public() if caller is None else model.scope(caller)
            if criterion is not None:
                options.append(with_loader_criteria(model, criterion, include_aliases=True))
        cached = session.info["scope_options"] = tuple(options)
    return cached


def _apply_scope(state: ORMExecuteState) -> None:
    if not state.session.info.get("scoped") or state.execution_options.get("skip_scope"):
        return
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    options = _scope_options(state.session)
    if options:
        state.statement = state.statement.options(*options)


def add_once(session: Session, model: type[T], unique: dict[str, Any], make: Callable[[], T]) -> tuple[T, bool]:
    """The row of `model` matching `unique` (a unique key), or a new one from `make()`, added once even when two
    requests add it at the same moment (the loser of the race gets the winner's row). Returns (row, added)."""
    def existing() -> T | None:
        query = select(model).filter_by(**unique).execution_options(skip_scope=True)
        return session.scalar(query)

    found = existing()
    if found is not None:
        return found, False
    row = make()
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # added at the same moment by another request
        again = existing()
        if again is None:
            raise
        return again, False
    return row, True
