"""The exchange's timers, run by the worker whether or not anyone visits a page: bidding opens when the notice
period ends, closes when it is due (after any extension), and deals default when a deadline passes. Each is
idempotent, and takes the listing's row lock, so two workers racing do the work once."""

from __future__ import annotations

import logging

from gep.exchange import bidding, deals, listings, store
from gep.kit.domain import TaskKind
from gep.kit.principal import SYSTEM
from gep.kit.tasks import TaskContext

log = logging.getLogger(__name__)


def open_bidding(ctx: TaskContext) -> None:
    listing = store.lock_listing(ctx.db, int(ctx.payload["listing_id"]))
    if listings.open_if_due(ctx.db, listing, SYSTEM):
        log.info("bidding opened on %s", listing.code)
    elif listing.state == "announced":  # fired before its time (another machine's clock): look again then
        store.schedule_open(ctx.db, listing, again=True)


def close_bidding(ctx: TaskContext) -> None:
    outcome = bidding.close(ctx.db, int(ctx.payload["listing_id"]), SYSTEM)
    log.info("close of listing %s: %s", ctx.payload["listing_id"], outcome)


def deadline(ctx: TaskContext) -> None:
    outcome = deals.default_if_due(ctx.db, int(ctx.payload["deal_id"]), str(ctx.payload["step"]))
    log.info("deadline (%s) of trade %s: %s", ctx.payload["step"], ctx.payload["deal_id"], outcome)


TASKS = (TaskKind(store.OPEN, open_bidding), TaskKind(store.CLOSE, close_bidding),
         TaskKind(store.DEADLINE, deadline))
