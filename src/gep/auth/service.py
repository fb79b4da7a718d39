"""Use cases of users and access: create and change users, authenticate with throttling, sessions, tokens."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from gep.auth import rules
from gep.auth.models import ApiToken, LoginAttempt, Organisation, User, WebSession
from gep.db import found, unit_of_work
from gep.errors import N_, Conflict, InputError, NotAuthenticated, NotFound, TooManyRequests
from gep.kit import keyring
from gep.kit.audit import audit, aware, now
from gep.kit.keyring import SessionKeys
from gep.kit.principal import Principal

log = logging.getLogger(__name__)
HASHER = PasswordHasher()
SESSION_HOURS = 12
TOKEN_DAYS = 90
MANAGE = "auth.users.manage"


def _keys(session: Session) -> SessionKeys:
    """The session secret whose file the app named on its sessions (gep.kit.keyring; re-read when it is
    rotated), or a process-local one."""
    path = session.info.get("session_keys")
    return keyring.session_keys(path) if path is not None else keyring.process_local()


def _digest(session: Session, secret: str) -> str:
    return _keys(session).digest(secret)


def _candidates(session: Session, secret: str) -> list[str]:
    return _keys(session).candidates(secret)


@cache
def _decoy_hash() -> str:
    """A hash to verify against when the name is unknown, so both cases cost one Argon2 verification."""
    return HASHER.hash(secrets.token_urlsafe(16))


# -- organisations and users ----------------------------------------------------------------------------------

def create_organisation(session: Session, name: str, kind: str, by: Principal) -> Organisation:
    by.require(MANAGE)
    if kind not in rules.ORGANISATION_KINDS:
        raise InputError(N_("organisation kind {kind} is unknown; expected one of {kinds}"), kind=kind,
                         kinds=", ".join(rules.ORGANISATION_KINDS))
    if session.scalar(select(Organisation).where(Organisation.name == name)):
        raise Conflict(N_("organisation {name} exists already"), name=name)
    org = Organisation(name=name, kind=kind)
    session.add(org)
    session.flush()
    audit(session, by, "create", "organisation", org.id, name=name, kind=kind)
    return org


def _check_password(password: str, username: str, display_name: str = "") -> None:
    problems = rules.password_problems(password, username, [display_name] if display_name else [])
    if problems:
        raise InputError(problems[0])


def _check_role(role: str, roles: Collection[str] | None) -> None:
    """Roles come from every domain of the platform (its list is given); the base roles when none is."""
    known = roles if roles is not None else rules.ROLES
    if role not in known:
        raise InputError(N_("role {role} is unknown; expected one of {roles}"), role=role, roles=", ".join(known))


def create_user(session: Session, username: str, password: str, role: str, by: Principal, display_name: str = "",
                organisation_id: int | None = None, roles: Collection[str] | None = None) -> User:
    """A new user; the name is normalised (so two spellings cannot coexist), the password kept only as a hash."""
    by.require(MANAGE)
    name = rules.normalise_username(username)
    problem = rules.username_problem(name)
    if problem:
        raise InputError(problem)
    _check_role(role, roles)
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise InputError(N_("organisation {id} does not exist"), id=organisation_id)
    _check_password(password, name, display_name)
    if session.scalar(select(User).where(User.username == name)):
        raise Conflict(N_("user {username} exists already"), username=name)
    user = User(username=name, password_hash=HASHER.hash(password), role=role, display_name=display_name or name,
                organisation_id=organisation_id, is_active=True)
    session.add(user)
    session.flush()
    audit(session, by, "create", "user", user.id, username=name, role=role, organisation_id=organisation_id)
    return user


def get_user(session: Session, user_id: int) -> User:
    return found(session, User, user_id, N_("user {id} does not exist"))


def list_users(session: Session, by: Principal) -> list[User]:
    by.require(MANAGE)
    return list(session.scalars(select(User).order_by(User.id)))


def _active_admins(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(User.role == "admin",
                                                                           User.is_active.is_(True))) or 0)


def update_user(session: Session, user_id: int, by: Principal, role: str | None = None,
                is_active: bool | None = None, display_name: str | None = None,
                organisation_id: int | None = None, roles: Collection[str] | None = None) -> User:
    """Change a user's role, organisation or name, or (de)activate them; deactivation ends their sessions and
    tokens at once. The last active administrator cannot be demoted or deactivated."""
    by.require(MANAGE)
    user = get_user(session, user_id)
    changes: dict[str, tuple[object, object]] = {}
    if role is not None and role != user.role:
        _check_role(role, roles)
        if user.role == "admin" and user.is_active and _active_admins(session) <= 1:
            raise Conflict(N_("{username} is the last administrator; make someone else administrator first"),
                           username=user.username)
        changes["role"] = (user.role, role)
        user.role = role  # takes effect at the user's next request: permissions are looked up every time
    if is_active is not None and is_active != user.is_active:
        if not is_active and user.role == "admin" and _active_admins(session) <= 1:
            raise Conflict(N_("{username} is the last administrator; make someone else administrator first"),
                           username=user.username)
        changes["is_active"] = (user.is_active, is_active)
        user.is_active = is_active
        if not is_active:
            _end_all(session, user.id)
    if display_name is not None and display_name != user.display_name:
        changes["display_name"] = (user.display_name, display_name)
        user.display_name = display_name
    if organisation_id is not None and organisation_id != user.organisation_id:
        if session.get(Organisation, organisation_id) is None:
            raise InputError(N_("organisation {id} does not exist"), id=organisation_id)
        changes["organisation_id"] = (user.organisation_id, organisation_id)
        user.organisation_id = organisation_id
    if changes:
        audit(session, by, "update", "user", user.id, **{k: list(v) for k, v in changes.items()})
    return user


def set_password(session: Session, user: User, password: str, by: Principal, keep_session: str | None = None) -> None:
    """A new password; every session but `keep_session` (the caller's own) ends and every token is revoked."""
    _check_password(password, user.username, user.display_name)
    user.password_hash = HASHER.hash(password)
    _end_all(session, user.id, keep=_candidates(session, keep_session) if keep_session else None)
    audit(session, by, "set_password", "user", user.id)


def change_own_password(session: Session, by: Principal, current: str, new: str, sid: str | None) -> None:
    if by.user_id is None:
        raise InputError(N_("only a user has a password"))
    user = get_user(session, by.user_id)
    try:
        HASHER.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise InputError(N_("the current password is wrong")) from None
    set_password(session, user, new, by, keep_session=sid)


def reset_password(session: Session, user_id: int, new: str, by: Principal) -> None:
    by.require(MANAGE)
    set_password(session, get_user(session, user_id), new, by)


def _end_all(session: Session, user_id: int, keep: list[str] | None = None) -> None:
    q = delete(WebSession).where(WebSession.user_id == user_id)
    if keep:
        q = q.where(WebSession.id_hash.not_in(keep))
    session.execute(q.execution_options(synchronize_session=False))
    session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
                    .values(revoked=True).execution_options(synchronize_session=False))


# -- authentication -------------------------------------------------------------------------------------------

def _failures(session: Session, column: InstrumentedAttribute[str], value: str) -> list[datetime]:
    since = now() - rules.WINDOW
    return [aware(t) for t in session.scalars(select(LoginAttempt.at).where(column == value, LoginAttempt.at > since))]


def authenticate(session: Session, factory: sessionmaker[Session], username: str, password: str,
                 ip: str = "") -> User:
    """The user whose password this is. The same error, after the same work, whether the name or the password
    is wrong; names and addresses with many recent failures wait before they may try again. Failures are
    recorded in their own transaction, so they count even though the request that saw them fails."""
    name = rules.normalise_username(username)[:80]
    moment = now()
    wait = max(rules.lock_seconds(_failures(session, LoginAttempt.username, name), moment),
               rules.lock_seconds(_failures(session, LoginAttempt.ip, ip), moment, rules.IP_FAILURES) if ip else 0)
    if wait:
        raise TooManyRequests(N_("too many failed logins; try again in {retry_after} seconds"), retry_after=wait)
    user = session.scalar(select(User).where(User.username == name))
    try:
        if user is None or not user.is_active:
            HASHER.verify(_decoy_hash(), password)
            raise VerifyMismatchError
        HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        with unit_of_work(factory) as s:
            s.add(LoginAttempt(username=name, ip=ip[:64], at=moment))
            s.execute(delete(LoginAttempt).where(LoginAttempt.at < moment - timedelta(days=1))
                      .execution_options(synchronize_session=False))
            audit(s, None, "login_failed", "user", name, ip=ip)
        log.info("failed login for %r from %s", name, ip or "?")
        raise NotAuthenticated(N_("wrong username or password")) from None
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == name)
                    .execution_options(synchronize_session=False))
    return user


def open_session(session: Session, user: User) -> tuple[str, str]:
    """Start a browser session; returns (cookie value, CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.add(WebSession(id_hash=_digest(session, sid), user_id=user.id, csrf_token=csrf, created_at=now(),
                           expires_at=now() + timedelta(hours=SESSION_HOURS)))
    audit(session, user.id, "login", "user", user.id)
    return sid, csrf


def close_session(session: Session, sid: str) -> None:
    ws = session.scalars(select(WebSession).where(WebSession.id_hash.in_(_candidates(session, sid)))).first()
    if ws is not None:
        audit(session, ws.user_id, "logout", "user", ws.user_id)
        session.delete(ws)


def issue_token(session: Session, user: User, name: str = "") -> str:
    """A new API bearer token (shown once; only its hash is stored)."""
    token = "gep_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_digest(session, token), created_at=now(),
                         expires_at=now() + timedelta(days=TOKEN_DAYS), revoked=False))
    audit(session, user.id, "issue_token", "user", user.id, name=name)
    return token


def list_tokens(session: Session, by: Principal) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == by.user_id).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int, by: Principal) -> ApiToken:
    """Revoke one of the caller's tokens (an administrator may revoke anyone's)."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != by.user_id and not by.can(MANAGE)):
        raise NotFound(N_("token {id} does not exist"), id=token_id)
    if not row.revoked:
        row.revoked = True
        audit(session, by, "revoke_token", "api_token", row.id, user_id=row.user_id)
    return row


class Authenticator:
    """The platform's way from a cookie or a token to a caller (gep.kit.domain.Authenticator)."""

    def from_session(self, session: Session, sid: str) -> Principal | None:
        found_ = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                                 .where(WebSession.id_hash.in_(_candidates(session, sid)))).first()
        if found_ is None:
            return None
        ws, user = found_
        if aware(ws.expires_at) < now() or not user.is_active:
            return None
        return Principal(user.id, user.username, user.role, user.organisation_id, via="session",
                         csrf_token=ws.csrf_token, party=_party(user))

    def from_token(self, session: Session, token: str) -> Principal | None:
        # one query, not three: every API request starts here
        found_ = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                                 .where(ApiToken.token_hash.in_(_candidates(session, token)))).first()
        if found_ is None:
            return None
        row, user = found_
        if row.revoked or aware(row.expires_at) < now() or not user.is_active:
            return None
        return Principal(user.id, user.username, user.role, user.organisation_id, via="token", token_id=row.id,
                         party=_party(user))


def _party(user: User) -> str:
    """The name a user acts under on the platform: their organisation's, or their own."""
    return user.organisation.name if user.organisation is not None else (user.display_name or user.username)
