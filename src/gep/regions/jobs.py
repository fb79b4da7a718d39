"""The accounting run as a job of the worker, and what follows a finished run.

The job commits its progress as it goes (each write in its own short transaction), checks at every step
whether it should stop, writes the accounts and reports into the run's folder atomically, and stores the
accounts with the run's success in one transaction at the end. An error the user can act on (a GepError) is
shown as its sentence; anything else as "an internal error", with the traceback kept for administrators.
"""

from __future__ import annotations

import logging
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gep.db import unit_of_work
from gep.errors import N_, GepError
from gep.kit.audit import now
from gep.kit.events import Event
from gep.kit.notify import notify
from gep.kit.tasks import Stop, TaskContext
from gep.regions import service
from gep.regions.models import AccountingRun

log = logging.getLogger(__name__)


class _Progress:
    """Writes a run's stage and progress to the database (at most twice a second) and stops when asked."""

    def __init__(self, factory: sessionmaker[Session], run_id: int, ctx: TaskContext) -> None:
        self.factory, self.run_id, self.ctx = factory, run_id, ctx
        self.last = 0.0

    def _write(self, **values: Any) -> None:
        with unit_of_work(self.factory) as s:
            run = s.get(AccountingRun, self.run_id)
            if run is not None and run.status == "running":
                for k, v in values.items():
                    setattr(run, k, v)

    def stage(self, name: str) -> None:
        self.ctx.check()
        self._write(stage=name)

    def tasks(self, done: int, total: int) -> None:
        self.ctx.check()
        if time.monotonic() - self.last > 0.5 or done == total:
            self.last = time.monotonic()
            self._write(progress=0.1 + 0.7 * done / max(total, 1))


def run_accounting(ctx: TaskContext) -> None:
    """The body of the "regions.accounting_run" task."""
    from gep.accounting.region import load_region
    from gep.accounting.run import account
    from gep.report import write_report

    run_id = int(ctx.payload["run_id"])
    data_dir: Path = ctx.services["data_dir"]
    with unit_of_work(ctx.factory) as s:
        run = service.get_run(s, run_id)
        if run.status not in ("queued", "running"):
            return  # cancelled (or finished) before this worker got to it
        region = service.get_region(s, run.region_id)
        restarted = ctx.attempt > 1
        run.status, run.started_at, run.progress = "running", now(), 0.02
        run.stage = N_("restarted after its worker stopped") if restarted else N_("loading the region")
        package, year, method, price_year = Path(region.package_path), run.year, run.method, run.price_year
    out = data_dir / "runs" / str(run_id)
    clean_orphans(out)
    progress = _Progress(ctx.factory, run_id, ctx)
    try:
        accounts = account(load_region(package), year, method=method, price_year=price_year, progress=progress,
                           scheduler=ctx.services.get("dask_scheduler"))
        progress.stage(N_("writing the accounts"))
        accounts.write(out / "accounts", density=True)
        reports: dict[str, str] = {}
        for lang in ("zh", "en"):
            progress.stage(N_("writing the report"))
            for fmt, path in write_report([out / "accounts"], out / "report", lang=lang).items():
                reports[f"{lang}.{fmt}"] = str(path)
        progress.stage(N_("storing the accounts"))
        with unit_of_work(ctx.factory) as s:
            service.store(s, service.get_run(s, run_id), accounts.table, accounts.metadata, out / "accounts",
                          reports)
    except Stop as stop:
        _stopped(ctx.factory, run_id, stop.reason)
        raise
    except GepError as exc:
        _fail(ctx.factory, run_id, exc.template, "", **exc.params)
    except Exception as exc:  # not the user's doing: a sentence for them, the traceback for an administrator
        log.exception("accounting run %s failed", run_id)
        _fail(ctx.factory, run_id, N_("an internal error stopped the run ({error}); an administrator can see "
                                      "the details"), traceback.format_exc(), error=type(exc).__name__)


def _fail(factory: sessionmaker[Session], run_id: int, message: str, tb: str, **params: Any) -> None:
    with unit_of_work(factory) as s:
        run = s.get(AccountingRun, run_id)
        if run is not None and run.status == "running":
            service._end(s, run, "failed", message, tb, **params)


def _stopped(factory: sessionmaker[Session], run_id: int, reason: str) -> None:
    with unit_of_work(factory) as s:
        run = s.get(AccountingRun, run_id)
        if run is None or run.status != "running":
            return
        if reason == "cancelled":
            service._end(s, run, "cancelled", N_("cancelled while it ran"))
        elif reason == "worker stopping":
            run.status, run.stage, run.progress = "queued", N_("waiting for a worker"), 0.0
        # "lease lost": another worker runs it now


def on_dead(session: Session, task_id: int, payload: dict[str, Any], error: str) -> None:
    """The job's workers kept stopping under it: the run is shown as failed, never stuck as running."""
    run = session.get(AccountingRun, int(payload.get("run_id", 0)))
    if run is not None and run.status in ("queued", "running"):
        service._end(session, run, "failed", N_("the worker running it stopped before it finished, {attempts} "
                                                "times; start it again, or ask an administrator to look at the "
                                                "workers"), "", attempts=service.MAX_ATTEMPTS)


def clean_orphans(folder: Path) -> int:
    """Remove the temporary folders an interrupted atomic write left in a run's folder (".accounts.*")."""
    removed = 0
    if folder.is_dir():
        for child in folder.iterdir():
            if child.is_dir() and child.name.startswith("."):
                shutil.rmtree(child, ignore_errors=True)
                removed += 1
    if removed:
        log.info("removed %d temporary folder(s) left in %s", removed, folder)
    return removed


def tell_requester(session: Session, event: Event) -> None:
    """A finished run lands in its requester's inbox (the bell)."""
    run = session.get(AccountingRun, int(event.payload["run_id"]))
    if run is None or run.requested_by is None:
        return
    titles = {"succeeded": N_("Accounting run {id} ({year}) finished"),
              "failed": N_("Accounting run {id} ({year}) failed"),
              "cancelled": N_("Accounting run {id} ({year}) was cancelled")}
    notify(session, run.requested_by, titles[event.payload["status"]], link="/runs", kind="regions.run",
           id=run.id, year=run.year)
