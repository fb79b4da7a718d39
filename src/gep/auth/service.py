"""Use cases of users and access: create, authenticate, sessions, tokens, permission checks, audit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.auth import rules
from gep.auth.models import ApiToken, AuditEntry, Organisation, User, WebSession
from gep.errors import Conflict, InputError, NotAuthenticated, PermissionDenied

HASHER = PasswordHasher()
SESSION_HOURS = 12
TOKEN_DAYS = 90


def now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: int | None  # None: the command line acting as the system
    username: str
    role: str
    via: str  # "session" or "token"
    csrf_token: str = ""

    def can(self, permission: str) -> bool:
        return rules.allowed(self.role, permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"role {self.role!r} may not {rules.PERMISSIONS.get(permission, permission)}")


SYSTEM = Principal(None, "system", "admin", "cli")


def audit(session: Session, user_id: int | None, action: str, entity: str, entity_id: object = "",
          **detail: Any) -> None:
    """Record a change in the same transaction as the change."""
    session.add(AuditEntry(at=now(), user_id=user_id, action=action, entity=entity, entity_id=str(entity_id),
                           detail=detail))


def create_organisation(session: Session, name: str, kind: str, by: int | None = None) -> Organisation:
    if kind not in rules.ORGANISATION_KINDS:
        kinds = ", ".join(rules.ORGANISATION_KINDS)
        raise InputError(f"organisation kind {kind!r} is unknown; expected one of {kinds}")
    if session.scalar(select(Organisation).where(Organisation.name == name)):
        raise Conflict(f"organisation {name!r} exists already")
    org = Organisation(name=name, kind=kind)
    session.add(org)
    session.flush()
    audit(session, by, "create", "organisation", org.id, name=name, kind=kind)
    return org


def set_password(session: Session, user: User, password: str, by: int | None = None) -> None:
    problems = rules.password_problems(password, user.username)
    if problems:
        raise InputError("; ".join(problems))
    user.password_hash = HASHER.hash(password)
    audit(session, by, "set_password", "user", user.id)


def create_user(session: Session, username: str, password: str, role: str, display_name: str = "",
                organisation_id: int | None = None, by: int | None = None) -> User:
    """A new user; the password is kept only as an Argon2 hash."""
    if role not in rules.ROLES:
        raise InputError(f"role {role!r} is unknown; expected one of {', '.join(rules.ROLES)}")
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise InputError("username must be letters, digits, '.', '-' or '_'")
    problems = rules.password_problems(password, username)
    if problems:
        raise InputError("; ".join(problems))
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(f"user {username!r} exists already")
    user = User(username=username, password_hash=HASHER.hash(password), role=role,
                display_name=display_name or username, organisation_id=organisation_id)
    session.add(user)
    session.flush()
    audit(session, by, "create", "user", user.id, username=username, role=role)
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user whose password this is; the same error whether the name or the password is wrong."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        if user is None or not user.is_active:
            HASHER.verify(HASHER.hash("x" * 12), password + "!")  # same cost either way
            raise VerifyMismatchError
        HASHER.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        audit(session, None, "login_failed", "user", username)
        raise NotAuthenticated("wrong username or password") from None
    return user


def open_session(session: Session, user: User) -> tuple[str, str]:
    """Start a browser session; returns (cookie value, CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(WebSession(id_hash=_digest(sid), user_id=user.id, csrf_token=csrf, created_at=now(),
                           expires_at=now() + timedelta(hours=SESSION_HOURS)))
    audit(session, user.id, "login", "user", user.id)
    return sid, csrf


def close_session(session: Session, sid: str) -> None:
    ws = session.get(WebSession, _digest(sid))
    if ws is not None:
        audit(session, ws.user_id, "logout", "user", ws.user_id)
        session.delete(ws)


def principal_from_session(session: Session, sid: str) -> Principal | None:
    ws = session.get(WebSession, _digest(sid))
    if ws is None or _aware(ws.expires_at) < now():
        return None
    user = session.get(User, ws.user_id)
    if user is None or not user.is_active:
        return None
    return Principal(user.id, user.username, user.role, "session", ws.csrf_token)


def issue_token(session: Session, user: User, name: str = "") -> str:
    """A new API bearer token (shown once; only its hash is stored)."""
    token = "gep_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(token), created_at=now(),
                         expires_at=now() + timedelta(days=TOKEN_DAYS)))
    audit(session, user.id, "issue_token", "user", user.id, name=name)
    return token


def principal_from_token(session: Session, token: str) -> Principal | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked or _aware(row.expires_at) < now():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return Principal(user.id, user.username, user.role, "token")


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
