"""Domain events through an outbox: recorded in the same transaction as the change, handled after it.

`record` adds the event to the change's own transaction, so an event exists exactly when its change does.
The worker fans each new event out into one task per subscribed handler (`fan_out`); each delivery is then
an ordinary task — run at least once, retried with a growing delay, and set aside as dead with its error when
it keeps failing — and a handler marks its delivery done in its own transaction, so its effects on the
database happen once. Handlers must still be idempotent for anything outside the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from gep.db import Base, UtcDateTime, is_postgresql, unit_of_work
from gep.errors import N_, NotFound
from gep.kit.audit import now
from gep.kit.tasks import TaskContext, schedule

log = logging.getLogger(__name__)


class OutboxEvent(Base):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "fanned_out", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    payload: dict[str, Any]
    actor_id: int | None
    created_at: datetime


def record(session: Session, type: str, actor_id: int | None = None, **payload: Any) -> OutboxEvent:
    """Record that something happened, in the caller's transaction."""
    row = OutboxEvent(type=type, payload=payload, actor_id=actor_id, created_at=now(), fanned_out=False)
    session.add(row)
    session.flush()
    return row


def delivery_kind(handler_id: str) -> str:
    return f"event:{handler_id}"


def fan_out(factory: sessionmaker[Session], subscribers: dict[str, list[str]], limit: int = 100) -> int:
    """Turn new events into one delivery task per handler; returns how many events were fanned out.

    Each event is claimed with a compare-and-set on `fanned_out`, so two workers never fan one event twice."""
    done = 0
    with unit_of_work(factory) as s:
        q = select(OutboxEvent.id, OutboxEvent.type).where(OutboxEvent.fanned_out.is_(False)).order_by(
            OutboxEvent.id).limit(limit)
        if is_postgresql(s):
            q = q.with_for_update(skip_locked=True)
        for event_id, event_type in s.execute(q).all():
            claimed = s.execute(update(OutboxEvent).where(OutboxEvent.id == event_id,
                                                          OutboxEvent.fanned_out.is_(False))
                                .values(fanned_out=True).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                continue
            for handler_id in subscribers.get(event_type, []):
                schedule(s, delivery_kind(handler_id), payload={"event_id": event_id},
                         key=f"event:{event_id}:{handler_id}")
            done += 1
    if done:
        log.info("fanned out %d event(s)", done)
    return done


def load(session: Session, event_id: int) -> Event:
    row = session.get(OutboxEvent, event_id)
    if row is None:
        raise NotFound(N_("event {id} does not exist"), id=event_id)
    return Event(row.id, row.type, dict(row.payload or {}), row.actor_id, row.created_at)


def deliver(handler: Any) -> Any:
    """The task body that runs one handler (gep.kit.domain.EventHandler) for one event."""

    def run(ctx: TaskContext) -> None:
        event = load(ctx.db, int(ctx.payload["event_id"]))
        handler.run(ctx.db, event)

    return run
