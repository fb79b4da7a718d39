"""Scheduled work with leases: timers, jobs and event deliveries, in one table the worker drains.

A task is due at a time; a worker claims it by setting a lease (one UPDATE over a row the others skip), runs
it, and marks it done. A worker that dies leaves an expired lease, so another worker (or the same one after
a restart) claims the task again; a task that keeps failing is retried with a growing delay and then set aside
as *dead*, with its error and traceback, where an administrator sees it and can retry it.

Short tasks (timers, event handlers) run inside one unit of work that also marks them done: their database
effects happen exactly once even when two workers race, and a worker that lost its lease rolls back. Jobs
(long accounting runs) commit as they go, renew their lease from a heartbeat thread, and stop at the next
`TaskContext.check()` when they are cancelled or their worker is stopping.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, and_, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from gep.db import Base, UtcDateTime, found, unit_of_work
from gep.errors import N_, Conflict, GepError, Word
from gep.kit.audit import aware, now
from gep.kit.logs import context

log = logging.getLogger(__name__)

PENDING, RUNNING, DONE, DEAD, CANCELLED = "pending", "running", "done", "dead", "cancelled"
ACTIVE = (PENDING, RUNNING)
LANES = ("default", "jobs")


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_due", "status", "lane", "due_at"),
        # one live task per key (a timer's identity); finished ones keep their key for the record
        Index("uq_task_live_key", "key", unique=True, sqlite_where=text("status IN ('pending', 'running')"),
              postgresql_where=text("status IN ('pending', 'running')")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(160))
    key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lane: Mapped[str] = mapped_column(String(20), default="default")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    worker: Mapped[str] = mapped_column(String(120), default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str] = mapped_column(Text, default="")
    traceback: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


# -- scheduling (inside the caller's unit of work) -----------------------------------------------------------

def schedule(session: Session, kind: str, *, at: datetime | None = None, payload: dict[str, Any] | None = None,
             key: str | None = None, lane: str = "default", max_attempts: int = 5) -> Task:
    """Run `kind` at `at` (now by default). With a `key`, a live task of that key is moved to the new time
    instead (an auction's close after an extension): scheduling is idempotent."""
    at = at or now()
    if key is not None:
        live = session.scalar(select(Task).where(Task.key == key, Task.status.in_(ACTIVE)))
        if live is not None:
            if live.status == PENDING:
                live.due_at, live.payload = at, payload or live.payload
            return live
    task = Task(kind=kind, key=key, lane=lane, payload=payload or {}, status=PENDING, due_at=at, attempts=0,
                max_attempts=max_attempts, created_at=now(), worker="", cancel_requested=False, last_error="",
                traceback="")
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except IntegrityError:  # the same key scheduled at the same moment by someone else
        live = session.scalar(select(Task).where(Task.key == key, Task.status.in_(ACTIVE)))
        if live is None:
            raise
        return live
    return task


def cancel(session: Session, key: str) -> bool:
    """Cancel the live task of a key: a pending one never runs, a running job stops at its next check."""
    task = session.scalar(select(Task).where(Task.key == key, Task.status.in_(ACTIVE)))
    if task is None:
        return False
    if task.status == PENDING:
        task.status, task.finished_at = CANCELLED, now()
    else:
        task.cancel_requested = True
    return True


def get(session: Session, task_id: int) -> Task:
    return found(session, Task, task_id, N_("task {id} does not exist"))


def retry(session: Session, task_id: int) -> Task:
    """Put a dead (or cancelled) task back in the queue with a fresh count of attempts."""
    task = get(session, task_id)
    if task.status not in (DEAD, CANCELLED):
        raise Conflict(N_("task {id} is {status}; only dead or cancelled tasks can be retried"), id=task_id,
                       status=Word(task.status))
    if task.key and session.scalar(select(exists().where(Task.key == task.key, Task.status.in_(ACTIVE)))):
        raise Conflict(N_("another task with the key {key} is already waiting or running"), key=task.key)
    task.status, task.attempts, task.due_at, task.cancel_requested = PENDING, 0, now(), False
    task.finished_at = task.lease_until = None
    return task


# -- running (the worker) -------------------------------------------------------------------------------------

class Stop(Exception):
    """Raised by `TaskContext.check()`: the task was cancelled, lost its lease, or its worker is stopping."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class TaskContext:
    """What a task's code gets: its payload, a session (short tasks), and for jobs, `check()` and the factory."""

    task_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    factory: sessionmaker[Session]
    services: dict[str, Any]
    session: Session | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _reason: str = ""

    def check(self) -> None:
        """Raise `Stop` if the task should end now (cancelled, lease lost, worker stopping)."""
        if self._stop.is_set():
            raise Stop(self._reason)

    def stop(self, reason: str) -> None:
        self._reason = self._reason or reason
        self._stop.set()

    @property
    def db(self) -> Session:
        if self.session is None:
            raise RuntimeError(f"task kind {self.kind} runs on the jobs lane and opens its own sessions")
        return self.session


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lane: str


def _claimable(lanes: tuple[str, ...], kinds: list[str], moment: datetime) -> Any:
    return and_(Task.lane.in_(lanes), Task.kind.in_(kinds),
                or_(and_(Task.status == PENDING, Task.due_at <= moment),
                    and_(Task.status == RUNNING, Task.lease_until < moment)))


def claim(factory: sessionmaker[Session], lanes: tuple[str, ...], kinds: list[str], worker: str,
          lease_s: float) -> Claimed | None:
    """Take the most overdue task of these lanes and kinds (or one whose worker's lease ran out).

    One UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING: two workers never take the same
    task; on SQLite the statement holds the write lock, which does the same."""
    if not kinds:
        return None
    moment = now()
    pick = (select(Task.id).where(_claimable(lanes, kinds, moment)).order_by(Task.due_at, Task.id).limit(1)
            .with_for_update(skip_locked=True).scalar_subquery())
    stmt = (update(Task).where(Task.id == pick, _claimable(lanes, kinds, moment))
            .values(status=RUNNING, worker=worker, lease_until=moment + timedelta(seconds=lease_s),
                    attempts=Task.attempts + 1, started_at=moment, cancel_requested=False)
            .returning(Task.id, Task.kind, Task.payload, Task.attempts, Task.max_attempts, Task.lane)
            .execution_options(synchronize_session=False))
    with unit_of_work(factory) as s:
        row = s.execute(stmt).first()
    if row is None:
        return None
    return Claimed(row.id, row.kind, dict(row.payload or {}), row.attempts, row.max_attempts, row.lane)


def renew(factory: sessionmaker[Session], task_id: int, worker: str, lease_s: float) -> tuple[bool, bool]:
    """Extend a running task's lease; returns (still ours, cancel requested)."""
    with unit_of_work(factory) as s:
        result = s.execute(update(Task).where(Task.id == task_id, Task.worker == worker, Task.status == RUNNING)
                           .values(lease_until=now() + timedelta(seconds=lease_s))
                           .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False, False
        return True, bool(s.scalar(select(Task.cancel_requested).where(Task.id == task_id)))


def _finish(session: Session, task_id: int, worker: str, status: str = DONE) -> bool:
    result = session.execute(update(Task).where(Task.id == task_id, Task.worker == worker, Task.status == RUNNING)
                             .values(status=status, finished_at=now(), lease_until=None)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


class LeaseLost(GepError):
    """Another worker took this task over (our lease had run out): our changes are rolled back."""


@dataclass
class Runner:
    """Runs claimed tasks with the platform's task kinds."""

    factory: sessionmaker[Session]
    kinds: dict[str, Any]  # name -> gep.kit.domain.TaskKind
    services: dict[str, Any]
    worker: str
    lease_s: float = 60.0
    stopping: threading.Event = field(default_factory=threading.Event)
    current: dict[int, TaskContext] = field(default_factory=dict)

    def run_next(self, lanes: tuple[str, ...]) -> bool:
        """Claim and run one task of these lanes; False when none is due."""
        names = [n for n, k in self.kinds.items() if k.lane in lanes]
        claimed = claim(self.factory, lanes, names, self.worker, self.lease_s)
        if claimed is None:
            return False
        self.run(claimed)
        return True

    def run(self, task: Claimed) -> None:
        with context(f"task:{task.id}"):  # every line the task writes names it
            self._run_claimed(task)

    def _run_claimed(self, task: Claimed) -> None:
        kind = self.kinds[task.kind]
        if task.attempts > task.max_attempts:  # its workers kept dying under it
            self._dead(task, "the worker running it stopped before it finished, "
                             f"{task.max_attempts} time(s)", "")
            return
        ctx = TaskContext(task.id, task.kind, task.payload, task.attempts, task.max_attempts, self.factory,
                          self.services)
        self.current[task.id] = ctx
        log.info("task %s (%s) attempt %d/%d started", task.id, task.kind, task.attempts, task.max_attempts)
        try:
            if kind.lane == "jobs":
                self._run_job(kind, ctx)
            else:
                self._run_short(kind, ctx)
        except Stop as stop:
            self._stopped(task, stop.reason)
        except Exception as exc:
            self._failed(task, exc)
        else:
            log.info("task %s (%s) done", task.id, task.kind)
        finally:
            self.current.pop(task.id, None)

    def _run_short(self, kind: Any, ctx: TaskContext) -> None:
        with unit_of_work(self.factory) as session:
            ctx.session = session
            kind.run(ctx)
            if not _finish(session, ctx.task_id, self.worker):
                raise LeaseLost(N_("task {id} was taken over by another worker"), id=ctx.task_id)

    def _run_job(self, kind: Any, ctx: TaskContext) -> None:
        beat = threading.Event()

        def heartbeat() -> None:
            while not beat.wait(self.lease_s / 4):
                try:
                    ours, cancelled = renew(self.factory, ctx.task_id, self.worker, self.lease_s)
                except Exception:  # a database hiccup: try again at the next beat
                    log.exception("task %s: renewing the lease failed", ctx.task_id)
                    continue
                if not ours:
                    ctx.stop("lease lost")
                elif cancelled:
                    ctx.stop("cancelled")
                if self.stopping.is_set():
                    ctx.stop("worker stopping")

        thread = threading.Thread(target=heartbeat, name=f"heartbeat-{ctx.task_id}", daemon=True)
        thread.start()
        try:
            if self.stopping.is_set():
                ctx.stop("worker stopping")
            kind.run(ctx)
        finally:
            beat.set()
            thread.join()
        with unit_of_work(self.factory) as session:
            _finish(session, ctx.task_id, self.worker)

    def _stopped(self, task: Claimed, reason: str) -> None:
        """A job stopped at a check: cancelled for good, or handed back for another worker."""
        with unit_of_work(self.factory) as s:
            row = s.get(Task, task.id)
            if row is None or row.worker != self.worker or row.status != RUNNING:
                return  # lease lost: the new owner decides
            if reason == "cancelled":
                row.status, row.finished_at, row.lease_until = CANCELLED, now(), None
            else:  # the worker is stopping: put it back, this attempt does not count
                row.status, row.lease_until, row.worker = PENDING, None, ""
                row.attempts = max(0, row.attempts - 1)
                row.due_at = now()
        log.info("task %s (%s) stopped: %s", task.id, task.kind, reason)

    def _failed(self, task: Claimed, exc: Exception) -> None:
        tb = traceback.format_exc()
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, LeaseLost):
            log.warning("task %s (%s): %s", task.id, task.kind, error)
            return
        if task.attempts >= task.max_attempts:
            self._dead(task, error, tb)
            return
        delay = min(5 * 2 ** (task.attempts - 1), 3600)
        log.warning("task %s (%s) failed (attempt %d/%d), retry in %ss: %s", task.id, task.kind, task.attempts,
                    task.max_attempts, delay, error)
        with unit_of_work(self.factory) as s:
            s.execute(update(Task).where(Task.id == task.id, Task.worker == self.worker, Task.status == RUNNING)
                      .values(status=PENDING, due_at=now() + timedelta(seconds=delay), lease_until=None,
                              last_error=error[:4000], traceback=tb[-20000:])
                      .execution_options(synchronize_session=False))

    def _dead(self, task: Claimed, error: str, tb: str) -> None:
        log.error("task %s (%s) is dead after %d attempt(s): %s", task.id, task.kind, task.attempts, error)
        kind = self.kinds[task.kind]
        with unit_of_work(self.factory) as s:
            done = s.execute(update(Task).where(Task.id == task.id, Task.worker == self.worker,
                                                Task.status == RUNNING)
                             .values(status=DEAD, finished_at=now(), lease_until=None, last_error=error[:4000],
                                     traceback=tb[-20000:])
                             .execution_options(synchronize_session=False))
            if done.rowcount == 1 and kind.on_dead is not None:  # type: ignore[attr-defined]
                kind.on_dead(s, task.id, task.payload, error)


def counts(session: Session) -> dict[str, int]:
    """How many tasks are in each state (for the operator)."""
    return {status: n for status, n in session.execute(select(Task.status, func.count()).group_by(Task.status))}


def overdue_running(session: Session) -> list[Task]:
    """Tasks marked running whose lease has run out: their worker is gone and none has taken them yet."""
    return list(session.scalars(select(Task).where(Task.status == RUNNING, Task.lease_until < now())))


def lease_expired(task: Task) -> bool:
    return task.status == RUNNING and task.lease_until is not None and aware(task.lease_until) < now()


Handler = Callable[[TaskContext], None]
