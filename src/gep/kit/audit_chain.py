"""The audit log's tamper-evident chain, its export for an external archive, and its retention.

Rows are written by many transactions at once, so they are chained afterwards: `seal` gives every row not yet
sealed, in id order, the next number `seq` and `hash = SHA-256(previous hash, the row's content)`, and records
the newest (seq, hash) in an `AuditSeal`, signed by the platform's key (the worker seals every few minutes, and
`gep audit seal|verify|export|prune` seal first). A row edited after sealing no longer matches its
hash; a deleted one leaves a gap in `seq`; deleting the newest rows leaves a signed seal pointing past the end.
Seals, export records and retention checkpoints are all signed, and checked against the public keys kept in the
data folder's `keys/` (never those in the database), so someone who can write to the database can neither re-sign
a rewritten chain nor plant a checkpoint that hides deleted rows; an export kept off the server also shows any
later change (`gep audit verify --export`). Rows written since the last seal are not yet
protected: that window is the sealing interval.

Retention deletes only sealed rows older than the retention that an export has already covered, and records a
checkpoint (the last deleted row's seq and hash) from which the chain is checked afterwards. China's
Cybersecurity Law (art. 21) asks network operators to keep logs at least six months: shorter is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from gep.db import Base, UtcDateTime
from gep.errors import N_, InputError
from gep.kit.audit import AuditEntry, aware, now

log = logging.getLogger(__name__)
GENESIS = "0" * 64
MIN_RETENTION_DAYS = 183  # six months
SEAL, EXPORT, PRUNE = "seal", "export", "prune"
SEAL_LOCK = 0x6765_7061  # the advisory lock's number ("gepa")
Signer = Callable[[bytes], tuple[str, bytes]]  # message -> (key id, signature)
Checker = Callable[[str, bytes, bytes], bool]  # key id, message, signature -> genuine


class AuditSeal(Base):
    """A point of the chain on record: a signed seal, an export's end, or a retention checkpoint."""

    __tablename__ = "audit_seal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(80), default="")
    signature: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


def content(row: AuditEntry) -> dict[str, Any]:
    """What a row's hash covers: every column but the chain's own."""
    # in UTC whatever the connection's time zone (a PostgreSQL session in Asia/Shanghai reads +08:00)
    return {"id": row.id, "at": aware(row.at).astimezone(UTC).isoformat(timespec="microseconds"),
            "user_id": row.user_id, "action": row.action, "entity": row.entity, "entity_id": row.entity_id,
            "detail": row.detail or {}, "note": row.note or ""}


def row_hash(prev: str, seq: int, fields: dict[str, Any]) -> str:
    canonical = json.dumps({"prev": prev, "seq": seq, **fields}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def seal_message(kind: str, seq: int, digest: str) -> bytes:
    """What the platform's key signs for a seal, an export's end or a retention checkpoint."""
    return f"gep-audit-{kind}:{seq}:{digest}".encode()


def tip(session: Session) -> tuple[int, str]:
    """The newest (seq, hash) on record: of the sealed rows, or of a seal or checkpoint beyond them (so rows cut off
    the end are never numbered again: the gap stays visible), or the start."""
    row = session.execute(select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.is_not(None))
                          .order_by(AuditEntry.seq.desc()).limit(1)).first()
    mark = session.execute(select(AuditSeal.seq, AuditSeal.hash).where(AuditSeal.kind.in_((SEAL, PRUNE)))
                           .order_by(AuditSeal.seq.desc()).limit(1)).first()
    found = [(int(r[0] or 0), str(r[1])) for r in (row, mark) if r is not None]
    return max(found, key=lambda f: f[0]) if found else (0, GENESIS)


def hold(session: Session) -> None:
    """Take the chain's lock for the rest of the transaction: sealing, pruning and verifying take turns, so a
    verification never sees half of a seal (PostgreSQL: an advisory lock; SQLite: the database's write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK})
        return
    raw = session.connection().connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _checkpoint(session: Session) -> AuditSeal | None:
    return session.scalars(select(AuditSeal).where(AuditSeal.kind == PRUNE).order_by(AuditSeal.seq.desc())
                           .limit(1)).first()


def seal(session: Session, sign: Signer | None = None, limit: int = 50_000) -> int:
    """Chain the rows not yet sealed (up to `limit`), in id order, and record the new tip (signed when `sign` is
    given). Sealers take turns (a transaction-scoped advisory lock on PostgreSQL); and each row is numbered only
    if it is still unnumbered, so a sealer that raced another anyway (SQLite, a lock-less database) seals nothing
    rather than renumbering the other's rows."""
    hold(session)
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id)
                                .limit(limit)))
    if not rows:
        return 0
    seq, prev = tip(session)
    try:
        with session.begin_nested():
            for row in rows:
                seq += 1
                digest = row_hash(prev, seq, content(row))
                done = session.execute(update(AuditEntry).where(AuditEntry.id == row.id, AuditEntry.seq.is_(None))
                                       .values(seq=seq, hash=digest).execution_options(synchronize_session=False))
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    raise _Raced
                prev = digest
            key_id, signature = sign(seal_message(SEAL, seq, prev)) if sign else ("", b"")
            session.add(AuditSeal(kind=SEAL, seq=seq, hash=prev, key_id=key_id, signature=signature, at=now(),
                                  detail={"rows": len(rows)}))
            session.flush()
    except (_Raced, IntegrityError):
        log.info("audit chain: another seal ran at the same moment; this one sealed nothing")
        return 0
    finally:
        for row in rows:
            session.expire(row)
    return len(rows)


class _Raced(Exception):
    pass


@dataclass(frozen=True)
class Problem:
    message: str  # msgid
    params: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    checked: int
    first_seq: int
    last_seq: int
    unsealed: int
    problems: list[Problem]


def verify(session: Session, check: Checker | None = None) -> Verdict:
    """Recompute the chain from the start (or the last retention checkpoint) and check every seal, export record
    and checkpoint against it and against the platform's keys (`check`), holding the chain's lock meanwhile."""
    hold(session)
    checkpoint = _checkpoint(session)
    start, prev = (checkpoint.seq, checkpoint.hash) if checkpoint else (0, GENESIS)
    problems: list[Problem] = []
    hashes: dict[int, str] = {}
    expected, checked = start + 1, 0
    for row in session.scalars(select(AuditEntry).where(AuditEntry.seq > start).order_by(AuditEntry.seq)
                               .execution_options(yield_per=2000)):
        assert row.seq is not None and row.hash is not None
        if row.seq != expected:
            problems.append(Problem(N_("audit rows {first}–{last} of the chain are missing: they were deleted"),
                                    {"first": expected, "last": row.seq - 1}))
        elif row_hash(prev, row.seq, content(row)) != row.hash:
            problems.append(Problem(N_("audit row {id} (chain number {seq}) was changed after it was sealed"),
                                    {"id": row.id, "seq": row.seq}))
        prev, expected, checked = row.hash, row.seq + 1, checked + 1
        hashes[row.seq] = row.hash
    last = expected - 1
    for s in session.scalars(select(AuditSeal).order_by(AuditSeal.id)):
        if check is not None and not check(s.key_id, seal_message(s.kind, s.seq, s.hash), s.signature):
            problems.append(Problem(N_("the seal at {seq} is not signed by a key of the platform"), {"seq": s.seq}))
        if s.kind != SEAL or s.seq <= start:
            continue
        if s.seq > last:
            problems.append(Problem(N_("a seal of {at} covers the chain up to {seq}, but it ends at {last}: the "
                                       "newest rows were deleted"), {"at": aware(s.at).isoformat(timespec="seconds"),
                                                                    "seq": s.seq, "last": last}))
        elif hashes.get(s.seq, s.hash) != s.hash:
            problems.append(Problem(N_("the chain at {seq} no longer matches its seal of {at}"),
                                    {"seq": s.seq, "at": aware(s.at).isoformat(timespec="seconds")}))
    exported = exported_through(session)
    if checkpoint is not None and checkpoint.seq > exported:
        problems.append(Problem(N_("the retention checkpoint at {seq} lies past the last export ({exported}): "
                                   "rows were deleted that no export holds"),
                                {"seq": checkpoint.seq, "exported": exported}))
    unsealed = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))) or 0
    return Verdict(checked, start + 1, last, int(unsealed), problems)


def export_rows(session: Session, since_seq: int = 0) -> Iterator[dict[str, Any]]:
    """The sealed rows after `since_seq`, with their chain numbers and hashes, for an external archive."""
    for row in session.scalars(select(AuditEntry).where(AuditEntry.seq > since_seq).order_by(AuditEntry.seq)
                               .execution_options(yield_per=2000)):
        yield {"seq": row.seq, "hash": row.hash, **content(row)}


def exported_through(session: Session) -> int:
    return int(session.scalar(select(func.max(AuditSeal.seq)).where(AuditSeal.kind == EXPORT)) or 0)


def record_export(session: Session, seq: int, digest: str, name: str, sha256: str, rows: int,
                  sign: Signer | None = None) -> None:
    key_id, signature = sign(seal_message(EXPORT, seq, digest)) if sign else ("", b"")
    session.add(AuditSeal(kind=EXPORT, seq=seq, hash=digest, key_id=key_id, signature=signature, at=now(),
                          detail={"file": name, "sha256": sha256, "rows": rows}))


def check_export(session: Session, rows: Iterator[dict[str, Any]]) -> list[Problem]:
    """Compare an exported file with the database: every exported row still there, unchanged (or pruned)."""
    checkpoint = _checkpoint(session)
    pruned = checkpoint.seq if checkpoint else 0
    problems: list[Problem] = []
    for kept in rows:
        seq = int(kept["seq"])
        if checkpoint is not None and seq == checkpoint.seq and kept["hash"] != checkpoint.hash:
            problems.append(Problem(N_("the retention checkpoint at {seq} differs from the exported row"),
                                    {"seq": seq}))
        if seq <= pruned:
            continue
        row = session.scalar(select(AuditEntry).where(AuditEntry.seq == seq))
        if row is None:
            problems.append(Problem(N_("exported audit row {id} (chain number {seq}) is no longer in the database"),
                                    {"id": kept["id"], "seq": seq}))
        elif row.hash != kept["hash"] or content(row) != {k: kept[k] for k in content(row)}:
            problems.append(Problem(N_("audit row {id} (chain number {seq}) differs from its export"),
                                    {"id": kept["id"], "seq": seq}))
    return problems


def prune(session: Session, days: int, sign: Signer | None = None, at: datetime | None = None) -> int:
    """Delete the sealed rows older than `days` that an export has covered; keep a signed checkpoint of the last."""
    if days < MIN_RETENTION_DAYS:
        raise InputError(N_("the audit log is kept at least {min} days (six months, Cybersecurity Law art. 21); "
                            "{days} is too short"), min=MIN_RETENTION_DAYS, days=days)
    hold(session)
    cutoff = (at or now()) - timedelta(days=days)
    covered = exported_through(session)
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash)
                           .where(AuditEntry.seq.is_not(None), AuditEntry.seq <= covered, AuditEntry.at < cutoff)
                           .order_by(AuditEntry.seq.desc()).limit(1)).first()
    if last is None:
        return 0
    # only a prefix of the chain may go: the rows up to the newest old-and-exported one
    done = session.execute(delete(AuditEntry).where(AuditEntry.seq <= last[0])
                           .execution_options(synchronize_session=False))
    gone = int(done.rowcount or 0)  # type: ignore[attr-defined]
    key_id, signature = sign(seal_message(PRUNE, int(last[0] or 0), str(last[1]))) if sign else ("", b"")
    session.add(AuditSeal(kind=PRUNE, seq=int(last[0] or 0), hash=str(last[1]), key_id=key_id, signature=signature,
                          at=now(), detail={"rows": gone, "older_than_days": days}))
    return int(gone or 0)


def describe(problem: Problem, gettext: Callable[[str], str] = lambda s: s) -> str:
    return gettext(problem.message).format(**problem.params)
