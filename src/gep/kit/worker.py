"""The worker: drains due tasks lane by lane and fans new events out into deliveries.

One thread per lane: "default" (timers, event deliveries, notifications: short) and "jobs" (accounting runs:
long), so an hour-long run never delays an auction's close. `gep serve` runs one inside the web process
(the embedded default); `gep worker` runs one as a process of its own, any number of them side by side.
Stopping (SIGTERM, Ctrl-C, the server shutting down) lets short tasks finish and hands a running job back
to the queue at its next check, for another worker to take.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gep.db import unit_of_work
from gep.kit import events
from gep.kit.logs import context
from gep.kit.platform import Platform
from gep.kit.tasks import Runner

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Worker:
    platform: Platform
    factory: sessionmaker[Session]
    services: dict[str, Any] = field(default_factory=dict)
    lanes: tuple[str, ...] = ("default", "jobs")
    poll_s: float = 1.0
    lease_s: float = field(default_factory=lambda: float(os.environ.get("GEP_TASK_LEASE_S", "60")))
    name: str = field(default_factory=worker_name)
    _threads: list[threading.Thread] = field(default_factory=list)
    _wake: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.runner = Runner(self.factory, self.platform.task_kinds, self.services, self.name, self.lease_s)

    @property
    def stopping(self) -> threading.Event:
        return self.runner.stopping

    def step(self, lane: str) -> bool:
        """One unit of work on a lane: fan out new events (default lane), then run one due task."""
        did = False
        if lane == "default":
            did = events.fan_out(self.factory, self.platform.subscribers) > 0
        return self.runner.run_next((lane,)) or did

    def drain(self, max_steps: int = 10_000) -> int:
        """Run everything due now, in this thread (tests, `gep demo`); returns the number of steps that did work."""
        done = 0
        for _ in range(max_steps):
            progressed = False
            for lane in self.lanes:
                if self.step(lane):
                    progressed = True
                    done += 1
            if not progressed:
                break
        return done

    def _loop(self, lane: str) -> None:
        with context(f"worker:{lane}"):
            log.info("worker %s: lane %s started", self.name, lane)
            while not self.stopping.is_set():
                try:
                    busy = self.step(lane)
                except Exception:  # the database went away for a moment; try again after the poll interval
                    log.exception("worker %s: lane %s step failed", self.name, lane)
                    busy = False
                if not busy:
                    self._wake.wait(self.poll_s)
                    self._wake.clear()
            log.info("worker %s: lane %s stopped", self.name, lane)

    def start(self) -> None:
        for domain in self.platform.domains:
            if domain.on_start is not None:
                try:
                    with unit_of_work(self.factory) as session:
                        domain.on_start(session)
                except Exception:  # a database not yet migrated, say: the worker still starts
                    log.exception("worker %s: the start of %s failed", self.name, domain.name)
        for lane in self.lanes:
            thread = threading.Thread(target=self._loop, args=(lane,), name=f"gep-worker-{lane}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        for ctx in list(self.runner.current.values()):
            ctx.stop("worker stopping")
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def run_forever(self) -> None:
        """`gep worker`: the lanes' threads until SIGTERM or Ctrl-C."""
        import signal

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("worker %s: signal %s, stopping", self.name, signum)
            self.stopping.set()
            for ctx in list(self.runner.current.values()):
                ctx.stop("worker stopping")
            self._wake.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
        while any(t.is_alive() for t in self._threads):
            for thread in self._threads:
                thread.join(0.5)
