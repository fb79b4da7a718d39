"""The audit chain's seals, signed with the platform's key (gep.kit.audit_chain chains; this signs).

Every worker makes sure a seal is scheduled when it starts; each seal schedules the next one
`GEP_AUDIT_SEAL_MINUTES` later (10 by default), keyed by its time slot so two workers schedule it once. A seal
also applies the retention `GEP_AUDIT_RETENTION_DAYS` when it is set (rows an export has covered only).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from gep.certificates import keys, service
from gep.db import unit_of_work
from gep.kit import audit_chain, tasks
from gep.kit.audit import now
from gep.kit.domain import TaskKind
from gep.kit.tasks import Task, TaskContext

log = logging.getLogger(__name__)
SEAL = "certificates.audit_seal"


def interval() -> timedelta:
    return timedelta(minutes=float(os.environ.get("GEP_AUDIT_SEAL_MINUTES", "10")))


def retention_days() -> int | None:
    raw = os.environ.get("GEP_AUDIT_RETENTION_DAYS", "").strip()
    return int(raw) if raw else None


def signer_of(session: Session, data_dir: Path) -> audit_chain.Signer:
    signer = keys.signer(keys.key_path(data_dir))
    service.register_key(session, signer)
    return lambda message: (signer.key_id, signer.private.sign(message))


def checker(data_dir: Path) -> audit_chain.Checker:
    """Checks a signature against the public keys in the data folder's keys/ (never the database's register)."""
    known = keys.public_keys(keys.key_path(data_dir))

    def check(key_id: str, message: bytes, signature: bytes) -> bool:
        if key_id not in known:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(known[key_id]).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    return check


def seal_now(session: Session, data_dir: Path) -> int:
    sign = signer_of(session, data_dir)
    sealed = audit_chain.seal(session, sign)
    days = retention_days()
    gone = audit_chain.prune(session, days, sign) if days is not None else 0
    if sealed or gone:
        log.info("audit chain: %d rows sealed, %d past retention deleted", sealed, gone)
    return sealed


def schedule_next(session: Session) -> None:
    """The next seal, at the start of the next time slot; keyed by the slot, so two workers schedule it once."""
    step = interval().total_seconds()
    slot = datetime.fromtimestamp((now().timestamp() // step + 1) * step, UTC)
    tasks.schedule(session, SEAL, at=slot, key=f"audit-seal:{slot.isoformat()}")


def ensure(session: Session) -> None:
    """A seal scheduled (once, whoever asks), unless one is waiting already."""
    if session.scalar(select(Task.id).where(Task.kind == SEAL, Task.status.in_(tasks.ACTIVE))) is None:
        schedule_next(session)


def run(ctx: TaskContext) -> None:
    assert ctx.session is not None
    with unit_of_work(ctx.factory) as s:  # the next seal first, on its own: a seal that fails never ends the series
        schedule_next(s)
    seal_now(ctx.session, Path(ctx.services["data_dir"]))


TASKS = (TaskKind(SEAL, run),)
