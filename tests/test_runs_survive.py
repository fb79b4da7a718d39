"""Runs survive their workers: a worker killed mid-run (SIGKILL) or stopped (SIGTERM) never leaves a run stuck as
"running"; and two requests that start the same run at once on PostgreSQL give one run and one clear conflict."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import Demo
from gep.auth import service as auth
from gep.db import make_engine, session_factory, unit_of_work
from gep.errors import Conflict
from gep.kit.principal import SYSTEM, Principal
from gep.migrations import upgrade
from gep.regions import service
from gep.regions.models import AccountingRun
from gep.testing import TinyRegion

MID_RUN = "writing the report"  # the longest stage of a run of the 1 km demo: a moment to kill it in
ANALYST = Principal(None, "test", "analyst", None, frozenset({"regions.run", "regions.read", "regions.import"}),
                    "system")


def _run(url: str, run_id: int) -> AccountingRun:
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as s:
            return service.get_run(s, run_id)
    finally:
        engine.dispose()


def _start(url: str) -> int:
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as s:
        region = s.scalar(service.select(service.Region).where(service.Region.code == "lishui"))
        run_id = service.start_run(s, region.id, 2019, SYSTEM).id
    engine.dispose()
    return run_id


def _worker(url: str, data: Path) -> subprocess.Popen:
    env = {**os.environ, "GEP_TASK_LEASE_S": "3", "GEP_LOG_LEVEL": "WARNING"}
    log = (data.parent / f"worker-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "gep.cli", "worker", "--database-url", url, "--data-dir",
                             str(data)], env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait(url: str, run_id: int, want: set[str], timeout: float = 240, stage: str | None = None,
          after: object = None) -> AccountingRun:
    """Until the run is in one of `want` (at `stage`, and started after `after` when given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _run(url, run_id)
        if run.status in want and (stage is None or run.stage == stage) and (
                after is None or (run.started_at is not None and run.started_at != after)):
            return run
        time.sleep(0.1)
    run = _run(url, run_id)
    pytest.fail(f"run {run_id} did not reach {want} within {timeout} s (it is {run.status}, {run.stage!r})")


@pytest.fixture
def demo_db(demo: Demo, tmp_path: Path) -> str:
    return demo.copy_database(tmp_path / "gep.db")


@pytest.mark.slow
def test_a_killed_worker_leaves_the_run_to_the_next_one(demo_db: str, tmp_path: Path) -> None:
    run_id = _start(demo_db)
    first = _worker(demo_db, tmp_path / "data")
    try:
        _wait(demo_db, run_id, {"running"}, stage=MID_RUN)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        assert _run(demo_db, run_id).status == "running"  # nobody has noticed yet
        (tmp_path / "data" / "runs" / str(run_id) / ".accounts.left-behind").mkdir(parents=True, exist_ok=True)
        second = _worker(demo_db, tmp_path / "data")
        try:
            run = _wait(demo_db, run_id, {"succeeded", "failed"})
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(60)
    finally:
        if first.poll() is None:
            first.kill()
    assert run.status == "succeeded", run.message
    assert not any(p.name.startswith(".") for p in (tmp_path / "data" / "runs" / str(run_id)).iterdir())


@pytest.mark.slow
def test_a_run_whose_workers_keep_dying_is_shown_failed_never_stuck(demo_db: str, tmp_path: Path) -> None:
    run_id = _start(demo_db)
    started = None
    for _ in range(2):
        worker = _worker(demo_db, tmp_path / "data")
        started = _wait(demo_db, run_id, {"running"}, stage=MID_RUN, after=started).started_at
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    last = _worker(demo_db, tmp_path / "data")
    try:
        run = _wait(demo_db, run_id, {"failed", "succeeded"})
    finally:
        last.send_signal(signal.SIGTERM)
        last.wait(60)
    assert run.status == "failed" and "worker running it stopped before it finished" in run.message


@pytest.mark.slow
def test_sigterm_hands_the_run_back_and_the_next_worker_finishes_it(demo_db: str, tmp_path: Path) -> None:
    run_id = _start(demo_db)
    first = _worker(demo_db, tmp_path / "data")
    _wait(demo_db, run_id, {"running"}, stage=MID_RUN)
    first.send_signal(signal.SIGTERM)
    assert first.wait(120) == 0
    run = _run(demo_db, run_id)
    assert run.status == "queued" and run.stage == "waiting for a worker", (run.status, run.stage)
    second = _worker(demo_db, tmp_path / "data")
    try:
        assert _wait(demo_db, run_id, {"succeeded", "failed"}).status == "succeeded"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(60)


def test_two_requests_starting_the_same_run_give_one_run_and_one_conflict_on_postgresql(
        pg_url: str, tmp_path: Path) -> None:
    upgrade(pg_url)
    classes = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
    package = TinyRegion(classes, {"precipitation": np.full((2, 4), 2000.0)}).write(tmp_path / "tiny")
    engine = make_engine(pg_url)
    with unit_of_work(session_factory(engine)) as s:
        region_id = service.import_region(s, package, SYSTEM).id
        auth.create_organisation(s, "某县", "government", SYSTEM)
    engine.dispose()
    for _round in range(8):
        barrier = threading.Barrier(2)
        outcomes: list[object] = []

        def start(barrier: threading.Barrier = barrier, outcomes: list[object] = outcomes) -> None:
            eng = make_engine(pg_url)
            try:
                with unit_of_work(session_factory(eng)) as session:
                    barrier.wait()
                    outcomes.append(service.start_run(session, region_id, 2019, ANALYST).id)
            except Conflict as exc:
                outcomes.append(exc)
            finally:
                eng.dispose()

        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ids = [o for o in outcomes if isinstance(o, int)]
        conflicts = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(ids) == 1 and len(conflicts) == 1, outcomes
        assert "is still queued" in str(conflicts[0])
        eng = make_engine(pg_url)
        with unit_of_work(session_factory(eng)) as s:
            service.cancel_run(s, ids[0], ANALYST)
        eng.dispose()
