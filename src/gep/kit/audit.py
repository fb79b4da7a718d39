"""The audit log: who changed what, and when; written in the same transaction as the change itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from gep.db import Base, UtcDateTime, unit_of_work
from gep.kit.principal import Principal


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; gep writes them in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(80))
    entity_id: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    # the tamper-evident chain (gep.kit.audit_chain): set when the row is sealed, a few minutes after it is written
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


def _user_id(by: Principal | int | None) -> int | None:
    return by.user_id if isinstance(by, Principal) else by


def audit(session: Session, by: Principal | int | None, action: str, entity: str, entity_id: object = "",
          **detail: Any) -> None:
    """Record a change in the same transaction as the change."""
    session.add(AuditEntry(at=now(), user_id=_user_id(by), action=action, entity=entity,
                           entity_id=str(entity_id)[:80], detail=_jsonable(detail)))


def audit_now(factory: sessionmaker[Session], by: Principal | int | None, action: str, entity: str,
              entity_id: object = "", **detail: Any) -> None:
    """Record something that must stay recorded even if the request that saw it fails (a refused login)."""
    with unit_of_work(factory) as session:
        audit(session, by, action, entity, entity_id, **detail)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
