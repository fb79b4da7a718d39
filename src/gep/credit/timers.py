"""The daily expiry: events whose validity ended stop counting, whether or not anyone visits a page. The timer
runs a few minutes after midnight in Lishui and schedules the next day's run."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from gep.credit import service
from gep.kit import tasks
from gep.kit.domain import TaskKind
from gep.kit.tasks import TaskContext

log = logging.getLogger(__name__)
EXPIRE = "credit.expire"
KEY = "credit:expire"


def next_run(after: datetime) -> datetime:
    local = after.astimezone(service.CHINA)
    return datetime.combine(local.date() + timedelta(days=1), time(0, 5), service.CHINA)


def ensure(session: Session) -> None:
    """Make sure the daily expiry is scheduled (idempotent: one timer a day)."""
    at = next_run(service.now())
    tasks.schedule(session, EXPIRE, at=at, key=f"{KEY}:{at.date().isoformat()}")


def expire(ctx: TaskContext) -> None:
    assert ctx.session is not None
    n = service.expire_due(ctx.session)
    log.info("credit: %d events stopped counting", n)
    ensure(ctx.session)


TASKS = (TaskKind(EXPIRE, expire),)
