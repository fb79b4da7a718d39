"""Notifications: an inbox per user (the bell in the header), and a hook to send them by email or SMS.

A domain calls `notify` inside its unit of work (usually from an event handler). The inbox row is the record;
sending it elsewhere is a task that calls the platform's `Notifier` — by default one that only logs, so an
operator sees what would have been sent. A real email or SMS gateway is another `Notifier`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from gep.db import Base, UtcDateTime
from gep.kit.audit import now
from gep.kit.tasks import TaskContext, schedule

log = logging.getLogger(__name__)
DELIVER = "kit.notify.deliver"


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(String(300))  # msgid template over `params`
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Notifier(Protocol):
    """Sends a notification outside the platform (email, SMS)."""

    def send(self, user_id: int, subject: str, link: str) -> None: ...


class LoggingNotifier:
    """The default: writes what would be sent to the log."""

    def send(self, user_id: int, subject: str, link: str) -> None:
        log.info("notification for user %s: %s %s", user_id, subject, link)


def notify(session: Session, user_id: int, title: str, link: str = "", kind: str = "", **params: Any) -> Notification:
    """Put a notification in a user's inbox and queue its sending."""
    row = Notification(user_id=user_id, kind=kind, title=title, params=params, link=link, created_at=now())
    session.add(row)
    session.flush()
    schedule(session, DELIVER, payload={"notification_id": row.id})
    return row


def deliver(ctx: TaskContext) -> None:
    row = ctx.db.get(Notification, int(ctx.payload["notification_id"]))
    if row is None:
        return
    subject = row.title.format(**row.params) if row.params else row.title
    notifier: Notifier = ctx.services.get("notifier") or LoggingNotifier()
    notifier.send(row.user_id, subject, row.link)


def inbox(session: Session, user_id: int, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return list(session.scalars(q.order_by(Notification.id.desc()).limit(limit)))


def unread(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0)


def mark_read(session: Session, user_id: int, ids: list[int] | None = None) -> int:
    """Mark some (or all) of a user's notifications read; another user's ids are ignored."""
    q = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        q = q.where(Notification.id.in_(ids))
    result = session.execute(q.values(read_at=now()).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
