"""Tasks, timers and events: scheduling, leases, retries, dead letters, the outbox — by hand, as a state machine
with hypothesis, and with real concurrent workers on PostgreSQL (each due task and each event handled once)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, update

from gep.app import DOMAINS
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit import events, tasks
from gep.kit.audit import now
from gep.kit.domain import Domain, EventHandler, TaskKind
from gep.kit.platform import Platform
from gep.kit.tasks import Task, TaskContext
from gep.kit.worker import Worker
from gep.migrations import upgrade

LEDGER = MetaData()
RAN = Table("test_ran", LEDGER, Column("id", Integer, primary_key=True), Column("what", String(80)))


def _ran(ctx: TaskContext) -> None:
    ctx.db.execute(RAN.insert().values(what=f"task:{ctx.task_id}"))


def _fails(ctx: TaskContext) -> None:
    raise RuntimeError("the gateway is down")


def _on_event(session: object, event: events.Event) -> None:
    session.execute(RAN.insert().values(what=f"event:{event.id}"))  # type: ignore[attr-defined]


DEAD: list[int] = []
TEST_DOMAIN = Domain(name="testing", title="t", root=Path(__file__).parent, tasks=(
    TaskKind("testing.ran", _ran), TaskKind("testing.fails", _fails, max_attempts=3,
                                            on_dead=lambda s, tid, p, e: DEAD.append(tid))),
    handlers=(EventHandler("testing.happened", _on_event),))
PLATFORM = Platform.build((*DOMAINS, TEST_DOMAIN))


def _database(url: str) -> tuple:
    upgrade(url)
    engine = make_engine(url)
    LEDGER.create_all(engine)
    return engine, session_factory(engine)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple]:
    engine, factory = _database(f"sqlite:///{tmp_path / 't.db'}")
    yield engine, factory
    engine.dispose()


def _ran_rows(factory: object) -> list[str]:
    with unit_of_work(factory) as s:  # type: ignore[arg-type]
        return list(s.scalars(select(RAN.c.what)))


def _task(factory: object, task_id: int) -> Task:
    with unit_of_work(factory) as s:  # type: ignore[arg-type]
        return s.get(Task, task_id)  # type: ignore[return-value]


# -- by hand --------------------------------------------------------------------------------------------------

def test_a_timer_runs_when_due_and_once(db: tuple) -> None:
    _, factory = db
    worker = Worker(PLATFORM, factory)
    with unit_of_work(factory) as s:
        later = tasks.schedule(s, "testing.ran", at=now() + timedelta(hours=1)).id
        due = tasks.schedule(s, "testing.ran", at=now() - timedelta(seconds=1)).id
    worker.drain()
    assert _ran_rows(factory) == [f"task:{due}"]
    assert _task(factory, due).status == "done" and _task(factory, later).status == "pending"
    worker.drain()
    assert _ran_rows(factory) == [f"task:{due}"]


def test_a_key_reschedules_its_live_timer_and_cancel_stops_it(db: tuple) -> None:
    _, factory = db
    with unit_of_work(factory) as s:
        first = tasks.schedule(s, "testing.ran", at=now() + timedelta(hours=1), key="close:7")
        again = tasks.schedule(s, "testing.ran", at=now() + timedelta(hours=2), key="close:7")
        assert again.id == first.id  # moved, not doubled (an auction's extension)
        assert tasks.cancel(s, "close:7") and not tasks.cancel(s, "close:7")
        fresh = tasks.schedule(s, "testing.ran", at=now() - timedelta(seconds=1), key="close:7")
        assert fresh.id != first.id  # a cancelled timer's key is free again
    Worker(PLATFORM, factory).drain()
    assert _ran_rows(factory) == [f"task:{fresh.id}"]


def test_a_failing_task_is_retried_later_then_dead_with_its_traceback_then_retried_by_hand(db: tuple) -> None:
    _, factory = db
    worker = Worker(PLATFORM, factory)
    with unit_of_work(factory) as s:
        tid = tasks.schedule(s, "testing.fails", max_attempts=3).id
    for attempt in (1, 2, 3):
        assert worker.runner.run_next(("default",))
        task = _task(factory, tid)
        if attempt < 3:
            assert task.status == "pending" and task.attempts == attempt
            assert "the gateway is down" in task.last_error and "RuntimeError" in task.traceback
            with unit_of_work(factory) as s:  # the retry waits 5 s, 10 s …: bring it forward for the test
                s.execute(update(Task).where(Task.id == tid).values(due_at=now()))
    task = _task(factory, tid)
    assert task.status == "dead" and task.attempts == 3 and DEAD[-1] == tid
    assert not worker.runner.run_next(("default",))
    with unit_of_work(factory) as s:
        tasks.retry(s, tid)
    assert _task(factory, tid).status == "pending" and _task(factory, tid).attempts == 0


def test_a_task_whose_worker_died_is_taken_over_and_the_late_worker_changes_nothing(db: tuple) -> None:
    _, factory = db
    with unit_of_work(factory) as s:
        tid = tasks.schedule(s, "testing.ran").id
    dead = tasks.claim(factory, ("default",), ["testing.ran"], "dead-worker", lease_s=60)
    assert dead is not None and dead.id == tid
    assert tasks.claim(factory, ("default",), ["testing.ran"], "other", lease_s=60) is None  # leased
    with unit_of_work(factory) as s:  # the dead worker's lease runs out
        s.execute(update(Task).where(Task.id == tid).values(lease_until=now() - timedelta(seconds=1)))
    Worker(PLATFORM, factory).drain()
    assert _ran_rows(factory) == [f"task:{tid}"] and _task(factory, tid).attempts == 2
    late = tasks.Runner(factory, PLATFORM.task_kinds, {}, "dead-worker")
    late.run(dead)  # the first worker wakes up and finishes: its work is rolled back (lease lost)
    assert _ran_rows(factory) == [f"task:{tid}"]


def test_events_are_recorded_with_the_change_and_delivered_once(db: tuple) -> None:
    _, factory = db
    with pytest.raises(RuntimeError), unit_of_work(factory) as s:
        events.record(s, "testing.happened", n=1)
        raise RuntimeError("the change failed")
    with unit_of_work(factory) as s:
        event_id = events.record(s, "testing.happened", n=2).id
    worker = Worker(PLATFORM, factory)
    worker.drain()
    worker.drain()
    assert _ran_rows(factory) == [f"event:{event_id}"]  # the rolled-back change left no event


# -- the task state machine -----------------------------------------------------------------------------------

class TaskMachine(RuleBasedStateMachine):
    """Any sequence of scheduling, cancelling, claiming, finishing, failing, losing leases and retrying keeps:
    at most one live task per key; a finished task never runs again unless retried by hand; attempts never
    exceed the limit while a task is live; what ran is exactly what was claimed and finished."""

    keys = st.sampled_from(["a", "b", "c"])

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.engine, self.factory = _database(f"sqlite:///{self.tmp.name}/m.db")
        self.runner = tasks.Runner(self.factory, PLATFORM.task_kinds, {}, "w1", lease_s=60)
        self.finished: set[int] = set()
        self.completions = 0

    def teardown(self) -> None:
        self.engine.dispose()
        self.tmp.cleanup()

    @rule(key=keys, fails=st.booleans())
    def schedule(self, key: str, fails: bool) -> None:
        with unit_of_work(self.factory) as s:
            tasks.schedule(s, "testing.fails" if fails else "testing.ran", key=key, max_attempts=3)

    @rule(key=keys)
    def cancel(self, key: str) -> None:
        with unit_of_work(self.factory) as s:
            tasks.cancel(s, key)

    @rule()
    def run_one(self) -> None:
        before = self._statuses()
        claimed = tasks.claim(self.factory, ("default",), list(PLATFORM.task_kinds), "w1", 60)
        if claimed is None:
            return
        assert before[claimed.id] in ("pending", "running")
        assert claimed.id not in self.finished
        self.runner.run(claimed)
        if self._statuses()[claimed.id] == "done":
            self.completions += 1

    @rule()
    def make_everything_due(self) -> None:
        with unit_of_work(self.factory) as s:
            s.execute(update(Task).where(Task.status == "pending").values(due_at=now() - timedelta(seconds=1)))

    @rule()
    def a_worker_dies(self) -> None:
        claimed = tasks.claim(self.factory, ("default",), list(PLATFORM.task_kinds), "doomed", 60)
        if claimed is not None:
            with unit_of_work(self.factory) as s:
                s.execute(update(Task).where(Task.id == claimed.id).values(lease_until=now() - timedelta(seconds=1)))

    @precondition(lambda self: True)
    @rule()
    def retry_the_dead(self) -> None:
        with unit_of_work(self.factory) as s:
            for task in s.scalars(select(Task).where(Task.status == "dead")):
                if task.key is None or not s.scalar(select(func.count()).select_from(Task).where(
                        Task.key == task.key, Task.status.in_(tasks.ACTIVE))):
                    tasks.retry(s, task.id)
                    self.finished.discard(task.id)

    def _statuses(self) -> dict[int, str]:
        with unit_of_work(self.factory) as s:
            return dict(s.execute(select(Task.id, Task.status)).all())  # type: ignore[arg-type]

    @invariant()
    def one_live_task_per_key(self) -> None:
        with unit_of_work(self.factory) as s:
            live = s.execute(select(Task.key, func.count()).where(Task.status.in_(tasks.ACTIVE))
                             .group_by(Task.key)).all()
        assert all(n == 1 for key, n in live if key is not None), live

    @invariant()
    def finished_stay_finished_and_attempts_stay_within_the_limit(self) -> None:
        with unit_of_work(self.factory) as s:
            rows = s.execute(select(Task.id, Task.status, Task.attempts, Task.max_attempts)).all()
        for tid, status, attempts, limit in rows:
            if tid in self.finished:
                assert status in ("done", "dead", "cancelled"), (tid, status)
            if status in ("done", "dead", "cancelled"):
                self.finished.add(tid)
            if status == "pending":
                assert attempts <= limit

    @invariant()
    def what_ran_is_what_finished(self) -> None:
        ran = [w for w in _ran_rows(self.factory) if w.startswith("task:")]
        assert len(ran) == len(set(ran)) == self.completions


TestTaskMachine = TaskMachine.TestCase
TestTaskMachine.settings = settings(max_examples=25, stateful_step_count=25, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow])
TestTaskMachine.pytestmark = [pytest.mark.slow]  # 12 s of the fast run's budget: with the slow tests in CI


# -- real concurrency on PostgreSQL ---------------------------------------------------------------------------

def _race(factory_count: int, url: str, work: object) -> None:
    barrier = threading.Barrier(factory_count)
    errors: list[BaseException] = []

    def go(i: int) -> None:
        engine = make_engine(url)
        try:
            barrier.wait()
            work(session_factory(engine), i)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(factory_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_workers_racing_for_due_timers_run_each_once_on_postgresql(pg_url: str) -> None:
    engine, factory = _database(pg_url)
    with unit_of_work(factory) as s:
        ids = [tasks.schedule(s, "testing.ran", key=f"close:{i}", at=now() - timedelta(seconds=1)).id
               for i in range(40)]
    _race(4, pg_url, lambda f, i: Worker(PLATFORM, f, name=f"w{i}").drain())
    ran = _ran_rows(factory)
    assert sorted(ran) == sorted(f"task:{i}" for i in ids)  # every timer once, none twice
    with unit_of_work(factory) as s:
        assert set(s.scalars(select(Task.status).where(Task.id.in_(ids)))) == {"done"}
    engine.dispose()


def test_workers_racing_for_one_event_deliver_it_once_on_postgresql(pg_url: str) -> None:
    engine, factory = _database(pg_url)
    with unit_of_work(factory) as s:
        event_ids = [events.record(s, "testing.happened", n=i).id for i in range(20)]
    _race(4, pg_url, lambda f, i: Worker(PLATFORM, f, name=f"w{i}").drain())
    assert sorted(_ran_rows(factory)) == sorted(f"event:{i}" for i in event_ids)
    with unit_of_work(factory) as s:
        deliveries = s.scalar(select(func.count()).select_from(Task).where(Task.kind.like("event:%")))
    assert deliveries == len(event_ids)  # fanned out once each, by whichever worker got there first
    engine.dispose()


def test_a_refused_change_leaves_nothing_even_past_a_savepoint(db: tuple) -> None:
    """SQLite: a savepoint taken before the first write must not become the transaction (releasing it would
    commit, and the refusal that follows could not roll the change back)."""
    _, factory = db
    with pytest.raises(RuntimeError), unit_of_work(factory) as s:
        s.scalars(select(Task)).all()
        tasks.schedule(s, "testing.ran", key="kept?")  # takes a savepoint before its first write
        raise RuntimeError("a rule refused what followed")
    with unit_of_work(factory) as s:
        assert s.scalar(select(func.count()).select_from(Task)) == 0
