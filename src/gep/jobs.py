"""Long work off the request path: accounting runs submitted to Dask, status and progress in the database.

Embedded default: a Dask LocalCluster inside the server process (threads, nothing to install). Production:
`GEP_DASK_SCHEDULER=tcp://host:8786` sends runs to a Dask cluster whose workers share the database and the
data folder, or `GEP_JOB_MODE=queue` leaves runs queued for `gep worker` processes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gep.db import make_engine, session_factory, unit_of_work
from gep.regions.models import AccountingRun
from gep.regions.service import execute_run


def _execute(db_url: str, run_id: int, data_dir: str) -> int:
    """The task a Dask worker runs: its own engine, so it works in another process too."""
    engine = make_engine(db_url)
    try:
        execute_run(session_factory(engine), run_id, Path(data_dir))
    finally:
        engine.dispose()
    return run_id


class JobRunner:
    """Submits queued runs; `submit` returns at once."""

    def __init__(self, db_url: str, data_dir: Path, mode: str = "dask", scheduler: str | None = None) -> None:
        self.db_url, self.data_dir, self.mode, self.scheduler = db_url, Path(data_dir), mode, scheduler
        self._client: Any = None
        self._futures: dict[int, Any] = {}
        self._lock = threading.Lock()

    def _dask(self) -> Any:
        with self._lock:
            if self._client is None:
                from distributed import Client, LocalCluster

                if self.scheduler:
                    self._client = Client(self.scheduler)
                else:
                    cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                           dashboard_address=None)
                    self._client = Client(cluster)
            return self._client

    def submit(self, run_id: int) -> None:
        if self.mode == "queue":
            return  # a `gep worker` picks it up
        future = self._dask().submit(_execute, self.db_url, run_id, str(self.data_dir), key=f"accounting-run-{run_id}",
                                     pure=False)
        self._futures[run_id] = future

    def wait(self, run_id: int, timeout: float = 600) -> None:
        """Block until a submitted run ends (tests and the CLI)."""
        future = self._futures.get(run_id)
        if future is not None:
            future.result(timeout=timeout)

    def close(self) -> None:
        if self._client is not None:
            cluster = getattr(self._client, "cluster", None)
            self._client.close()
            if cluster is not None and not self.scheduler:
                cluster.close()
            self._client = None


def work_forever(factory: sessionmaker[Session], data_dir: Path, poll_s: float = 2.0,
                 stop: threading.Event | None = None) -> None:
    """`gep worker`: take queued runs one at a time (a row lock on PostgreSQL keeps two workers apart)."""
    while stop is None or not stop.is_set():
        run_id = _claim(factory)
        if run_id is None:
            time.sleep(poll_s)
            continue
        execute_run(factory, run_id, data_dir)


def _claim(factory: sessionmaker[Session]) -> int | None:
    with unit_of_work(factory) as s:
        q = select(AccountingRun).where(AccountingRun.status == "queued").order_by(AccountingRun.id).limit(1)
        run = s.scalar(q.with_for_update(skip_locked=True))
        if run is None:
            return None
        run.status, run.stage = "running", "claimed by a worker"
        return run.id
